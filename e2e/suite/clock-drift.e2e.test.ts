/**
 * Clock drift end to end: a fleet polls an NTP server in the cluster that can lie (the generator's own
 * test responder, run in a pod). Lying to one pod by 5 s makes that pod's clock look skewed: it turns
 * unready and stops issuing, reports the offset in its lease, and the operator shows it in
 * `kubectl get idfleets` (Max-Offset), in the ClockDrift condition (naming the pod and what to do) and as
 * an event, while the other pod keeps serving. When the lie stops, the pod recovers by itself.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { k, kJson } from "../../cluster/client/cluster-access.ts";
import {
  applyFleet,
  fetchIdsThroughService,
  getIdFleetsTable,
  installOperator,
  waitForFleetReady,
} from "../../cluster/client/operator-install.ts";
import { getFleet, type FleetObject } from "../../cluster/client/fleet-resources.ts";
import { startLyingSntpServer, type LyingSntpServer } from "./support/lying-sntp-server.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const FLEET = "drift";
const SKEW_MS = 5_000;
const MAX_DRIFT_MS = 100;
const ns = useE2eNamespace("e2e-clock-drift");

type Pod = { status: { podIP?: string; conditions?: { type: string; status: string }[] } };
const podReady = async (name: string) => {
  const pod = await kJson<Pod>(["get", "pod", "-n", ns.name, name]);
  return pod.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
};
const condition = (fleet: FleetObject, type: string) =>
  fleet.status?.conditions?.find((c) => c.type === type);
const clockOf = (fleet: FleetObject) => fleet.status?.clock ?? {};

describe("clock drift: a skewed pod turns unready, shows in kubectl and conditions, and recovers", () => {
  let sntp: LyingSntpServer;
  let skewedIp: string;

  beforeAll(async () => {
    await installOperator();
    sntp = await startLyingSntpServer(ns.name);
  });

  test("a fleet polling the (still honest) NTP server in the cluster becomes Ready", async () => {
    await applyFleet(ns.name, {
      apiVersion: "idfleet.dev/v1alpha1",
      kind: "IdGeneratorFleet",
      metadata: { name: FLEET },
      spec: {
        replicas: 2,
        clock: { ntpServers: [sntp.ntpServer], maxDriftMs: MAX_DRIFT_MS },
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      },
    });
    const fleet = await waitForFleetReady(ns.name, FLEET, 240_000);
    expect(clockOf(fleet).podsOutOfTolerance ?? 0).toBe(0);
    // Honest NTP: offsets are within the limit once the holders have reported.
    const reported = await waitFor(
      "holders report their NTP offset",
      async () => {
        const f = await getFleet(ns.name, FLEET);
        return clockOf(f).maxOffsetMs !== undefined ? f : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(clockOf(reported).maxOffsetMs).toBeLessThan(MAX_DRIFT_MS);
    console.log(`before the skew:\n${(await getIdFleetsTable(ns.name)).text}`);
  });

  test(`lying to ${FLEET}-0 by ${SKEW_MS} ms: it turns unready, kubectl get idfleets and ClockDrift say so, ${FLEET}-1 keeps serving`, async () => {
    const pod = await kJson<Pod>(["get", "pod", "-n", ns.name, `${FLEET}-0`]);
    skewedIp = pod.status.podIP ?? "";
    expect(skewedIp).not.toBe("");
    console.log("lying SNTP server:", JSON.stringify(await sntp.lie(SKEW_MS, skewedIp)));

    // The generator polls every 16 s; readiness follows at once, the lease report within a renewal (5 s).
    await waitFor(`${FLEET}-0 unready`, async () => !(await podReady(`${FLEET}-0`)), { timeoutMs: 90_000 });
    const drifting = await waitFor(
      "ClockDrift True with the skewed pod named",
      async () => {
        const f = await getFleet(ns.name, FLEET);
        return condition(f, "ClockDrift")?.status === "True" ? f : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const drift = condition(drifting, "ClockDrift")!;
    console.log(`ClockDrift: ${drift.reason}: ${drift.message}`);
    expect(drift.reason).toBe("ClockOffsetExceeded");
    expect(drift.message).toContain(`${FLEET}-0 is`);
    // The server is SKEW_MS ahead, so the pod's clock is that much behind (offset = local - server).
    expect(drift.message).toContain("behind NTP");
    expect(drift.message).not.toContain(`${FLEET}-1 `);
    expect(clockOf(drifting).podsOutOfTolerance).toBe(1);
    expect(clockOf(drifting).maxOffsetMs).toBeGreaterThan(SKEW_MS - 1_000);
    expect(condition(drifting, "Ready")?.status).toBe("False");

    const table = await getIdFleetsTable(ns.name);
    console.log(`kubectl get idfleets while ${FLEET}-0 is skewed:\n${table.text}`);
    const row = table.rows.find((r) => r.NAME === FLEET)!;
    expect(Number(row["MAX-OFFSET"])).toBeGreaterThan(SKEW_MS - 1_000);
    expect(row.READY).toBe("1");

    const described = await k(["describe", "idfleet", "-n", ns.name, FLEET]);
    console.log(`kubectl describe idfleet ${FLEET}:\n${described}`);
    expect(described).toContain("ClockOffsetExceeded");
    expect(described).toContain("spec.clock.ntpServers");

    // The healthy pod still serves through the Service (which routes to ready pods only).
    const ids = await fetchIdsThroughService(ns.name, FLEET, 200, { requests: 10 });
    expect(new Set(ids).size).toBe(200);
    expect(await podReady(`${FLEET}-1`)).toBe(true);
  });

  test("when the lie stops, the pod turns ready again, ClockDrift clears and an event says so", async () => {
    await sntp.lie(0, skewedIp);
    await waitFor(`${FLEET}-0 ready again`, () => podReady(`${FLEET}-0`), { timeoutMs: 90_000 });
    const recovered = await waitFor(
      "ClockDrift False",
      async () => {
        const f = await getFleet(ns.name, FLEET);
        return condition(f, "ClockDrift")?.status === "False" && condition(f, "Ready")?.status === "True"
          ? f
          : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(clockOf(recovered).podsOutOfTolerance).toBe(0);
    expect(clockOf(recovered).maxOffsetMs).toBeLessThan(MAX_DRIFT_MS);
    console.log(`after the skew:\n${(await getIdFleetsTable(ns.name)).text}`);
    const events = await k([
      "get",
      "events",
      "-n",
      ns.name,
      "--field-selector",
      `involvedObject.name=${FLEET},involvedObject.kind=IdGeneratorFleet`,
      "--sort-by=.lastTimestamp",
    ]);
    console.log(`fleet events:\n${events}`);
    expect(events).toMatch(/Warning\s+ClockOffsetExceeded/);
    expect(events).toMatch(/Normal\s+ClocksInTolerance/);
  });
});
