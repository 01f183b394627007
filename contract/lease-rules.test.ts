import { describe, expect, it } from "vitest";
import { toleratedRateDrift, toleratesRateDrift } from "./lease-fencing.ts";
import { LeaseState, type LeaseData } from "./lease-record.ts";
import {
  acquireFloor,
  acquireRefusal,
  claimMatches,
  classifyRenewalConflict,
  isReclaimable,
  leaseTimingProblems,
  nextReservedUntil,
  RenewalConflict,
  resourceVersionWentBack,
  selfFenceDeadlineMonoMs,
} from "./lease-rules.ts";

const lease: LeaseData = {
  workerId: 3,
  idSpace: "ids",
  state: LeaseState.Active,
  holderPod: "ids-0",
  holderUid: "u1",
  assignment: 7,
  handoverAfter: 100,
  reservedUntil: 250,
  leaseDurationSeconds: 15,
  renewCount: 4,
  renewTime: "",
};
const held = { podUid: "u1", assignment: 7, workerId: 3 };

describe("lease rules", () => {
  it("acquires above both the previous holder's bound and its own pod's earlier reservation", () => {
    expect(acquireFloor({ handoverAfter: 100, reservedUntil: 250 })).toBe(250);
    expect(acquireFloor({ handoverAfter: 300, reservedUntil: 250 })).toBe(300);
  });

  it("fences from the send time of the last successful renewal", () => {
    expect(selfFenceDeadlineMonoMs(10_000, 15_000, 3_000)).toBe(22_000);
  });

  it("never lowers reservedUntil", () => {
    expect(nextReservedUntil(500, 100, 50)).toBe(500);
    expect(nextReservedUntil(500, 480, 50)).toBe(530);
  });

  it("reclaims only after lease duration plus grace", () => {
    expect(isReclaimable(1_000, 20_999, 15_000, 5_000)).toBe(false);
    expect(isReclaimable(1_000, 21_000, 15_000, 5_000)).toBe(true);
  });

  it("classifies a renewal conflict by who holds the lease now", () => {
    expect(classifyRenewalConflict(held, { ...lease, renewCount: 5 })).toBe(RenewalConflict.Retry);
    expect(classifyRenewalConflict(held, { ...lease, holderUid: "u2" })).toBe(RenewalConflict.Lost);
    expect(classifyRenewalConflict(held, null)).toBe(RenewalConflict.Lost);
    expect(classifyRenewalConflict(held, { ...lease, assignment: 8, workerId: 9 })).toBe(
      RenewalConflict.Reassigned,
    );
    expect(classifyRenewalConflict(held, { ...lease, state: LeaseState.Released })).toBe(
      RenewalConflict.Lost,
    );
  });

  it("recognises a lease that went back in time (etcd restored from a snapshot)", () => {
    const wrote = { ...held, renewCount: 12 };
    expect(classifyRenewalConflict(wrote, { ...lease, renewCount: 12 })).toBe(RenewalConflict.Retry);
    expect(classifyRenewalConflict(wrote, { ...lease, renewCount: 13 })).toBe(RenewalConflict.Retry);
    expect(classifyRenewalConflict(wrote, { ...lease, renewCount: 11 })).toBe(RenewalConflict.RolledBack);
    expect(classifyRenewalConflict(wrote, { ...lease, assignment: 6, renewCount: 40 })).toBe(
      RenewalConflict.RolledBack,
    );
    // Another pod's lease is lost, whatever its counters say.
    expect(classifyRenewalConflict(wrote, { ...lease, holderUid: "u2", assignment: 6 })).toBe(
      RenewalConflict.Lost,
    );
  });

  it("matches a claim only on fleet, lease, pod UID and assignment together", () => {
    const claim = {
      state: "leased",
      fleet: "ids",
      lease: "ids-0-lease",
      podName: "ids-0",
      podUid: "u1",
      assignment: 7,
      floor: 0,
      since: "",
    } as const;
    const who = { fleet: "ids", lease: "ids-0-lease", podUid: "u1", assignment: 7 };
    expect(claimMatches(claim, who)).toBe(true);
    expect(claimMatches(claim, { ...who, assignment: 6 })).toBe(false);
    expect(claimMatches(claim, { ...who, podUid: "u2" })).toBe(false);
    expect(claimMatches({ state: "free", reservedUntil: 0, since: "" }, who)).toBe(false);
    expect(claimMatches(undefined, who)).toBe(false);
  });

  it("refuses leases of other pods and released leases", () => {
    expect(acquireRefusal(lease, "u1")).toBeNull();
    expect(acquireRefusal({ ...lease, state: LeaseState.Assigned }, "u1")).toBeNull();
    expect(acquireRefusal(lease, "u2")).toMatch(/names pod UID u1/);
    expect(acquireRefusal({ ...lease, state: LeaseState.Released }, "u1")).toMatch(/released/);
    expect(acquireRefusal(null, "u1")).toMatch(/no lease/);
  });

  it("rejects timings where a healthy holder fences between renewals or the operator could reuse too early", () => {
    const ok = {
      leaseDurationMs: 15_000,
      renewIntervalMs: 5_000,
      safetyMarginMs: 3_000,
      reclaimGraceMs: 5_000,
    };
    expect(leaseTimingProblems(ok)).toEqual([]);
    expect(leaseTimingProblems({ ...ok, renewIntervalMs: 12_000 })).toEqual([
      expect.stringMatching(/renew interval/),
    ]);
    expect(leaseTimingProblems({ ...ok, safetyMarginMs: 0, reclaimGraceMs: 0 }).join()).toMatch(
      /tolerates monotonic clocks only 0.00% apart .*raise reclaimGrace or safetyMargin/,
    );
    // The report's timing: accepted before, it tolerates clocks only 0.17 % apart.
    expect(
      leaseTimingProblems({
        ...ok,
        leaseDurationMs: 300_000,
        safetyMarginMs: 1_000,
        reclaimGraceMs: 0,
      }).join(),
    ).toMatch(/only 0.17% apart \(at least 1% needed\)/);
  });

  it("derives the rate difference a timing tolerates: 25 % for the defaults", () => {
    const defaults = { duration: 15, renewInterval: 5, safetyMargin: 3, reclaimGrace: 5 };
    expect(toleratedRateDrift(defaults)).toBeCloseTo(0.25);
    // At exactly that drift the holder fences (slow clock) when the operator reuses (fast clock).
    const r = toleratedRateDrift(defaults);
    expect((15 + 5) / (1 + r)).toBeCloseTo((15 - 3) / (1 - r));
    expect(toleratesRateDrift(defaults)).toBe(true);
    expect(toleratesRateDrift({ ...defaults, duration: 300, safetyMargin: 1, reclaimGrace: 0 })).toBe(false);
  });

  it("sees a resourceVersion below the highest seen as gone back (an etcd restore), a higher one as not", () => {
    expect(resourceVersionWentBack("520", "300")).toBe(true);
    expect(resourceVersionWentBack("520", "1000520")).toBe(false);
    expect(resourceVersionWentBack("520", "520")).toBe(false);
    expect(resourceVersionWentBack(undefined, "300")).toBe(false);
    // Numbers past 2^53 compare exactly; opaque versions are never compared.
    expect(resourceVersionWentBack("9007199254740993", "9007199254740992")).toBe(true);
    expect(resourceVersionWentBack("a7", "a3")).toBe(false);
  });
});
