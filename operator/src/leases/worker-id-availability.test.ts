import { describe, expect, it } from "vitest";
import { EMPTY_LEDGER } from "../../../contract/lease-record.ts";
import { ledgerOf, leasedEntry } from "../../test/ledger-fixtures.ts";
import { workerIdAvailability } from "./worker-id-availability.ts";

const leased = leasedEntry;
const ledger = ledgerOf;

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
