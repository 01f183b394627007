/**
 * Serving through an autoscaling cycle (docs/serving.md): a load pod drives a fleet's CPU up, the HPA
 * scales it up, the load stops and the HPA scales it back down; meanwhile clients pull IDs through the
 * fleet's client Service without retrying (kept-alive and new-connection clients). Every one of their
 * requests must succeed and no ID may repeat.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { FleetResource } from "../../contract/fleet-spec.ts";
import { getFleet } from "../../cluster/client/fleet-resources.ts";
import { requireImage } from "../../cluster/client/images.ts";
import { startLoad } from "./support/load-generator.ts";
import { applyFleet, waitForFleetReady } from "../../cluster/client/fleet-resources.ts";
import { installOperator } from "../../cluster/client/operator-install.ts";
import { startReplicaTimeline } from "./support/replica-timeline.ts";
import { pullerSummary, startServicePullers } from "./support/service-pullers.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const ns = useE2eNamespace("e2e-serving-hpa");
const FLEET = "hpa";
const PORT = 8080;

async function waitForReplicas(predicate: (n: number) => boolean, what: string): Promise<number> {
  return waitFor(
    `${FLEET} ${what}`,
    async () => {
      const f = await getFleet(ns.name, FLEET);
      const ready = f.status?.readyReplicas ?? 0;
      const desired = f.spec.replicas ?? 0;
      if (predicate(desired) && ready === desired) return desired;
      throw new Error(`spec.replicas ${String(desired)}, ready ${String(ready)}`);
    },
    { timeoutMs: 240_000, intervalMs: 3_000 },
  );
}

describe("serving through an HPA scale-up and scale-down", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("clients of the Service see no failed request and no repeated ID while the HPA scales 1 -> n -> 1", async () => {
    await applyFleet(ns.name, {
      apiVersion: FleetResource.apiVersion,
      kind: FleetResource.kind,
      metadata: { name: FLEET },
      spec: {
        replicas: 1,
        service: { port: PORT },
        resources: { requests: { cpu: "100m", memory: "96Mi" }, limits: { memory: "256Mi" } },
        autoscaling: {
          enabled: true,
          minReplicas: 1,
          maxReplicas: 3,
          targetCPUUtilizationPercentage: 50,
          // Down after 15 s of low load instead of 5 minutes; up at once.
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: 15,
              policies: [{ type: "Percent", value: 100, periodSeconds: 5 }],
            },
            scaleUp: { stabilizationWindowSeconds: 0 },
          },
        },
      },
    });
    await waitForFleetReady(ns.name, FLEET, 180_000);
    const pullers = await startServicePullers(
      ns.name,
      requireImage("generator"),
      FLEET,
      PORT,
      // Light: the clients themselves must not hold the fleet above its CPU target.
      { keepAlive: 3, fresh: 3, count: 50, timeoutMs: 3000, pauseMs: 100, maxSeconds: 480 },
      "pullers-hpa",
    );
    await pullers.flowing();
    const timeline = startReplicaTimeline(ns.name, FLEET);
    let peak: number | undefined;
    try {
      timeline.setPhase("load");
      const load = await startLoad(
        ns.name,
        requireImage("smoke"),
        `http://${FLEET}.${ns.name}.svc:${String(PORT)}/v1/ids?count=2000`,
        { concurrency: 6, maxSeconds: 180, maxRequests: 400_000 },
        "load-hpa",
      );
      peak = await waitForReplicas((n) => n >= 2, "scaled up to at least 2 ready pods");
      await load.stop();
      timeline.setPhase("no load");
      await waitForReplicas((n) => n === 1, "back down to 1 pod");
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      await timeline.stop();
      timeline.print("HPA cycle, target 50% of 100m CPU");
    }
    const result = await pullers.stop();
    console.log(pullerSummary(`HPA scale-up to ${String(peak ?? 0)} and back to 1`, result));
    if (result.samples.length) console.log(`  first failures:\n    ${result.samples.join("\n    ")}`);
    expect(peak ?? 0).toBeGreaterThanOrEqual(2);
    expect(result.ok).toBeGreaterThan(50);
    expect(result.failures).toEqual({});
    expect(result.duplicates).toBe(0);
  });
});
