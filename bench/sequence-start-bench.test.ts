import { describe, expect, it } from "vitest";
import { SequenceStart } from "../contract/sequence-start.ts";
import { DEFAULT_MATH } from "./in-process-bench.ts";
import { saturation, shardSpread } from "./sequence-start-bench.ts";

// The bench's simulations measure what docs/id-features.md states; these pin the direction.
describe("zero vs rolling simulations", () => {
  it("spread id % 16 evenly with rolling and pile it into shard 0 with zero at 100 IDs/s", () => {
    const zero = shardSpread(DEFAULT_MATH, SequenceStart.zero, 100, 2000);
    const rolling = shardSpread(DEFAULT_MATH, SequenceStart.rolling, 100, 2000);
    expect(zero.shares[0]).toBeGreaterThan(0.9);
    expect(rolling.skew).toBeLessThan(1.05);
  });

  it("serve the same throughput, rolling with more waiting below saturation", () => {
    const zero = saturation(DEFAULT_MATH, SequenceStart.zero, 0.5, 2000);
    const rolling = saturation(DEFAULT_MATH, SequenceStart.rolling, 0.5, 2000);
    expect(Math.abs(zero.served - rolling.served)).toBeLessThan(0.01);
    expect(rolling.ticksWithWaiting).toBeGreaterThan(zero.ticksWithWaiting);
  });
});
