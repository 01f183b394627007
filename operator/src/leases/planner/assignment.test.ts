import { describe, expect, it } from "vitest";
import { LeaseState, LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import { assignIds } from "./assignment.ts";
import { LedgerDraft } from "./ledger-draft.ts";
import { emptyReview } from "./lease-review.ts";
import { pendingClaims, type PendingClaim } from "./pending-claims.ts";
import { LEASE_MS, observedLease, plannerInput, storedLedger } from "./planner-input.fixtures.ts";
import type { PlannerInput } from "./planner-input.ts";
import { viewSnapshot } from "./snapshot-view.ts";
import { wantsIdFor } from "./wants-id.ts";

const pod = (ordinal: number, uid = `uid-${ordinal}`) => ({
  name: `ids-${ordinal}`,
  uid,
  ordinal,
  terminating: false,
});
const free = (reservedUntil: number): LedgerEntry => ({
  state: LedgerEntryState.Free,
  reservedUntil,
  since: "t0",
});
const claimFor = (ordinal: number, floor: number, seenReservedUntil?: number): LedgerEntry => ({
  state: LedgerEntryState.Leased,
  fleet: "ids",
  lease: `ids-${ordinal}-lease`,
  podName: `ids-${ordinal}`,
  podUid: `uid-${ordinal}`,
  assignment: 4,
  floor,
  ...(seenReservedUntil === undefined ? {} : { seenReservedUntil }),
  since: "t0",
});
/** Steps 2 and 3 alone, on a ledger holding `entries`, with nothing found in step 1. */
function assign(entries: Record<number, LedgerEntry>, overrides: Partial<PlannerInput>, settled = true) {
  const input = plannerInput({
    ledger: { resourceVersion: "1", ledger: storedLedger(entries) },
    ...overrides,
  });
  const view = viewSnapshot(input);
  const draft = new LedgerDraft(
    input.ledger.ledger,
    { nextAssignment: 10, baseFloor: 0 },
    { fleet: "ids", nowWall: "t1", leaseDurationMs: LEASE_MS },
  );
  const wantsId = wantsIdFor(false, input.desiredReplicas);
  const review = emptyReview();
  const pending: Map<string, PendingClaim> = pendingClaims("ids", view, draft, review.served, wantsId);
  return { ...assignIds(input, view, draft, review, pending, wantsId, settled), draft, pending };
}

describe("assignment (steps 2 and 3)", () => {
  it("claims the lowest claimable ids, in ordinal order, above their free entries' reservations", () => {
    const result = assign(
      { 0: claimFor(5, 0), 1: free(40) },
      {
        pods: [pod(1), pod(0)],
        desiredReplicas: 2,
        range: { min: 0, max: 9 },
        otherFleetsLeases: [observedLease(7, 2)],
      },
    );
    // 0 is another pod's claim, 2 is named by another fleet's lease: ids-0 gets 1, ids-1 gets 3.
    expect(result.writes.map((w) => [w.configMapName, w.lease.workerId, w.lease.handoverAfter])).toEqual([
      ["ids-0-lease", 1, 40],
      ["ids-1-lease", 3, 0],
    ]);
    expect(result.writes[0]).toMatchObject({
      kind: "create-lease",
      lease: { state: LeaseState.Assigned, assignment: 10 },
    });
    expect(result.draft.entry(1)).toMatchObject({
      state: LedgerEntryState.Leased,
      podName: "ids-0",
      floor: 40,
    });
    expect(result.draft.nextAssignment).toBe(12);
  });

  it("completes a pod's claim that has no lease, past every reservation its holder can have made", () => {
    const result = assign(
      { 6: claimFor(0, 10, 30) },
      { pods: [pod(0)], desiredReplicas: 1, reservationRecord: { rewriteAfterTicks: 0, lagTicks: 5 } },
    );
    expect(result.pending.get("ids-0")?.workerId).toBe(6);
    expect(result.writes.map((w) => [w.lease.workerId, w.lease.assignment, w.lease.handoverAfter])).toEqual([
      [6, 4, 35],
    ]);
    expect(result.draft.entry(6)).toMatchObject({ floor: 35 });
  });

  it("retires a claim whose pod is gone instead of freeing it: its lease write may still land", () => {
    const result = assign({ 6: claimFor(0, 10) }, { pods: [], desiredReplicas: 0 });
    expect(result.pending.size).toBe(0);
    expect(result.draft.entry(6)).toMatchObject({ state: LedgerEntryState.Retiring, reservedUntil: 10 });
  });

  it("lets pods wait, and says so, while no id is free or the ledger is not settled", () => {
    const full = assign(
      { 0: claimFor(5, 0) },
      { pods: [pod(0)], desiredReplicas: 1, range: { min: 0, max: 0 } },
    );
    expect(full.waitingPods).toEqual([
      { pod: "ids-0", message: "no free worker id in the fleet's range right now" },
    ]);
    expect(full.waitedToSettle).toBe(false);
    const unsettled = assign({}, { pods: [pod(0)], desiredReplicas: 1 }, false);
    expect(unsettled.writes).toEqual([]);
    expect(unsettled.waitedToSettle).toBe(true);
  });
});
