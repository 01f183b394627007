import { describe, expect, it } from "vitest";
import { layoutMath, tickAt } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import { Issuer } from "./issuer.ts";
import { STANDALONE_AHEAD_MS, standaloneFence, startStandaloneFence } from "./standalone-fence.ts";

const math = layoutMath(
  parseIdLayout({ timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10 }),
);

describe("standalone fence", () => {
  it("reaches aheadMs past the clock, with no floor and no expiry", () => {
    const now = Date.parse("2025-06-01T00:00:00Z");
    expect(standaloneFence(math, now, 1000)).toEqual({
      floorTick: -1,
      ceilingTick: tickAt(math, now) + 100,
      validUntilMonoMs: Infinity,
    });
  });

  it("never lowers the ceiling when the wall clock steps back", () => {
    const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
    let wall = Date.parse("2025-06-01T00:00:00Z");
    const stop = startStandaloneFence(issuer, () => wall);
    const first = issuer.getFence();
    expect(first?.ceilingTick).toBe(tickAt(math, wall + STANDALONE_AHEAD_MS));
    wall -= 3_600_000;
    stop();
    startStandaloneFence(issuer, () => wall)();
    expect(issuer.getFence()).toBe(first);
  });
});
