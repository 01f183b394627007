import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeId, type LayoutMath } from "../../../contract/id-layout-math.ts";
import { appendDecimalIds, decimalId } from "./decimal-id-encoder.ts";
import {
  CARRY_EDGE_IDS,
  ENCODING_LAYOUTS,
  rangeNear,
  type IdRange,
} from "../../test-support/encoding-fixtures.ts";

function expected(math: LayoutMath, r: IdRange): string[] {
  return Array.from({ length: r.count }, (_, i) =>
    encodeId(math, r.tick, r.workerId, r.first + i).toString(),
  );
}

function actual(math: LayoutMath, r: IdRange): string[] {
  const out: string[] = [];
  appendDecimalIds(math, r.tick, r.workerId, r.first, r.count, out);
  return out;
}

describe.each(Object.entries(ENCODING_LAYOUTS))("appendDecimalIds (%s)", (_name, math) => {
  it("matches BigInt encoding around every carry edge", () => {
    for (const target of CARRY_EDGE_IDS) {
      const r = rangeNear(math, target, 20_050);
      expect(actual(math, r)).toEqual(expected(math, r));
    }
  });

  it("matches BigInt encoding for random ranges", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.integer({ min: 1, max: 3_000 }),
        (target, want) => {
          const r = rangeNear(math, target, want);
          expect(actual(math, r)).toEqual(expected(math, r));
          expect(decimalId(math, r.tick, r.workerId, r.first)).toBe(
            encodeId(math, r.tick, r.workerId, r.first).toString(),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
