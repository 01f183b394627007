import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ClockReference,
  MAX_SERVER_TIME_RTT_MS,
  clockReferenceOf,
  offsetExceeds,
  SERVER_TIME_UNCERTAINTY_MS,
  clockToleranceMs,
  offsetBoundsOf,
  provenOffsetMs,
} from "./server-time.ts";

describe("offset bounds from an API server's Date header", () => {
  it("always contain the true offset, and are at most the documented uncertainty wide", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2e12 }), // server time when it stamped the answer
        fc.integer({ min: -60_000, max: 60_000 }), // true offset: local minus server
        fc.integer({ min: 0, max: MAX_SERVER_TIME_RTT_MS }), // round trip
        fc.double({ min: 0, max: 1, noNaN: true }), // where in the round trip the server stamped it
        (serverMs, offsetMs, rttMs, at) => {
          const stampedLocal = serverMs + offsetMs;
          const sentWallMs = stampedLocal - Math.round(rttMs * at);
          const sample = {
            sentWallMs,
            receivedWallMs: sentWallMs + rttMs,
            serverDateMs: Math.floor(serverMs / 1000) * 1000,
          };
          const bounds = offsetBoundsOf(sample);
          expect(bounds).not.toBeNull();
          if (!bounds) return;
          expect(bounds.lowMs).toBeLessThanOrEqual(offsetMs);
          expect(bounds.highMs).toBeGreaterThanOrEqual(offsetMs);
          expect(bounds.highMs - bounds.lowMs).toBeLessThanOrEqual(SERVER_TIME_UNCERTAINTY_MS);
          // What is reported is never further from zero than the truth.
          expect(Math.abs(provenOffsetMs(bounds))).toBeLessThanOrEqual(Math.abs(offsetMs));
        },
      ),
    );
  });

  it("refuses answers too slow to say much, and a local clock that went back meanwhile", () => {
    expect(
      offsetBoundsOf({ sentWallMs: 0, receivedWallMs: MAX_SERVER_TIME_RTT_MS + 1, serverDateMs: 0 }),
    ).toBeNull();
    expect(offsetBoundsOf({ sentWallMs: 10, receivedWallMs: 5, serverDateMs: 0 })).toBeNull();
  });

  it("widens the tolerance by the check's resolution only when NTP does not check the clock", () => {
    expect(clockToleranceMs(100, ClockReference.Ntp)).toBe(100);
    expect(clockToleranceMs(100, ClockReference.ApiServer)).toBe(100 + SERVER_TIME_UNCERTAINTY_MS);
    expect(clockReferenceOf([])).toBe(ClockReference.ApiServer);
    expect(clockReferenceOf(["ntp:123"])).toBe(ClockReference.Ntp);
  });

  it("against NTP both directions count; against the API server only a clock proven ahead", () => {
    expect(offsetExceeds(-101, 100, ClockReference.Ntp)).toBe(true);
    expect(offsetExceeds(-5000, 100, ClockReference.ApiServer)).toBe(false);
    expect(offsetExceeds(101, 100, ClockReference.ApiServer)).toBe(true);
    expect(offsetExceeds(100, 100, ClockReference.Ntp)).toBe(false);
  });
});
