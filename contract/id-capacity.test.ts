import { describe, expect, it } from "vitest";
import { idsPassSafeIntegerAt } from "./id-capacity.ts";
import { encodeId, layoutMath, tickAt } from "./id-layout-math.ts";
import { parseIdLayout } from "./id-layout.ts";

describe("idsPassSafeIntegerAt", () => {
  it("is the start of the first tick whose IDs exceed Number.MAX_SAFE_INTEGER", () => {
    for (const raw of [
      {},
      { timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10, epoch: "2014-09-01T00:00:00Z" },
      { timestampBits: 33, workerIdBits: 10, sequenceBits: 20, timeUnitMs: 1000 },
      { timestampBits: 10, workerIdBits: 22, sequenceBits: 31, timeUnitMs: 1 },
    ]) {
      const math = layoutMath(parseIdLayout(raw));
      const tick = tickAt(math, idsPassSafeIntegerAt(math)!.getTime());
      if (tick > 0) {
        expect(encodeId(math, tick - 1, math.maxWorkerId, math.maxSequence)).toBe(
          BigInt(Number.MAX_SAFE_INTEGER),
        );
      }
      expect(encodeId(math, tick, 0, 0)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    }
  });

  it("is the epoch when worker id and sequence alone pass 53 bits", () => {
    const math = layoutMath(parseIdLayout({ timestampBits: 8, workerIdBits: 24, sequenceBits: 31 }));
    expect(idsPassSafeIntegerAt(math)?.toISOString()).toBe("2024-01-01T00:00:00.000Z");
  });

  it("is null when the date does not fit in a Date", () => {
    const math = layoutMath(
      parseIdLayout({ timestampBits: 61, workerIdBits: 1, sequenceBits: 1, timeUnitMs: 1000 }),
    );
    expect(idsPassSafeIntegerAt(math)).toBeNull();
  });
});
