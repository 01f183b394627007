import { afterEach, describe, expect, inject, it } from "vitest";
import { AppsV1Api } from "@kubernetes/client-node";
import type { FleetStatus } from "../../contract/fleet-spec.ts";
import { GeneratorEnv } from "../../contract/generator-env.ts";
import { kubectl } from "../../e2e/cluster/kubectl.ts";
import { createTestNamespace } from "../../e2e/control-plane/test-namespace.ts";
import type { RunningOperator } from "../src/operator.ts";
import { createFleet, patchFleet, readFleet, startTestOperator, waitFor } from "./operator-harness.ts";

const running: RunningOperator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop()));
});

// Capacity in plain sight, through the real API server: the status fields pass the CRD's
// schema, the printer columns and `kubectl describe` show them, the operator exports the
// forecast the alerts use.
describe("a fleet's capacity forecast and sequence start", () => {
  it("shows worker ids left, the layout's end and the 2^53 date in status, kubectl get and describe", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("fleet-capacity");
    const op = await startTestOperator(kubeConfig, ns, "op-a");
    running.push(op);
    await waitFor("leadership", () => op.isLeader());
    await createFleet(kubeConfig, ns, "ids", {
      replicas: 2,
      idSpace: { name: "orders", workerIdRange: { min: 0, max: 3 } },
      autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4 },
    });

    const fleet = await waitFor("capacity status", async () => {
      const f = await readFleet(kubeConfig, ns, "ids");
      return (f?.status as FleetStatus | undefined)?.workerIds?.heldByFleet === 2 ? f : undefined;
    });
    expect(fleet.status).toMatchObject({
      layoutExhaustsAt: "2093-09-06T15:47:35Z",
      idsPassSafeIntegerAt: "2024-01-25T20:31:23Z",
      workerIds: {
        inRange: 4,
        freeInRange: 2,
        heldByFleet: 2,
        inIdSpace: 1024,
        freeInIdSpace: 1022,
        maxReplicas: 4,
      },
    });
    expect(fleet.status?.capacityForecast).toContain(
      "spec.autoscaling.maxReplicas 4 is covered (4 ids held or free).",
    );

    const kubeconfig = inject("kubeconfig");
    const wide = await kubectl(["get", "idfleet", "ids", "-n", ns, "-o", "wide"], { kubeconfig });
    const [header, row] = wide.trim().split("\n") as [string, string];
    expect(header.split(/\s+/)).toEqual(expect.arrayContaining(["FREE-IDS", "LAYOUT-ENDS", "PAST-2^53"]));
    expect(row).toMatch(/\b2\s+2093-09-06T15:47:35Z\s+2024-01-25T20:31:23Z\b/);

    const described = await kubectl(["describe", "idfleet", "ids", "-n", ns], { kubeconfig });
    expect(described).toMatch(
      /Capacity Forecast:\s+Worker ids: 2 of 4 free in range 0-3, this fleet holds 2/,
    );
    expect(described).toMatch(/Worker Ids:\s+Free In Id Space:\s+1022/);

    const exported = (await op.metrics.registry.metrics()).split("\n");
    const labels = `{namespace="${ns}",fleet="ids"}`;
    expect(exported).toContain(`idfleet_worker_ids_reachable${labels} 4`);
    expect(exported).toContain(`idfleet_replicas_max${labels} 4`);
    expect(exported).toContain(
      `idfleet_layout_exhaustion_timestamp_seconds${labels} ${Date.parse("2093-09-06T15:47:35.552Z") / 1000}`,
    );
  });

  it("renders spec.sequence.start rolling into the generator env, and nothing for the default", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("fleet-sequence-start");
    const op = await startTestOperator(kubeConfig, ns, "op-a");
    running.push(op);
    await waitFor("leadership", () => op.isLeader());
    await createFleet(kubeConfig, ns, "ids", { replicas: 1, sequence: { start: "rolling" } });
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const envOf = async () =>
      (await apps.readNamespacedStatefulSet({ name: "ids", namespace: ns })).spec!.template.spec!
        .containers[0]!.env;
    const rolling = await waitFor("StatefulSet", envOf);
    expect(rolling?.find((e) => e.name === GeneratorEnv.sequenceStart)?.value).toBe("rolling");

    await patchFleet(kubeConfig, ns, "ids", [{ op: "replace", path: "/spec/sequence/start", value: "zero" }]);
    await waitFor("the variable gone", async () =>
      (await envOf())?.every((e) => e.name !== GeneratorEnv.sequenceStart) ? true : undefined,
    );
  });
});
