import { EMPTY_LEDGER } from "../../../contract/lease-record.ts";
import { describe, expect, it } from "vitest";
import { leaseSyncReport } from "./lease-sync-report.ts";
import { EMPTY_OBSERVATIONS, type Plan } from "./worker-id-planner.ts";

const plan: Plan = {
  actions: [{ kind: "delete-lease", configMapName: "ids-0-lease", resourceVersion: "1", reason: "gone" }],
  allocatableReplicas: 2,
  exhausted: true,
  conflicts: [{ kind: "overlap", message: "fleet b holds 1" }],
  leasedWorkers: 1,
  staleLeases: ["ids-1-lease"],
  waitingPods: [{ pod: "ids-2", message: "no free worker id" }],
  layoutConflict: null,
  successionWaiting: "waits",
  requeueAfterMs: 500,
  observations: EMPTY_OBSERVATIONS,
};

describe("lease sync report", () => {
  it("carries what the reconcile sizes, reports and requeues by, and none of the plan's writes or memory", () => {
    const report = leaseSyncReport(plan, { leases: [], ledger: EMPTY_LEDGER, applied: ["ledger: created"] });
    expect(report).toEqual({
      allocatableReplicas: 2,
      exhausted: true,
      conflicts: [{ kind: "overlap", message: "fleet b holds 1" }],
      leasedWorkers: 1,
      waitingPods: [{ pod: "ids-2", message: "no free worker id" }],
      layoutConflict: null,
      successionWaiting: "waits",
      requeueAfterMs: 500,
      leases: [],
      ledger: EMPTY_LEDGER,
      applied: ["ledger: created"],
    });
  });

  it("says why a sync stopped early", () => {
    expect(
      leaseSyncReport(plan, { leases: [], ledger: EMPTY_LEDGER, applied: [], interrupted: "409" })
        .interrupted,
    ).toBe("409");
  });
});
