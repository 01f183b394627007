import { describe, expect, it } from "vitest";
import { EMPTY_LEDGER, type Ledger, type LedgerEntry } from "../../../contract/lease-record.ts";
import { workerIdAvailability } from "./worker-id-availability.ts";

const leased = (fleet: string): LedgerEntry => ({
  state: "leased",
  fleet,
  lease: `${fleet}-0-lease`,
  podName: `${fleet}-0`,
  podUid: "uid",
  assignment: 1,
  floor: 0,
  since: "2026-11-21T00:00:00Z",
});
const ledger = (entries: [number, LedgerEntry][]): Ledger => ({
  nextAssignment: 9,
  entries: new Map(entries),
});

describe("workerIdAvailability", () => {
  it("counts the whole range free in an empty ledger", () => {
    expect(workerIdAvailability({ min: 0, max: 1023 }, EMPTY_LEDGER)).toEqual({
      capacity: 1024,
      available: 1024,
    });
  });

  it("takes leased and retiring ids of any fleet inside the range, not free ones or ids outside it", () => {
    const l = ledger([
      [4, leased("a")],
      [5, leased("b")],
      [6, { state: "retiring", fleet: "a", reservedUntil: 10, since: "2026-11-21T00:00:00Z" }],
      [7, { state: "free", reservedUntil: 10, since: "2026-11-21T00:00:00Z" }],
      [9, leased("a")],
    ]);
    expect(workerIdAvailability({ min: 4, max: 8 }, l)).toEqual({ capacity: 5, available: 2 });
  });

  it("reaches zero when every id is taken", () => {
    expect(
      workerIdAvailability(
        { min: 2, max: 3 },
        ledger([
          [2, leased("a")],
          [3, leased("a")],
        ]),
      ),
    ).toEqual({
      capacity: 2,
      available: 0,
    });
  });
});
