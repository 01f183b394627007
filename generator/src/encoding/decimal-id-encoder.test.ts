import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeId, layoutMath, parseIdLayout, type LayoutMath } from "../../../contract/id-layout.ts";
import { appendDecimalIds, decimalId } from "./decimal-id-encoder.ts";

const layouts: Record<string, LayoutMath> = Object.fromEntries(
  Object.entries({
    snowflake: { timestampBits: 41, workerIdBits: 10, sequenceBits: 12, timeUnitMs: 1 },
    sonyflake: { timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10 },
    wideTime: { timestampBits: 61, workerIdBits: 1, sequenceBits: 1, timeUnitMs: 1 },
    narrowTime: { timestampBits: 1, workerIdBits: 31, sequenceBits: 31, timeUnitMs: 1000 },
    wideSequence: { timestampBits: 31, workerIdBits: 1, sequenceBits: 31, timeUnitMs: 1 },
    wideWorker: { timestampBits: 31, workerIdBits: 31, sequenceBits: 1, timeUnitMs: 1 },
  }).map(([name, l]) => [name, layoutMath(parseIdLayout({ ...l, epoch: "2024-01-01T00:00:00Z" }))]),
);

function expected(math: LayoutMath, tick: number, workerId: number, first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => encodeId(math, tick, workerId, first + i).toString());
}

function actual(math: LayoutMath, tick: number, workerId: number, first: number, count: number): string[] {
  const out: string[] = [];
  appendDecimalIds(math, tick, workerId, first, count, out);
  return out;
}

/** Fields of the ID nearest to `target` (clamped into the layout), so tests can aim at carries. */
function fieldsNear(math: LayoutMath, target: bigint): { tick: number; workerId: number; sequence: number } {
  const { workerIdBits, sequenceBits } = math.layout;
  const max = (1n << 63n) - 1n;
  const id = target < 0n ? 0n : target > max ? max : target;
  // Ticks are JS numbers: exact up to 2^53 (285,000 years of 1 ms ticks), as in encodeId.
  const tick = id >> BigInt(workerIdBits + sequenceBits);
  return {
    tick: tick > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(tick),
    workerId: Number((id >> BigInt(sequenceBits)) & BigInt(math.maxWorkerId)),
    sequence: Number(id & BigInt(math.maxSequence)),
  };
}

describe.each(Object.entries(layouts))("appendDecimalIds (%s)", (_name, math) => {
  it("matches BigInt encoding around every carry edge", () => {
    const max = (1n << 63n) - 1n;
    const targets = [
      0n,
      1n,
      9_998n,
      9_999n,
      10_000n,
      99_999n,
      10n ** 15n - 3n,
      10n ** 18n - 2n,
      2n ** 53n,
      max - 5n,
    ];
    for (const target of targets) {
      const f = fieldsNear(math, target);
      const count = Math.min(math.idsPerTick - f.sequence, 20_050);
      expect(actual(math, f.tick, f.workerId, f.sequence, count)).toEqual(
        expected(math, f.tick, f.workerId, f.sequence, count),
      );
    }
  });

  it("matches BigInt encoding for random ranges", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.integer({ min: 1, max: 12_000 }),
        (target, want) => {
          const f = fieldsNear(math, target);
          const count = Math.min(want, math.idsPerTick - f.sequence);
          expect(actual(math, f.tick, f.workerId, f.sequence, count)).toEqual(
            expected(math, f.tick, f.workerId, f.sequence, count),
          );
          expect(decimalId(math, f.tick, f.workerId, f.sequence)).toBe(
            encodeId(math, f.tick, f.workerId, f.sequence).toString(),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
