import { describe, expect, it } from "vitest";
import type { LeaseData, Ledger, LedgerEntry } from "../../../contract/lease-record.ts";
import { fleetFenceTick, fleetHoldsWorkerIds } from "./fleet-release.ts";

const ledger = (entries: [number, LedgerEntry][]): Ledger => ({
  nextAssignment: 9,
  entries: new Map(entries),
});
const lease = (reservedUntil: number, handoverAfter = 0) => ({ reservedUntil, handoverAfter }) as LeaseData;

describe("fleet deletion fence", () => {
  const l = ledger([
    [
      0,
      {
        state: "leased",
        fleet: "a",
        lease: "a-0-lease",
        podName: "a-0",
        podUid: "u",
        assignment: 3,
        floor: 50,
        since: "",
      },
    ],
    [1, { state: "retiring", fleet: "a", reservedUntil: 900, since: "" }],
    [
      2,
      {
        state: "leased",
        fleet: "b",
        lease: "b-0-lease",
        podName: "b-0",
        podUid: "v",
        assignment: 4,
        floor: 5000,
        since: "",
      },
    ],
    [3, { state: "free", reservedUntil: 7000, since: "" }],
  ]);

  it("is the highest tick in the fleet's leases and its own ledger entries", () => {
    expect(fleetFenceTick("a", [lease(700)], l)).toBe(900);
    expect(fleetFenceTick("a", [lease(1200)], l)).toBe(1200);
    expect(fleetFenceTick("c", [], l)).toBe(-1);
  });

  it("holds the fleet while a lease of it exists or the ledger has a claim or retirement of it", () => {
    expect(fleetHoldsWorkerIds("a", [], l)).toBe(true);
    expect(fleetHoldsWorkerIds("b", [], l)).toBe(true);
    expect(fleetHoldsWorkerIds("c", [], l)).toBe(false);
    expect(fleetHoldsWorkerIds("c", [lease(5)], l)).toBe(true);
    const onlyRetiring = ledger([[1, { state: "retiring", fleet: "a", reservedUntil: 900, since: "" }]]);
    expect(fleetHoldsWorkerIds("a", [], onlyRetiring)).toBe(true);
    expect(
      fleetHoldsWorkerIds("a", [], ledger([[1, { state: "free", reservedUntil: 900, since: "" }]])),
    ).toBe(false);
  });
});
