import { describe, expect, it } from "vitest";
import {
  type LeaseData,
  type Ledger,
  type LedgerEntry,
  LeaseState,
  parseLeaseData,
  parseLedgerData,
  serializeLeaseData,
  serializeLedgerData,
} from "./lease-record.ts";

const lease: LeaseData = {
  workerId: 7,
  idSpace: "orders",
  state: LeaseState.Active,
  holderPod: "ids-3",
  holderUid: "0b6d7c9e-1",
  assignment: 2,
  handoverAfter: 1000,
  reservedUntil: 5000,
  leaseDurationSeconds: 15,
  renewCount: 12,
  renewTime: "2026-11-21T00:00:00.000Z",
  clockOffsetMs: -0.25,
  clockHealthy: true,
  sequenceUtilization: 0.125,
  sequenceExhaustions: 0,
};

describe("lease data", () => {
  it("round-trips through ConfigMap strings", () => {
    const data = serializeLeaseData(lease);
    expect(Object.values(data).every((v) => typeof v === "string")).toBe(true);
    expect(parseLeaseData(data)).toEqual(lease);
  });

  it("names the malformed key", () => {
    expect(() => parseLeaseData({ ...serializeLeaseData(lease), reservedUntil: "soon" })).toThrow(
      /reservedUntil: reservedUntil must be an integer/,
    );
    expect(() => parseLeaseData({ ...serializeLeaseData(lease), state: "Stolen" })).toThrow(/state:/);
  });
});

describe("worker-id ledger", () => {
  it("round-trips through ConfigMap strings and names bad keys", () => {
    const ledger: Ledger = {
      nextAssignment: 4,
      baseFloor: 12,
      entries: new Map<number, LedgerEntry>([
        [
          0,
          {
            state: "leased",
            fleet: "ids",
            lease: "ids-0-lease",
            podName: "ids-0",
            podUid: "u",
            assignment: 3,
            floor: 10,
            since: "t",
          },
        ],
        [2, { state: "retiring", fleet: "ids", reservedUntil: 99, since: "t", formerHolder: "ids-2" }],
        [7, { state: "free", reservedUntil: 5, since: "t" }],
      ]),
    };
    const data = serializeLedgerData(ledger);
    expect(Object.keys(data)).toEqual(["nextAssignment", "baseFloor", "w-0", "w-2", "w-7"]);
    expect(parseLedgerData(data)).toEqual(ledger);
    expect(parseLedgerData(undefined)).toEqual({ nextAssignment: 1, entries: new Map() });
    expect(() => parseLedgerData({ ...data, "w-2": '{"state":"retiring"}' })).toThrow(/w-2: fleet/);
    expect(() => parseLedgerData({ ...data, "w-3": "nope" })).toThrow(/w-3 is not JSON/);
    expect(() => parseLedgerData({ ...data, nextAssignment: "0" })).toThrow(/nextAssignment/);
  });
});
