import { describe, expect, it } from "vitest";
import { EMPTY_LEDGER, type LeaseData } from "../../../contract/lease-record.ts";
import { fleetFixture } from "../../test/fleet-fixture.ts";
import { computeFleetStatus, rollUpLeases, type FleetObservation } from "./fleet-status.ts";
import { mergeConditions } from "./conditions.ts";

const lease = (over: Partial<LeaseData>): LeaseData => ({
  workerId: 0,
  idSpace: "ids",
  state: "Active",
  holderPod: "ids-0",
  holderUid: "u0",
  assignment: 1,
  handoverAfter: 0,
  reservedUntil: 0,
  leaseDurationSeconds: 15,
  renewCount: 1,
  renewTime: "",
  ...over,
});

const observation = (over: Partial<FleetObservation> = {}): FleetObservation => ({
  pods: 3,
  readyPods: 3,
  runnableReplicas: 3,
  workerIdShortage: null,
  leasedWorkers: 3,
  leases: [],
  rollingOut: false,
  conflicts: [],
  waiting: [],
  podProblems: [],
  problems: [],
  ledger: EMPTY_LEDGER,
  ...over,
});

const cond = (status: { conditions?: { type: string; message: string }[] }, type: string) =>
  status.conditions!.find((c) => c.type === type);
const now = new Date("2026-11-21T12:00:00.123Z");

describe("fleet status", () => {
  it("reports a healthy fleet as Ready, not Progressing, with capacity and the layout's end", () => {
    const fleet = fleetFixture({ replicas: 3 });
    const s = computeFleetStatus(fleet, observation(), now);
    expect(s).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      selector: "app.kubernetes.io/name=idfleet-generator,idfleet.dev/fleet=ids",
      capacityIdsPerSecond: 3 * 4_096_000,
      layoutExhaustsAt: "2093-09-06T15:47:35Z",
      idsPassSafeIntegerAt: "2024-01-25T20:31:23Z",
      workerIds: {
        inRange: 1024,
        freeInRange: 1024,
        heldByFleet: 0,
        inIdSpace: 1024,
        freeInIdSpace: 1024,
        maxReplicas: 3,
      },
      capacityForecast: expect.stringContaining("spec.replicas 3 is covered"),
    });
    expect(cond(s, "Ready")).toMatchObject({
      status: "True",
      reason: "AllPodsReady",
      observedGeneration: 1,
      lastTransitionTime: "2026-11-21T12:00:00Z",
    });
    expect(cond(s, "Progressing")).toMatchObject({ status: "False" });
    expect(cond(s, "Degraded")).toMatchObject({ status: "False" });
  });

  it("says so when replicas exceed the worker ids that can be leased", () => {
    const fleet = fleetFixture({ replicas: 5 });
    const s = computeFleetStatus(
      fleet,
      observation({ runnableReplicas: 3, workerIdShortage: { free: 3, overlappingFleets: ["other"] } }),
      now,
    );
    expect(cond(s, "WorkerIdsExhausted")).toMatchObject({
      status: "True",
      reason: "NotEnoughWorkerIds",
      message: expect.stringMatching(
        /^spec\.replicas is 5 but only 3 worker ids are free .*\(other\).* lower spec\.replicas to 3 or /,
      ),
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "False" });
    expect(cond(s, "Degraded")).toMatchObject({ status: "True", reason: "WorkerIdsExhausted" });
  });

  it("raises ClockDrift from the holders' reports and rolls up offsets and utilization", () => {
    const fleet = fleetFixture({ replicas: 3, clock: { maxDriftMs: 100 } });
    const leases = [
      lease({ clockOffsetMs: 12, sequenceUtilization: 0.1 }),
      lease({ clockOffsetMs: -250, sequenceUtilization: 0.5, clockHealthy: false }),
      lease({ clockOffsetMs: 1, state: "Released", sequenceUtilization: 0.9 }),
    ];
    expect(rollUpLeases(leases, 100)).toEqual({
      clock: { maxOffsetMs: 250, meanOffsetMs: -119, podsOutOfTolerance: 1 },
      sequenceUtilization: { max: 0.5, mean: 0.3 },
    });
    const s = computeFleetStatus(fleet, observation({ leases, readyPods: 2 }), now);
    expect(cond(s, "ClockDrift")).toMatchObject({ status: "True", reason: "ClockOffsetExceeded" });
    expect(cond(s, "Ready")).toMatchObject({ status: "False" });
    const crashing = computeFleetStatus(
      fleet,
      observation({ readyPods: 2, podProblems: ["ids-2: CrashLoopBackOff"] }),
      now,
    );
    expect(cond(crashing, "Ready")!.message).toContain("ids-2: CrashLoopBackOff");
  });

  it("reports overlapping worker-id ranges and reconcile problems as Degraded", () => {
    const fleet = fleetFixture();
    const s = computeFleetStatus(
      fleet,
      observation({
        pods: 1,
        readyPods: 1,
        runnableReplicas: 1,
        conflicts: ["fleet other shares id space ids and holds 2 worker id(s) in this fleet's range 0-1023"],
      }),
      now,
    );
    expect(cond(s, "WorkerIdConflict")).toMatchObject({ status: "True" });
    const p = computeFleetStatus(
      fleet,
      observation({ pods: 1, readyPods: 1, runnableReplicas: 1, problems: ["applying StatefulSet: 422"] }),
      now,
    );
    expect(cond(p, "Degraded")).toMatchObject({
      status: "True",
      reason: "ReconcileFailed",
      message: "applying StatefulSet: 422",
    });
  });

  it("keeps lastTransitionTime while a condition's status stays the same", () => {
    const first = mergeConditions(
      undefined,
      [{ type: "Ready", status: "True", reason: "A", message: "" }],
      1,
      new Date("2026-01-01T00:00:00Z"),
    );
    const same = mergeConditions(
      first,
      [{ type: "Ready", status: "True", reason: "B", message: "x" }],
      2,
      new Date("2026-01-02T00:00:00Z"),
    );
    expect(same[0]).toMatchObject({
      lastTransitionTime: "2026-01-01T00:00:00Z",
      reason: "B",
      observedGeneration: 2,
    });
    const flipped = mergeConditions(
      same,
      [{ type: "Ready", status: "False", reason: "C", message: "" }],
      2,
      new Date("2026-01-03T00:00:00Z"),
    );
    expect(flipped[0]!.lastTransitionTime).toBe("2026-01-03T00:00:00Z");
  });
});
