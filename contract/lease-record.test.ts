import { describe, expect, it } from "vitest";
import { type LeaseData, LeaseState, parseLeaseData, serializeLeaseData } from "./lease-record.ts";

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
