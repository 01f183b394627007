import { readFileSync } from "node:fs";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, inject, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { parseLeaseData } from "../../contract/lease-record.ts";
import { kubectl } from "../../cluster/kubectl.ts";
import { createTestNamespace } from "../../e2e/control-plane/test-namespace.ts";
import { kubeConfigForServiceAccount } from "../../e2e/control-plane/user-kubeconfig.ts";
import { startOperator, type RunningOperator } from "../src/operator.ts";
import { deleteFleet, readFleet, waitFor } from "./operator-harness.ts";

const running: RunningOperator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop()));
});

/** The sample documents, moved into the test's namespace. */
function samples(file: string, namespace: string): string {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => {
      const obj = d.toJS() as { metadata: { namespace?: string } };
      obj.metadata.namespace = namespace;
      return `---\n${stringify(obj)}`;
    })
    .join("");
}

/**
 * install.yaml without its APIServices. They are cluster-wide and point at a Service nobody
 * serves here: left behind they would break discovery for every other test, and
 * custom-metrics-server.int.test.ts registers the same two (as shipped) against a real server.
 */
function installWithoutApiServices(): string {
  return parseAllDocuments(readFileSync("config/install.yaml", "utf8"))
    .filter((d) => (d.toJS() as { kind?: string } | null)?.kind !== "APIService")
    .map((d) => `---\n${d.toString()}`)
    .join("");
}

describe("config/install.yaml", () => {
  it("installs, and its least-privilege RBAC is all the operator needs to run the samples", async () => {
    const kubeconfig = inject("kubeconfig");
    await kubectl(
      ["apply", "--server-side", "--force-conflicts", "--field-manager=idfleet-install-test", "-f", "-"],
      { kubeconfig, input: installWithoutApiServices() },
    );
    const { name: ns, kubeConfig: admin } = await createTestNamespace("install");
    const asOperator = await kubeConfigForServiceAccount(admin, "idfleet-system", "idfleet-operator");
    const op = await startOperator(
      asOperator,
      {
        generatorImage: "idfleet/generator:test",
        host: "127.0.0.1",
        port: 0,
        workers: 2,
        watchNamespace: ns,
        leaderElection: {
          namespace: "idfleet-system",
          name: "idfleet-operator",
          identity: `install-test-${ns}`,
        },
        ledgerNamespace: "idfleet-system",
      },
      () => undefined,
    );
    running.push(op);
    await waitFor("leadership as the operator's ServiceAccount", () => op.isLeader(), 40_000);

    await kubectl(["apply", "-f", "-"], {
      kubeconfig,
      input: samples("config/samples/idfleet-sample.yaml", ns),
    });
    await kubectl(["apply", "-f", "-"], {
      kubeconfig,
      input: samples("config/samples/shared-id-space.yaml", ns),
    });

    const apps = admin.makeApiClient(AppsV1Api);
    const core = admin.makeApiClient(CoreV1Api);
    for (const fleet of ["idfleet-sample", "orders-eu", "orders-us"]) {
      await waitFor(`StatefulSet ${fleet}`, () =>
        apps.readNamespacedStatefulSet({ name: fleet, namespace: ns }),
      );
    }
    // The shared id space: one ledger, and each fleet's ids inside its own range.
    const leases = await waitFor("four leases of the shared space", async () => {
      const list = await core.listNamespacedConfigMap({
        namespace: ns,
        labelSelector: "idfleet.dev/id-space=orders,app.kubernetes.io/component=worker-lease",
      });
      return list.items.length === 4 ? list.items.map((cm) => parseLeaseData(cm.data)) : undefined;
    });
    for (const l of leases) {
      const range = l.holderPod.startsWith("orders-eu") ? [0, 511] : [512, 1023];
      expect(l.workerId).toBeGreaterThanOrEqual(range[0]!);
      expect(l.workerId).toBeLessThanOrEqual(range[1]!);
    }
    expect(new Set(leases.map((l) => l.workerId)).size).toBe(4);
    await core.readNamespacedConfigMap({ name: "orders-worker-ids", namespace: "idfleet-system" });

    const sample = await waitFor("sample status", async () => {
      const f = await readFleet(admin, ns, "idfleet-sample");
      return f?.status?.conditions?.length ? f : undefined;
    });
    expect(sample.status?.conditions?.find((c) => c.type === "Degraded")).toMatchObject({ status: "False" });

    await deleteFleet(admin, ns, "idfleet-sample");
    await waitFor(
      "sample fleet deleted",
      async () => (await readFleet(admin, ns, "idfleet-sample")) === undefined,
      60_000,
    );
  });
});
