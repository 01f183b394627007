import { describe, expect, it } from "vitest";
import { LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import { LedgerDraft } from "./ledger-draft.ts";
import { LEASE_MS, TEST_LAYOUT, storedLedger } from "./planner-input.fixtures.ts";

const context = { fleet: "ns/ids", nowWall: "t9", leaseDurationMs: LEASE_MS };
const leased = (floor: number, seenReservedUntil?: number): LedgerEntry => ({
  state: LedgerEntryState.Leased,
  fleet: "ns/ids",
  lease: "ids-0-lease",
  podName: "ids-0",
  podUid: "uid-0",
  assignment: 3,
  floor,
  ...(seenReservedUntil === undefined ? {} : { seenReservedUntil }),
  since: "t0",
});
const retiring = (reservedUntil: number, holderLeaseDurationSeconds?: number): LedgerEntry => ({
  state: LedgerEntryState.Retiring,
  fleet: "ns/ids",
  reservedUntil,
  since: "t0",
  ...(holderLeaseDurationSeconds ? { holderLeaseDurationSeconds } : {}),
});
const free = (reservedUntil: number): LedgerEntry => ({
  state: LedgerEntryState.Free,
  reservedUntil,
  since: "t0",
});

function draftOf(entries: Record<number, LedgerEntry>, baseFloor = 0): LedgerDraft {
  return new LedgerDraft(storedLedger(entries), { nextAssignment: 10, baseFloor }, context);
}

describe("LedgerDraft", () => {
  it("starts clean, as read, and leaves the ledger it was read from alone", () => {
    const read = storedLedger({ 1: free(5) });
    const draft = new LedgerDraft(read, { nextAssignment: 10, baseFloor: 0 }, context);
    expect(draft.dirty).toBe(false);
    expect(draft.writtenThisPlan(1)).toBe(false);
    draft.record(1, retiring(7), "because");
    expect(read.entries.get(1)).toEqual(free(5));
    expect(draft.writtenThisPlan(1)).toBe(true);
    expect(draft.dirty).toBe(true);
    expect(draft.reasons).toEqual(["worker id 1: because"]);
  });

  it("records bookkeeping without a reason line", () => {
    const draft = draftOf({ 0: leased(1) });
    draft.record(0, leased(1, 50), null);
    expect(draft.dirty).toBe(true);
    expect(draft.reasons).toEqual([]);
  });

  it("hands an id over above what the ledger records of it", () => {
    const draft = draftOf({ 0: leased(4, 9), 1: retiring(20), 2: free(3), 3: free(30) }, 10);
    expect(draft.handoverFloor(0)).toBe(9); // a claim: its recorded reservation
    expect(draft.handoverFloor(1)).toBe(20);
    expect(draft.handoverFloor(2)).toBe(10); // a free entry never goes below the base floor
    expect(draft.handoverFloor(3)).toBe(30);
    expect(draft.handoverFloor(4)).toBe(10); // no entry: the base floor
    expect(draft.highestFloor()).toBe(30);
  });

  it("raises the base floor with a reason, and the floors of ids without entries with it", () => {
    const draft = draftOf({}, 5);
    draft.raiseBaseFloor(40, "lost state");
    expect(draft.handoverFloor(7)).toBe(40);
    expect(draft.dirty).toBe(true);
    expect(draft.reasons).toEqual(["lost state"]);
  });

  it("claims in the fleet's name with a fresh assignment number", () => {
    const draft = draftOf({});
    const assignment = draft.takeAssignment();
    draft.claim(2, { lease: "ids-1-lease", podName: "ids-1", podUid: "u", assignment, floor: 8 }, "claimed");
    expect(assignment).toBe(10);
    expect(draft.nextAssignment).toBe(11);
    expect(draft.entry(2)).toEqual({
      state: LedgerEntryState.Leased,
      fleet: "ns/ids",
      lease: "ids-1-lease",
      podName: "ids-1",
      podUid: "u",
      assignment: 10,
      floor: 8,
      since: "t9",
    });
  });

  it("frees an id only when that changes the entry", () => {
    const draft = draftOf({ 0: free(5) });
    draft.free(0, 5, "someone");
    expect(draft.dirty).toBe(false);
    draft.free(0, 6, "someone");
    expect(draft.entry(0)).toEqual({ state: LedgerEntryState.Free, reservedUntil: 6, since: "t9" });
    expect(draft.reasons).toEqual(["worker id 0: freed from someone"]);
  });

  it("retires without lowering a floor or the holder's lease duration", () => {
    const draft = draftOf({ 0: retiring(50, 60) });
    draft.retire(0, 40, "old", 0);
    draft.retire(0, 50, "old", 30);
    expect(draft.dirty).toBe(false);
    draft.retire(0, 70, "old", 0);
    expect(draft.entry(0)).toEqual({
      state: LedgerEntryState.Retiring,
      fleet: "ns/ids",
      reservedUntil: 70,
      since: "t9",
      formerHolder: "old",
    });
    expect(draft.reasons).toEqual(["worker id 0: retiring from old (reserved until tick 70)"]);
  });

  it("records a retired holder's lease duration only when it is longer than the fleet's", () => {
    const draft = draftOf({});
    draft.retire(1, 5, "short", LEASE_MS / 1000);
    draft.retire(2, 5, "long", 2 * (LEASE_MS / 1000));
    expect(draft.entry(1)).not.toHaveProperty("holderLeaseDurationSeconds");
    expect(draft.entry(2)).toMatchObject({ holderLeaseDurationSeconds: 30 });
  });

  it("writes back whole: counter, base floor when set, layout, high water and former layouts", () => {
    const formerLayouts = [{ layout: TEST_LAYOUT, highWaterId: "7", until: "t0" }];
    const draft = new LedgerDraft(
      storedLedger({ 0: free(1) }, { formerLayouts }),
      { nextAssignment: 12, baseFloor: 0 },
      context,
    );
    expect(draft.toLedger(TEST_LAYOUT, 99n)).toEqual({
      nextAssignment: 12,
      layout: TEST_LAYOUT,
      highWaterId: 99n,
      formerLayouts,
      entries: new Map([[0, free(1)]]),
    });
    draft.raiseBaseFloor(3, "r");
    expect(draft.toLedger(TEST_LAYOUT, 99n).baseFloor).toBe(3);
  });
});
