import { describe, expect, it } from "vitest";
import { LeaseState, type LeaseData, type LedgerEntry } from "../../../contract/lease-record.ts";
import {
  decideAcquire,
  fenceAfterWrite,
  releaseWrite,
  renewalRetryTiming,
  renewalWrite,
  retryBackoffMs,
  type HolderReport,
} from "./lease-holding.ts";

const LAYOUT = { timestampBits: 41, workerIdBits: 10, sequenceBits: 12, timeUnitMs: 1, epochMs: 0 };
const settings = {
  fleet: "ids",
  podName: "ids-0",
  podUid: "u1",
  leaseName: "ids-0-lease",
  leaseDurationMs: 15_000,
  safetyMarginMs: 3_000,
  reserveAheadTicks: 10_000,
  layout: LAYOUT,
};
const report: HolderReport = {
  clockOffsetMs: 1.23456,
  clockHealthy: true,
  sequenceUtilization: 0.1234567,
  sequenceExhaustions: 2,
  message: null,
};
const lease: LeaseData = {
  workerId: 4,
  idSpace: "ids",
  state: LeaseState.Assigned,
  holderPod: "ids-0",
  holderUid: "u1",
  assignment: 9,
  handoverAfter: 50_000,
  reservedUntil: 50_000,
  leaseDurationSeconds: 15,
  renewCount: 0,
  renewTime: "",
};
const claim: LedgerEntry = {
  state: "leased",
  fleet: "ids",
  lease: "ids-0-lease",
  podName: "ids-0",
  podUid: "u1",
  assignment: 9,
  floor: 50_000,
  since: "",
};

describe("lease holding", () => {
  it("confirms a lease naming this pod with a matching ledger claim, reserving ahead of its clock", () => {
    const d = decideAcquire(settings, lease, claim, LAYOUT, -1, 45_000, report, "now");
    expect(d).toMatchObject({
      kind: "confirm",
      floorTick: 50_000,
      held: { podUid: "u1", assignment: 9, workerId: 4 },
    });
    if (d.kind !== "confirm") throw new Error("confirm");
    expect(d.write).toMatchObject({
      state: LeaseState.Active,
      reservedUntil: 55_000,
      renewCount: 1,
      renewTime: "now",
    });
    expect(d.write.clockOffsetMs).toBe(1.235);
    expect(d.write.sequenceUtilization).toBe(0.123457);
    expect(d.write.holderMessage).toBeUndefined();
  });

  it("re-acquires above what an earlier process of the same pod reserved", () => {
    const d = decideAcquire(
      settings,
      { ...lease, state: LeaseState.Active, reservedUntil: 70_000 },
      claim,
      LAYOUT,
      -1,
      60_000,
      report,
      "",
    );
    expect(d).toMatchObject({ kind: "confirm", floorTick: 70_000 });
    if (d.kind === "confirm") expect(d.write.reservedUntil).toBe(70_000);
  });

  it("waits, saying why, for leases it must not take", () => {
    const wait = (l: LeaseData | null, e: LedgerEntry | undefined) =>
      decideAcquire(settings, l, e, LAYOUT, -1, 0, report, "");
    expect(wait(null, claim)).toMatchObject({ kind: "wait", reason: "NoLease" });
    expect(wait({ ...lease, holderUid: "u0" }, claim)).toMatchObject({ kind: "wait", reason: "NotThisPod" });
    expect(wait({ ...lease, state: LeaseState.Released }, claim)).toMatchObject({
      kind: "wait",
      reason: "Released",
    });
    expect(wait(lease, undefined)).toMatchObject({ kind: "wait", reason: "Unclaimed" });
    expect(wait(lease, { ...claim, assignment: 8 })).toMatchObject({ kind: "wait", reason: "Unclaimed" });
    expect(wait(lease, { state: "retiring", fleet: "ids", reservedUntil: 1, since: "" })).toMatchObject({
      reason: "Unclaimed",
    });
  });

  it("never lowers reservedUntil, and reserves nothing new on an unhealthy clock", () => {
    const active = { ...lease, state: LeaseState.Active, reservedUntil: 90_000 };
    expect(renewalWrite(settings, active, 70_000, report, "").reservedUntil).toBe(90_000);
    expect(renewalWrite(settings, active, 85_000, report, "").reservedUntil).toBe(95_000);
    const sick = { ...report, clockHealthy: false, message: "clock drift 400 ms" };
    const write = renewalWrite(settings, active, 85_000, sick, "");
    expect(write).toMatchObject({
      reservedUntil: 90_000,
      clockHealthy: false,
      holderMessage: "clock drift 400 ms",
    });
  });

  it("fences at the send time plus the shorter lease duration minus the margin", () => {
    const written = { ...lease, reservedUntil: 60_000 };
    const sent = { monoMs: 1_000, wallMs: 1_700_000_000_000 };
    expect(fenceAfterWrite(settings, 50_000, written, sent)).toEqual({
      floorTick: 50_000,
      ceilingTick: 60_000,
      validUntilMonoMs: 13_000,
      anchor: sent,
    });
    expect(
      fenceAfterWrite(settings, 50_000, { ...written, leaseDurationSeconds: 10 }, sent).validUntilMonoMs,
    ).toBe(8_000);
  });

  it("releases without lowering the reservation", () => {
    expect(releaseWrite({ ...lease, reservedUntil: 77 }, "t")).toMatchObject({
      state: LeaseState.Released,
      reservedUntil: 77,
      renewCount: 1,
    });
  });
});

