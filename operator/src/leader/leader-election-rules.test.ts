import { describe, expect, it } from "vitest";
import { decide, observe, type LeaderRecord } from "./leader-election-rules.ts";

const wall = new Date("2026-01-01T00:00:00Z");
const held = (holder: string, renewMs = 0): LeaderRecord & { resourceVersion: string } => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: new Date(0),
  renewTime: new Date(renewMs),
  leaseTransitions: 3,
  resourceVersion: `rv-${holder}-${renewMs}`,
});

describe("leader election rules", () => {
  it("creates a missing lease", () => {
    const d = decide({
      identity: "a",
      leaseDurationSeconds: 15,
      current: undefined,
      observed: undefined,
      nowMono: 0,
      nowWall: wall,
    });
    expect(d).toMatchObject({ action: "create", record: { holderIdentity: "a", leaseTransitions: 0 } });
  });

  it("renews its own lease, keeping acquireTime and transitions", () => {
    const current = held("a");
    const observed = observe(undefined, { ...current, renewTimeMs: 0 }, 0);
    const d = decide({
      identity: "a",
      leaseDurationSeconds: 15,
      current,
      observed,
      nowMono: 1000,
      nowWall: wall,
    });
    expect(d).toMatchObject({
      action: "update",
      resourceVersion: current.resourceVersion,
      record: { leaseTransitions: 3, acquireTime: new Date(0), renewTime: wall },
    });
  });

  it("waits while another holder's record is younger than the lease on its own clock", () => {
    const current = held("b");
    const observed = observe(undefined, { ...current, renewTimeMs: 0 }, 5000);
    expect(
      decide({ identity: "a", leaseDurationSeconds: 15, current, observed, nowMono: 19_999, nowWall: wall }),
    ).toEqual({ action: "wait", holder: "b" });
    expect(
      decide({ identity: "a", leaseDurationSeconds: 15, current, observed, nowMono: 20_000, nowWall: wall }),
    ).toMatchObject({ action: "update", record: { holderIdentity: "a", leaseTransitions: 4 } });
  });

  it("never takes over on the first read, however old the written renewTime looks", () => {
    const current = held("b", 0);
    const observed = observe(undefined, { ...current, renewTimeMs: 0 }, 1_000_000);
    expect(
      decide({
        identity: "a",
        leaseDurationSeconds: 15,
        current,
        observed,
        nowMono: 1_000_000,
        nowWall: wall,
      }).action,
    ).toBe("wait");
  });

  it("restarts the expiry clock when the holder renews", () => {
    let observed = observe(undefined, { resourceVersion: "1", holderIdentity: "b", renewTimeMs: 0 }, 0);
    observed = observe(observed, { resourceVersion: "1", holderIdentity: "b", renewTimeMs: 0 }, 10_000);
    expect(observed.observedAtMono).toBe(0);
    observed = observe(observed, { resourceVersion: "2", holderIdentity: "b", renewTimeMs: 5 }, 14_000);
    expect(observed.observedAtMono).toBe(14_000);
    const current = { ...held("b", 5), resourceVersion: "2" };
    expect(
      decide({ identity: "a", leaseDurationSeconds: 15, current, observed, nowMono: 20_000, nowWall: wall })
        .action,
    ).toBe("wait");
  });

  it("takes a released (empty holder) lease at once", () => {
    const current = held("");
    const observed = observe(undefined, { ...current, renewTimeMs: 0 }, 0);
    expect(
      decide({ identity: "a", leaseDurationSeconds: 15, current, observed, nowMono: 0, nowWall: wall }),
    ).toMatchObject({ action: "update", record: { holderIdentity: "a" } });
  });
});
