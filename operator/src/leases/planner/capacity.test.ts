import { describe, expect, it } from "vitest";
import { LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import { fleetCapacity } from "./capacity.ts";

const fleet = { fleet: "ns/ids", idSpace: "space", range: { min: 0, max: 4 }, desiredReplicas: 4 };
const held = (owner: string): LedgerEntry => ({
  state: LedgerEntryState.Retiring,
  fleet: owner,
  reservedUntil: 1,
  since: "t0",
});
const free: LedgerEntry = { state: LedgerEntryState.Free, reservedUntil: 1, since: "t0" };

describe("capacity (step 6)", () => {
  it("is the range less the ids other fleets hold in it", () => {
    const entries = new Map([
      [0, held("ns/other")],
      [1, held("ns/ids")],
      [2, free],
      [7, held("ns/other")], // outside the range
    ]);
    expect(fleetCapacity(fleet, entries, false)).toEqual({
      allocatableReplicas: 4,
      exhausted: false,
      conflicts: [
        {
          kind: "overlap",
          message: "fleet ns/other shares id space space and holds 1 worker id(s) in this fleet's range 0-4",
        },
      ],
    });
  });

  it("reports exhaustion when fewer ids than desired replicas remain", () => {
    const entries = new Map([
      [0, held("ns/a")],
      [1, held("ns/b")],
    ]);
    const capacity = fleetCapacity(fleet, entries, false);
    expect(capacity.allocatableReplicas).toBe(3);
    expect(capacity.exhausted).toBe(true);
    expect(capacity.conflicts).toHaveLength(2);
  });

  it("allows no pod, and reports no exhaustion, while the layout withholds ids", () => {
    expect(fleetCapacity(fleet, new Map(), true)).toMatchObject({ allocatableReplicas: 0, exhausted: false });
  });
});