describe("renewalRetryTiming", () => {
  it("fits a timed-out renewal and its retry inside the reservation's headroom", () => {
    // Defaults: renew every 5 s, reserve 10 s ahead: 5 s of headroom.
    const t = renewalRetryTiming(5_000, 10_000);
    expect(t).toEqual({ requestTimeoutMs: 1_667, retryBackoffMs: 500, maxRetryBackoffMs: 1_250 });
    expect(t.requestTimeoutMs * 2 + t.retryBackoffMs).toBeLessThan(10_000 - 5_000);
  });

  it("keeps a usable request timeout when the headroom is tiny", () => {
    expect(renewalRetryTiming(5_000, 5_001).requestTimeoutMs).toBe(1_000);
    expect(renewalRetryTiming(1_000, 1_001).requestTimeoutMs).toBe(250);
  });

  it("never waits longer than the renewal interval for one request", () => {
    expect(renewalRetryTiming(2_000, 60_000).requestTimeoutMs).toBe(2_000);
  });

  it("backs off exponentially up to a quarter of the interval", () => {
    const t = renewalRetryTiming(5_000, 10_000);
    expect([1, 2, 3, 4].map((n) => retryBackoffMs(t, n))).toEqual([500, 1_000, 1_250, 1_250]);
  });

  it("refuses a lease while the id space's ledger records another layout", () => {
    const other = { ...LAYOUT, workerIdBits: 9, timestampBits: 42 };
    const d = decideAcquire(settings, lease, claim, other, -1, 45_000, report, "now");
    expect(d).toMatchObject({ kind: "wait", reason: "LayoutConflict" });
    if (d.kind === "wait") expect(d.message).toMatch(/42\/9\/12 bits.*41\/10\/12 bits/);
  });

  it("remembers the renewCount it wrote, so a restored older lease is recognised", () => {
    const d = decideAcquire(settings, { ...lease, renewCount: 6 }, claim, LAYOUT, -1, 45_000, report, "now");
    expect(d).toMatchObject({ kind: "confirm", held: { renewCount: 7 } });
  });

  it("never starts below what this process itself reserved on the worker id (a restored, older lease)", () => {
    const d = decideAcquire(settings, lease, claim, LAYOUT, 90_000, 45_000, report, "now");
    expect(d).toMatchObject({ kind: "confirm", floorTick: 90_000 });
    if (d.kind === "confirm") expect(d.write.reservedUntil).toBeGreaterThanOrEqual(90_000);
  });
});
