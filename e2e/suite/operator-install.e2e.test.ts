/**
 * Installing and removing the operator never leaves an APIService behind that nobody serves: the
 * namespace controller cannot discover every resource while one exists, so every namespace being
 * deleted anywhere in the cluster would stay Terminating (NamespaceDeletionDiscoveryFailure).
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { k, kJson } from "../../cluster/client/cluster-access.ts";
import { operatorApiServices } from "../../cluster/client/custom-metrics-install.ts";
import {
  installOperator,
  OPERATOR_NAMESPACE,
  uninstallOperator,
} from "../../cluster/client/operator-install.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const API_SERVICES = ["v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io"];

describe("operator install and removal leave namespace deletion working", () => {
  it("installing without custom metrics removes the APIServices an earlier install registered", async () => {
    await installOperator();
    expect(await operatorApiServices()).toEqual(API_SERVICES);

    await installOperator({ customMetrics: false });
    expect(await operatorApiServices()).toEqual([]);
    expect(
      await k(["get", "service", "-n", OPERATOR_NAMESPACE, "--ignore-not-found", "-o", "name"]),
    ).not.toMatch(/idfleet-custom-metrics/);
    await expectNamespaceDeletes();

    // Back to the install every other file expects (it waits until the APIServices are Available again).
    await installOperator();
    expect(await operatorApiServices()).toEqual(API_SERVICES);
  });

  it("uninstalling removes the APIServices with the operator", async (context) => {
    await installOperator();
    // Uninstalling takes the CRD, and with it every fleet on this (possibly shared) cluster. Fleets in the
    // namespaces earlier files deleted are on their way out (their finalizer waits out the fence): wait for those.
    const fleets = await waitFor(
      "fleets being deleted to be gone",
      async () => {
        const list = await kJson<FleetList>(["get", "idgeneratorfleets", "--all-namespaces"]);
        // A fleet in a namespace being deleted counts too: the namespace controller may not have got to it yet.
        const terminating = new Set(
          (await kJson<NamespaceList>(["get", "namespaces"])).items
            .filter((n) => n.status?.phase === "Terminating")
            .map((n) => n.metadata.name),
        );
        const deleting = list.items.filter(
          (f) => f.metadata.deletionTimestamp !== undefined || terminating.has(f.metadata.namespace),
        );
        if (deleting.length) throw new Error(`still deleting: ${deleting.map(fleetName).join(", ")}`);
        return list.items.map(fleetName);
      },
      { timeoutMs: 240_000, intervalMs: 2_000 },
    );
    if (fleets.length) {
      console.log(`[operator-install] skipped: uninstalling would delete the fleets ${fleets.join(", ")}`);
      context.skip();
    }
    await uninstallOperator();
    expect(await operatorApiServices()).toEqual([]);
    expect(await k(["get", "namespace", OPERATOR_NAMESPACE, "--ignore-not-found", "-o", "name"])).toBe("");
    await expectNamespaceDeletes();

    await installOperator();
    expect(await operatorApiServices()).toEqual(API_SERVICES);
  });
});

type FleetList = { items: { metadata: { namespace: string; name: string; deletionTimestamp?: string } }[] };
const fleetName = (f: FleetList["items"][number]) => `${f.metadata.namespace}/${f.metadata.name}`;
type NamespaceList = { items: ({ metadata: { name: string } } & NamespaceStatus)[] };

type NamespaceStatus = {
  status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] };
};

// An empty namespace is gone within seconds unless discovery fails; the error says why it is not.
async function expectNamespaceDeletes(): Promise<void> {
  const name = `ns-deletion-${randomBytes(3).toString("hex")}`;
  await k(["create", "namespace", name]);
  await k(["delete", "namespace", name, "--wait=false"]);
  await waitFor(
    `namespace ${name} to be deleted`,
    async () => {
      const ns = await kJson<NamespaceStatus>(["get", "namespace", name]).catch((e: unknown) =>
        String(e).includes("NotFound") ? undefined : Promise.reject(e),
      );
      if (ns === undefined) return true;
      const failing = ns.status?.conditions?.filter((c) => c.type.endsWith("Failure") && c.status === "True");
      throw new Error(`${ns.status?.phase}: ${failing?.map((c) => `${c.type}: ${c.message}`).join("; ")}`);
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}
