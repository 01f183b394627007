import { describe, expect, it } from "vitest";
import type { LeaseData } from "../../../contract/lease-record.ts";
import { ClockReference } from "../../../contract/server-time.ts";
import { describeClockDrift, isOutOfTolerance } from "./clock-drift-report.ts";

const lease = (holderPod: string, over: Partial<LeaseData>): LeaseData => ({
  workerId: 0,
  idSpace: "ids",
  state: "Active",
  holderPod,
  holderUid: `uid-${holderPod}`,
  assignment: 1,
  handoverAfter: 0,
  reservedUntil: 0,
  leaseDurationSeconds: 15,
  renewCount: 1,
  renewTime: "",
  ...over,
});

describe("clock drift report", () => {
  it("counts offsets beyond the limit and unhealthy clocks, never released leases", () => {
    expect(isOutOfTolerance(lease("a", { clockOffsetMs: 101 }), 100)).toBe(true);
    expect(isOutOfTolerance(lease("a", { clockOffsetMs: -100 }), 100)).toBe(false);
    expect(isOutOfTolerance(lease("a", { clockHealthy: false }), 100)).toBe(true);
    expect(isOutOfTolerance(lease("a", { clockHealthy: false, state: "Released" }), 100)).toBe(false);
    expect(isOutOfTolerance(lease("a", {}), 100)).toBe(false);
  });

  it("names each pod with its offset and direction or its own reason, and says what to do", () => {
    const message = describeClockDrift(
      [
        lease("ids-2", { clockHealthy: false, holderMessage: "clock: no recent NTP reply from ntp:123" }),
        lease("ids-0", { clockOffsetMs: 5003.25, clockHealthy: false }),
        lease("ids-1", { clockOffsetMs: 3, clockHealthy: true }),
        lease("ids-3", { clockOffsetMs: -250 }),
      ],
      100,
    );
    expect(message).toContain("3 pod(s) cannot vouch for their clock and stop issuing IDs");
    expect(message).toContain("ids-0 is 5003.25 ms ahead of NTP (limit 100 ms)");
    expect(message).toContain('ids-2 reports "clock: no recent NTP reply from ntp:123"');
    expect(message).toContain("ids-3 is 250 ms behind NTP");
    expect(message).not.toContain("ids-1");
    expect(message).toContain("spec.clock.ntpServers");
    expect(message).toContain("spec.clock.maxDriftMs");
  });

  it("without NTP, counts only clocks proven ahead of the API server's, and says 'at least'", () => {
    const ahead = lease("ids-0", { clockOffsetMs: 5000, clockHealthy: false });
    const behind = lease("ids-1", { clockOffsetMs: -5000, clockHealthy: true });
    expect(isOutOfTolerance(ahead, 100, ClockReference.ApiServer)).toBe(true);
    expect(isOutOfTolerance(behind, 100, ClockReference.ApiServer)).toBe(false);
    expect(describeClockDrift([ahead, behind], 100, ClockReference.ApiServer)).toContain(
      "1 pod(s) cannot vouch for their clock and stop issuing IDs: ids-0 is at least 5000 ms ahead of the API server's clock (limit 100 ms)",
    );
  });

  it("names five pods and counts the rest", () => {
    const leases = Array.from({ length: 7 }, (_, i) => lease(`ids-${i}`, { clockOffsetMs: 500 }));
    const message = describeClockDrift(leases, 100);
    expect(message).toContain("7 pod(s)");
    expect(message).toContain("ids-4 is 500 ms");
    expect(message).not.toContain("ids-5 is");
    expect(message).toContain("and 2 more");
  });
});
