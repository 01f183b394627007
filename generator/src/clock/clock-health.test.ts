import { describe, expect, it } from "vitest";
import { ClockHealth, ClockReason } from "./clock-health.ts";
import { WallJumpDetector } from "./wall-jump-detector.ts";

const sample = (offsetMs: number) => ({ offsetMs, roundTripMs: 1, stratum: 2 });

describe("ClockHealth", () => {
  const servers = ["a:123", "b:123", "c:123"];
  const health = () => new ClockHealth({ servers, maxDriftMs: 100, staleAfterMs: 60_000 });

  it("is healthy with no NTP configured, offset unknown", () => {
    expect(new ClockHealth({ servers: [], maxDriftMs: 100, staleAfterMs: 1 }).evaluate(0)).toEqual({
      offsetMs: null,
      healthy: true,
      status: { ok: true },
    });
  });

  describe("without NTP, against the API server's Date header", () => {
    const noNtp = () => new ClockHealth({ servers: [], maxDriftMs: 100, staleAfterMs: 60_000 });
    // The server's clock read 12:00:00.000–.999 when it answered a request sent and answered
    // at the local times below.
    const at = (sentWallMs: number, receivedWallMs: number) => ({
      sentWallMs,
      receivedWallMs,
      serverDateMs: 1_000_000,
    });

    it("stays healthy when the answer allows a correct clock, and reports the offset as 0", () => {
      const h = noNtp();
      h.recordServerTime(at(1_000_400, 1_000_420), 10);
      expect(h.evaluate(20)).toEqual({ offsetMs: 0, healthy: true, status: { ok: true } });
    });

    it("turns unhealthy when the answer proves the clock more than maxDrift ahead", () => {
      const h = noNtp();
      // Sent 6 s after the server's second began: at least 5000 ms ahead.
      h.recordServerTime(at(1_007_000, 1_007_010), 10);
      const state = h.evaluate(20);
      expect(state.healthy).toBe(false);
      expect(state.offsetMs).toBe(6000);
      expect(state.status).toMatchObject({ ok: false, reason: ClockReason.Drift });
      expect(state.status.ok ? "" : state.status.message).toContain(
        "at least 6000 ms ahead of the API server's",
      );
    });

    it("reports a clock proven behind but keeps it healthy: floors, not the check, hold it back", () => {
      const h = noNtp();
      h.recordServerTime(at(997_000, 997_050), 10);
      expect(h.evaluate(20)).toEqual({ offsetMs: -2950, healthy: true, status: { ok: true } });
    });

    it("ignores slow answers, forgets stale ones and those older than a jump", () => {
      const h = noNtp();
      h.recordServerTime(at(1_007_000, 1_007_000 + 600), 10);
      expect(h.evaluate(20).healthy).toBe(true);
      h.recordServerTime(at(1_007_000, 1_007_010), 10);
      expect(h.evaluate(60_011).offsetMs).toBeNull();
      h.recordServerTime(at(1_007_000, 1_007_010), 70_000);
      h.recordJump(-6000, 70_001);
      expect(h.evaluate(70_002)).toEqual({ offsetMs: null, healthy: true, status: { ok: true } });
    });
  });

  it("is unsynced until a server answers, naming the errors", () => {
    const h = health();
    h.recordFailure("a:123", "no reply within 1000 ms");
    expect(h.evaluate(0).status).toEqual({
      ok: false,
      reason: ClockReason.Unsynced,
      message: "no recent NTP reply from a:123, b:123, c:123 (a:123: no reply within 1000 ms)",
    });
  });

  it("uses the median offset, so one lying server cannot move it", () => {
    const h = health();
    h.recordSample("a:123", sample(3), 0);
    h.recordSample("b:123", sample(5000), 0);
    h.recordSample("c:123", sample(-2), 0);
    expect(h.evaluate(10)).toMatchObject({ offsetMs: 3, healthy: true });
  });

  it("is unhealthy past max drift and when samples go stale", () => {
    const h = health();
    h.recordSample("a:123", sample(-150), 0);
    expect(h.evaluate(1).status).toMatchObject({ ok: false, reason: ClockReason.Drift });
    h.recordSample("a:123", sample(20), 1000);
    expect(h.evaluate(1000).healthy).toBe(true);
    expect(h.evaluate(61_001).status).toMatchObject({ ok: false, reason: ClockReason.Unsynced });
  });

  it("is unhealthy after a jump until a fresh sample", () => {
    const h = health();
    h.recordSample("a:123", sample(1), 0);
    h.recordJump(-2000, 500);
    expect(h.evaluate(600).status).toMatchObject({ ok: false, reason: ClockReason.Jump });
    h.recordSample("a:123", sample(1), 700);
    expect(h.evaluate(800).healthy).toBe(true);
    expect(h.jumps).toBe(1);
  });
});

describe("WallJumpDetector", () => {
  it("ignores lag (both clocks move) and reports steps of the wall clock", () => {
    const d = new WallJumpDetector(10);
    expect(d.observe(1000, 0)).toBe(0);
    expect(d.observe(6000, 5000)).toBe(0);
    expect(d.observe(6505, 5500)).toBe(0);
    expect(d.observe(4000, 6000)).toBe(-3005);
    expect(d.observe(4500, 6500)).toBe(0);
    expect(d.observe(9500, 7000)).toBe(4500);
  });
});
