import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeId, layoutMath, parseIdLayout } from "../../../contract/id-layout.ts";
import { IdBatchJsonWriter } from "./id-batch-json-writer.ts";

const layouts = [
  { timestampBits: 41, workerIdBits: 10, sequenceBits: 12, timeUnitMs: 1 },
  { timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10 },
  { timestampBits: 1, workerIdBits: 31, sequenceBits: 31, timeUnitMs: 1000 },
  { timestampBits: 31, workerIdBits: 1, sequenceBits: 31, timeUnitMs: 1 },
  { timestampBits: 53, workerIdBits: 9, sequenceBits: 1, timeUnitMs: 1 },
].map((l) => layoutMath(parseIdLayout({ ...l, epoch: "2024-01-01T00:00:00Z" })));

type Range = { tick: number; workerId: number; first: number; count: number };

function body(math: (typeof layouts)[number], ranges: Range[]): string {
  const writer = new IdBatchJsonWriter(ranges.reduce((n, r) => n + r.count, 0));
  for (const r of ranges) writer.appendRange(math, r.tick, r.workerId, r.first, r.count);
  return writer.finish().toString("latin1");
}

function expected(math: (typeof layouts)[number], ranges: Range[]): string {
  const ids = ranges.flatMap((r) =>
    Array.from({ length: r.count }, (_, i) => encodeId(math, r.tick, r.workerId, r.first + i).toString()),
  );
  return JSON.stringify({ ids });
}

describe.each(
  layouts.map(
    (m) => [`${m.layout.timestampBits}/${m.layout.workerIdBits}/${m.layout.sequenceBits}`, m] as const,
  ),
)("IdBatchJsonWriter %s", (_name, math) => {
  const max = (1n << 63n) - 1n;
  const range = (id: bigint, want: number): Range => {
    const { workerIdBits, sequenceBits } = math.layout;
    const clamped = id < 0n ? 0n : id > max ? max : id;
    const first = Number(clamped & BigInt(math.maxSequence));
    return {
      tick: Number(clamped >> BigInt(workerIdBits + sequenceBits)),
      workerId: Number((clamped >> BigInt(sequenceBits)) & BigInt(math.maxWorkerId)),
      first,
      count: Math.max(1, Math.min(want, math.idsPerTick - first)),
    };
  };

  it("writes an empty batch", () => {
    expect(body(math, [])).toBe('{"ids":[]}');
  });

  it("matches JSON.stringify of BigInt strings around every carry edge", () => {
    for (const target of [
      0n,
      1n,
      9_998n,
      9_999n,
      10_000n,
      19_999n,
      10n ** 15n - 2n,
      10n ** 18n - 3n,
      max - 3n,
    ]) {
      const ranges = [range(target, 12_000), range(target + 20_000n, 3)];
      expect(body(math, ranges)).toBe(expected(math, ranges));
    }
  });

  it("matches JSON.stringify for random ranges", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) << 10n }),
            fc.integer({ min: 1, max: 5000 }),
          ),
          {
            maxLength: 3,
          },
        ),
        (specs) => {
          const ranges = specs.map(([id, want]) => range(id, want));
          expect(body(math, ranges)).toBe(expected(math, ranges));
        },
      ),
      { numRuns: 100 },
    );
  });
});
