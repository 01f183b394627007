import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeId, type LayoutMath } from "../../../contract/id-layout-math.ts";
import {
  CARRY_EDGE_IDS,
  ENCODING_LAYOUTS,
  rangeNear,
  type IdRange,
} from "../../test-support/encoding-fixtures.ts";
import { batchBodyCapacity, IdBatchJsonWriter } from "./id-batch-json-writer.ts";

function body(math: LayoutMath, ranges: IdRange[], buffer?: Buffer): string {
  const writer = new IdBatchJsonWriter(
    ranges.reduce((n, r) => n + r.count, 0),
    buffer,
  );
  for (const r of ranges) writer.appendRange(math, r.tick, r.workerId, r.first, r.count);
  return writer.finish().toString("latin1");
}

function expected(math: LayoutMath, ranges: IdRange[]): string {
  const ids = ranges.flatMap((r) =>
    Array.from({ length: r.count }, (_, i) => encodeId(math, r.tick, r.workerId, r.first + i).toString()),
  );
  return JSON.stringify({ ids });
}

describe.each(Object.entries(ENCODING_LAYOUTS))("IdBatchJsonWriter (%s)", (_name, math) => {
  it("writes an empty batch", () => {
    expect(body(math, [])).toBe('{"ids":[]}');
  });

  it("matches JSON.stringify of BigInt strings around every carry edge", () => {
    for (const target of CARRY_EDGE_IDS) {
      const ranges = [rangeNear(math, target, 12_000), rangeNear(math, target + 20_000n, 3)];
      expect(body(math, ranges)).toBe(expected(math, ranges));
    }
  });

  it("matches JSON.stringify for random ranges", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.integer({ min: 1, max: 3000 })), {
          maxLength: 3,
        }),
        (specs) => {
          const ranges = specs.map(([id, want]) => rangeNear(math, id, want));
          expect(body(math, ranges)).toBe(expected(math, ranges));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("IdBatchJsonWriter into a given buffer", () => {
  const math = ENCODING_LAYOUTS.snowflake as LayoutMath;

  it("writes a correct body over whatever a previous body left in the buffer", () => {
    const buffer = Buffer.alloc(batchBodyCapacity(10_000), "9");
    const long = [rangeNear(math, 10n ** 18n - 2n, 4096), rangeNear(math, 10n ** 18n + 8190n, 4096)];
    expect(body(math, long, buffer)).toBe(expected(math, long));
    const short = [rangeNear(math, 123_456_789n, 7)];
    expect(body(math, short, buffer)).toBe(expected(math, short));
  });

  it("refuses a buffer too small for the batch", () => {
    expect(() => new IdBatchJsonWriter(100, Buffer.alloc(batchBodyCapacity(100) - 1))).toThrow(RangeError);
  });
});
