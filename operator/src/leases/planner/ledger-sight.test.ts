import { describe, expect, it } from "vitest";
import { GRACE_MS, LEASE_MS, observedLease, plannerInput, storedLedger } from "./planner-input.fixtures.ts";
import { settlesInMs, sightLedger, startingAssignment } from "./ledger-sight.ts";

const stored = (baseFloor: number) => ({
  resourceVersion: "5",
  uid: "u1",
  ledger: storedLedger({}, { baseFloor }),
});

describe("ledger sight", () => {
  it("vouches for a ledger this process created: settled at once, base floor as read", () => {
    const sight = sightLedger(plannerInput({ ledger: stored(7), ledgerCreatedHere: true }), 500);
    expect(sight).toEqual({
      sight: { uid: "u1", sinceMonoMs: 1_000, floorTick: 500 },
      settled: true,
      baseFloor: 7,
      baseFloorRaise: null,
    });
  });

  it("does not vouch for a ledger it did not create: raises its base floor, settles after lease duration + grace", () => {
    const input = plannerInput({ ledger: stored(7), ledgerCreatedHere: false });
    const first = sightLedger(input, 500);
    expect(first.settled).toBe(false);
    expect(first.baseFloorRaise?.tick).toBe(500);
    expect(first.baseFloorRaise?.reason).toMatch(/^base floor raised to tick 500: /);
    expect(settlesInMs(first.sight!, input)).toBe(LEASE_MS + GRACE_MS);

    // Watched since first sight: the floor owed then, and settled once the wait is over.
    const observations = { leases: {}, retiring: {}, ...(first.sight ? { ledgerSight: first.sight } : {}) };
    const later = sightLedger({ ...input, observations, nowMonoMs: 1_000 + LEASE_MS + GRACE_MS }, 900);
    expect(later.sight).toEqual(first.sight);
    expect(later.settled).toBe(true);
    expect(later.baseFloorRaise?.tick).toBe(500);
  });

  it("watches a ledger anew when its uid changed (recreated)", () => {
    const observations = {
      leases: {},
      retiring: {},
      ledgerSight: { uid: "old", sinceMonoMs: 0, floorTick: 1 },
    };
    const sight = sightLedger(
      plannerInput({ ledger: stored(0), ledgerCreatedHere: false, observations }),
      42,
    );
    expect(sight.sight).toEqual({ uid: "u1", sinceMonoMs: 1_000, floorTick: 42 });
  });

  it("creates a new ledger with the base floor it is given, settled only when there is none", () => {
    const missing = { resourceVersion: null, ledger: storedLedger() };
    expect(sightLedger(plannerInput({ ledger: missing }), 0)).toMatchObject({
      sight: undefined,
      settled: true,
      baseFloor: 0,
    });
    expect(sightLedger(plannerInput({ ledger: missing, newLedgerBaseFloor: 77 }), 0)).toMatchObject({
      settled: false,
      baseFloor: 77,
      baseFloorRaise: null,
    });
  });

  it("starts assignment numbers above the wall clock, and above every lease when the ledger is new", () => {
    expect(startingAssignment(plannerInput({ nowMs: 5_000.7 }))).toBe(5_000);
    const missing = { resourceVersion: null, ledger: storedLedger() };
    const lease = observedLease(0, 1, { assignment: 9_000 });
    expect(
      startingAssignment(plannerInput({ ledger: missing, nowMs: 5_000, otherFleetsLeases: [lease] })),
    ).toBe(9_001);
    // An existing ledger's counter is trusted over the leases.
    expect(startingAssignment(plannerInput({ nowMs: 5_000, leases: [lease] }))).toBe(5_000);
  });
});
