import { describe, expect, it } from "vitest";
import { LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import { LedgerDraft } from "./ledger-draft.ts";
import { GRACE_MS, LEASE_MS, observedLease, plannerInput, storedLedger } from "./planner-input.fixtures.ts";
import type { PlannerInput } from "./planner-input.ts";
import { reclaimRetiring } from "./reclaim.ts";
import { viewSnapshot } from "./snapshot-view.ts";

const retiring: LedgerEntry = {
  state: LedgerEntryState.Retiring,
  fleet: "ids",
  reservedUntil: 70,
  since: "t0",
};
const QUIET_MS = LEASE_MS + GRACE_MS;

/** Step 4 alone, on a ledger holding `entries`; returns the draft too. */
function reclaim(entries: Record<number, LedgerEntry>, overrides: Partial<PlannerInput> = {}) {
  const input = plannerInput({
    ledger: { resourceVersion: "1", ledger: storedLedger(entries) },
    ...overrides,
  });
  const draft = new LedgerDraft(
    input.ledger.ledger,
    { nextAssignment: 10, baseFloor: 0 },
    { fleet: "ids", nowWall: input.nowWall, leaseDurationMs: LEASE_MS },
  );
  return { ...reclaimRetiring(input, viewSnapshot(input), draft), draft };
}

describe("reclaim (step 4)", () => {
  it("starts the quiet timer at first sight and frees the id once lease duration + grace passed", () => {
    const first = reclaim({ 3: retiring }, { nowMonoMs: 1_000 });
    expect(first.retiring).toEqual({ "3": { since: "t0", reservedUntil: 70, quietSinceMonoMs: 1_000 } });
    expect(first.wakeAfterMs).toBe(QUIET_MS);
    expect(first.draft.dirty).toBe(false);

    const observations = { leases: {}, retiring: first.retiring };
    const early = reclaim({ 3: retiring }, { nowMonoMs: 1_000 + QUIET_MS - 1, observations });
    expect(early.draft.entry(3)).toEqual(retiring);
    expect(early.wakeAfterMs).toBe(1);

    const due = reclaim({ 3: retiring }, { nowMonoMs: 1_000 + QUIET_MS, observations, nowWall: "t2" });
    expect(due.draft.entry(3)).toEqual({ state: LedgerEntryState.Free, reservedUntil: 70, since: "t2" });
    expect(due.draft.reasons).toEqual([
      "worker id 3: reclaimed: no renewal possible for lease duration + grace",
    ]);
    expect(due.retiring).toEqual({});
    expect(due.wakeAfterMs).toBeNull();
  });

  it("restarts the timer while any lease still names the id", () => {
    const observations = {
      leases: {},
      retiring: { "3": { since: "t0", reservedUntil: 70, quietSinceMonoMs: 0 } },
    };
    const named = reclaim(
      { 3: retiring },
      { nowMonoMs: QUIET_MS * 2, observations, leases: [observedLease(0, 3)] },
    );
    expect(named.draft.entry(3)).toEqual(retiring);
    expect(named.retiring["3"]?.quietSinceMonoMs).toBe(QUIET_MS * 2);
  });

  it("restarts the timer when the entry was retired again (a new since or reservation)", () => {
    const observations = {
      leases: {},
      retiring: { "3": { since: "t0", reservedUntil: 60, quietSinceMonoMs: 0 } },
    };
    const again = reclaim({ 3: retiring }, { nowMonoMs: QUIET_MS * 2, observations });
    expect(again.draft.entry(3)).toEqual(retiring);
    expect(again.retiring["3"]?.quietSinceMonoMs).toBe(QUIET_MS * 2);
  });

  it("waits for the retired holder's own, longer lease duration", () => {
    const longer = { ...retiring, holderLeaseDurationSeconds: 2 * (LEASE_MS / 1000) };
    const observations = {
      leases: {},
      retiring: { "3": { since: "t0", reservedUntil: 70, quietSinceMonoMs: 0 } },
    };
    const waiting = reclaim({ 3: longer }, { nowMonoMs: QUIET_MS, observations });
    expect(waiting.draft.entry(3)).toEqual(longer);
    expect(waiting.wakeAfterMs).toBe(LEASE_MS);
  });

  it("leaves other fleets' retiring ids alone", () => {
    const theirs = { ...retiring, fleet: "other" };
    const result = reclaim({ 3: theirs }, { nowMonoMs: QUIET_MS * 5 });
    expect(result.retiring).toEqual({});
    expect(result.wakeAfterMs).toBeNull();
  });
});
