import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeIdAs, IdFormat } from "../../../contract/id-encoding.ts";
import { encodeId, type LayoutMath } from "../../../contract/id-layout-math.ts";
import { ENCODING_LAYOUTS, rangeNear, type IdRange } from "../../test-support/encoding-fixtures.ts";
import { appendFixedWidthIds, type FixedWidthFormat } from "./fixed-width-id-encoder.ts";

const MAX_ID = (1n << 63n) - 1n;
// Where the low four digits carry into the prefix, in either radix.
const EDGES = [0n, 62n ** 4n - 3n, 32n ** 4n - 3n, 2n * 62n ** 4n - 1n, 2n ** 53n, MAX_ID - 5n];

function expected(math: LayoutMath, format: FixedWidthFormat, r: IdRange): string[] {
  return Array.from({ length: r.count }, (_, i) =>
    encodeIdAs(encodeId(math, r.tick, r.workerId, r.first + i), format),
  );
}

function actual(math: LayoutMath, format: FixedWidthFormat, r: IdRange): string[] {
  const out: string[] = [];
  appendFixedWidthIds(math, format, r.tick, r.workerId, r.first, r.count, out);
  return out;
}

describe.each([IdFormat.base62, IdFormat.base32] as const)("appendFixedWidthIds (%s)", (format) => {
  describe.each(Object.entries(ENCODING_LAYOUTS))("%s", (_name, math) => {
    it("matches encodeIdAs around every carry edge", () => {
      for (const target of EDGES) {
        const r = rangeNear(math, target, 2_050);
        expect(actual(math, format, r)).toEqual(expected(math, format, r));
      }
    });

    it("matches encodeIdAs for random ranges", () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: MAX_ID }), fc.integer({ min: 1, max: 500 }), (target, want) => {
          const r = rangeNear(math, target, want);
          expect(actual(math, format, r)).toEqual(expected(math, format, r));
        }),
        { numRuns: 60 },
      );
    });
  });
});
