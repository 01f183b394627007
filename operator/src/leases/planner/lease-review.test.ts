import { describe, expect, it } from "vitest";
import { LeaseState, LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import { LedgerDraft } from "./ledger-draft.ts";
import { reviewLeases } from "./lease-review.ts";
import { LEASE_MS, observedLease, plannerInput, storedLedger } from "./planner-input.fixtures.ts";
import type { ObservedLease, PlannerInput } from "./planner-input.ts";
import { viewSnapshot } from "./snapshot-view.ts";
import { wantsIdFor } from "./wants-id.ts";

/** The ledger's claim backing `observedLease(ordinal, workerId)`. */
const claimOf = (ordinal: number, floor = 0): LedgerEntry => ({
  state: LedgerEntryState.Leased,
  fleet: "ids",
  lease: `ids-${ordinal}-lease`,
  podName: `ids-${ordinal}`,
  podUid: `uid-${ordinal}`,
  assignment: ordinal + 1,
  floor,
  since: "t0",
});
const pod = (ordinal: number) => ({
  name: `ids-${ordinal}`,
  uid: `uid-${ordinal}`,
  ordinal,
  terminating: false,
});

/** Step 1 alone. */
function review(
  entries: Record<number, LedgerEntry>,
  leases: ObservedLease[],
  overrides: Partial<PlannerInput> = {},
) {
  const input = plannerInput({
    ledger: { resourceVersion: "1", ledger: storedLedger(entries) },
    leases,
    ...overrides,
  });
  const draft = new LedgerDraft(
    input.ledger.ledger,
    { nextAssignment: 10, baseFloor: 0 },
    { fleet: "ids", nowWall: "t1", leaseDurationMs: LEASE_MS },
  );
  const wantsId = wantsIdFor(false, input.desiredReplicas);
  return { ...reviewLeases(input, viewSnapshot(input), draft, wantsId, false), draft };
}

describe("lease review (step 1)", () => {
  it("keeps a backed lease of its live holder, and writes nothing", () => {
    const result = review({ 0: claimOf(0, 100) }, [observedLease(0, 0)], {
      pods: [pod(0)],
      desiredReplicas: 1,
    });
    expect(result.served).toEqual(new Set(["ids-0"]));
    expect(result.leasedWorkers).toBe(1);
    expect(result.deletes).toEqual([]);
    expect(result.draft.dirty).toBe(false);
  });

  it("records kept leases' reservations into their claims once one is far enough ahead", () => {
    const record = { rewriteAfterTicks: 50, lagTicks: 60 };
    const pods = [pod(0), pod(1)];
    const near = review({ 0: claimOf(0), 1: claimOf(1) }, [observedLease(0, 0, { reservedUntil: 40 })], {
      pods,
      desiredReplicas: 2,
      reservationRecord: record,
    });
    expect(near.draft.dirty).toBe(false);
    const far = review(
      { 0: claimOf(0), 1: claimOf(1) },
      [observedLease(0, 0, { reservedUntil: 40 }), observedLease(1, 1, { reservedUntil: 51 })],
      { pods, desiredReplicas: 2, reservationRecord: record },
    );
    // Every claim behind its lease is brought up to date in the same write, without an event line.
    expect(far.draft.entry(0)).toMatchObject({ seenReservedUntil: 40 });
    expect(far.draft.entry(1)).toMatchObject({ seenReservedUntil: 51 });
    expect(far.draft.reasons).toEqual([]);
  });

  it("retires the id of a lease whose pod is gone, above its reservation, and deletes the lease", () => {
    const result = review({ 0: claimOf(0) }, [observedLease(0, 0, { reservedUntil: 300 })]);
    expect(result.draft.entry(0)).toMatchObject({ state: LedgerEntryState.Retiring, reservedUntil: 300 });
    expect(result.deletes).toEqual([
      {
        kind: "delete-lease",
        configMapName: "ids-0-lease",
        resourceVersion: "rv-0",
        reason: "worker id 0 taken back from ids-0 (uid uid-0, assignment 1): pod gone or replaced",
      },
    ]);
    expect(result.touched).toEqual(new Set(["ids-0-lease"]));
  });

  it("frees the id of a released lease at once; its live pod gets a new lease later", () => {
    const released = observedLease(0, 0, { state: LeaseState.Released, reservedUntil: 300 });
    const result = review({ 0: claimOf(0) }, [released], { pods: [pod(0)], desiredReplicas: 1 });
    expect(result.draft.entry(0)).toEqual({ state: LedgerEntryState.Free, reservedUntil: 300, since: "t1" });
    expect(result.needingLease.get("ids-0")).toBe(released);
    expect(result.deletes).toEqual([]);
  });

  it("reports and revokes a lease the ledger does not back, and one outside the range", () => {
    const result = review({}, [observedLease(0, 12)], { pods: [pod(0)] });
    expect(result.conflicts.map((c) => c.kind)).toEqual(["out-of-range", "unbacked-lease"]);
    expect(result.conflicts[1]?.message).toContain("but the ledger has no entry for it; revoking it");
    expect(result.deletes.map((d) => d.configMapName)).toEqual(["ids-0-lease"]);
  });

  it("never takes another lease's live claim when revoking a stray lease naming its id", () => {
    const stray = observedLease(1, 0, { assignment: 99 });
    const result = review({ 0: claimOf(0) }, [stray]);
    expect(result.draft.entry(0)).toEqual(claimOf(0));
    expect(result.conflicts.map((c) => c.kind)).toEqual(["unbacked-lease"]);
  });
});
