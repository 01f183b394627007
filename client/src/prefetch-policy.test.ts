import { describe, expect, it } from "vitest";
import { planPrefetch, type PrefetchInput, type PrefetchSettings } from "./prefetch-policy.ts";

const settings: PrefetchSettings = {
  minCoverMs: 0,
  minBatch: 64,
  maxAgeMs: 5000,
  latencyCover: 3,
  maxInFlightPerEndpoint: 4,
};
const input = (over: Partial<PrefetchInput>): PrefetchInput => ({
  level: 0,
  inFlightIds: 0,
  waitingIds: 0,
  ratePerMs: 0,
  refillLatencyMs: 2,
  maxBatch: 10_000,
  endpoints: 2,
  batchFloor: 0,
  ...over,
});

describe("planPrefetch", () => {
  it("asks for a small batch when nothing is known, and nothing while the buffer is above the low watermark", () => {
    expect(planPrefetch(input({ waitingIds: 1 }), settings).batches).toEqual([129]);
    expect(planPrefetch(input({ level: 100 }), settings).batches).toEqual([]);
  });

  it("sizes batches to the rate, within the fleet's max batch", () => {
    // 1M IDs/s at 2 ms round trips: low watermark 3 round trips = 6000, batch 4 round trips = 8000.
    const plan = planPrefetch(input({ ratePerMs: 1000 }), settings);
    expect(plan.lowWatermark).toBe(6000);
    expect(plan.batches).toEqual([10_000, 4000]);
    expect(
      planPrefetch(input({ ratePerMs: 1000, maxBatch: 500 }), settings).batches.every((b) => b <= 500),
    ).toBe(true);
  });

  it("covers at least minCoverMs of consumption", () => {
    expect(planPrefetch(input({ ratePerMs: 1000 }), { ...settings, minCoverMs: 100 }).lowWatermark).toBe(
      100_000,
    );
  });

  it("keeps one refill in flight per endpoint unless one max batch per round trip cannot keep up", () => {
    expect(planPrefetch(input({ ratePerMs: 1000 }), settings).perEndpointInFlight).toBe(1);
    // 10M IDs/s at 5 ms: 150,000 IDs per 3 round trips = 15 batches over 2 endpoints, capped at 4.
    expect(planPrefetch(input({ ratePerMs: 10_000, refillLatencyMs: 5 }), settings).perEndpointInFlight).toBe(
      4,
    );
    expect(planPrefetch(input({ ratePerMs: 3000, refillLatencyMs: 5 }), settings).perEndpointInFlight).toBe(
      3,
    );
  });

  it("never fills the buffer past half of maxAgeMs of consumption (it would go stale)", () => {
    const plan = planPrefetch(input({ ratePerMs: 0.01, refillLatencyMs: 2, waitingIds: 0 }), {
      ...settings,
      maxAgeMs: 1000,
    });
    expect(plan.highWatermark).toBe(128);
  });

  it("counts refills in flight and waiting callers", () => {
    expect(planPrefetch(input({ ratePerMs: 1000, inFlightIds: 10_000 }), settings).batches).toEqual([]);
    expect(planPrefetch(input({ ratePerMs: 1000, inFlightIds: 5000 }), settings).batches).toEqual([9000]);
    expect(planPrefetch(input({ level: 20_000, waitingIds: 20_000 }), settings).batches).toEqual([128]);
  });
});
