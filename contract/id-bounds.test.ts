import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundsErrorCode, idBounds, parseTimeParameter } from "./id-bounds.ts";
import { decodeId, encodeId, layoutMath, tickStartMs, type LayoutMath } from "./id-layout-math.ts";
import { parseIdLayout } from "./id-layout.ts";

const layouts = {
  snowflake: layoutMath(parseIdLayout({})),
  sonyflake: layoutMath(
    parseIdLayout({
      timestampBits: 39,
      workerIdBits: 16,
      sequenceBits: 8,
      timeUnitMs: 10,
      epoch: "2014-09-01T00:00:00Z",
    }),
  ),
  seconds: layoutMath(
    parseIdLayout({ timestampBits: 31, workerIdBits: 12, sequenceBits: 20, timeUnitMs: 1000 }),
  ),
  // 2^10 ticks of 7 ms: small enough to test the layout's end exactly.
  tiny: layoutMath(
    parseIdLayout({
      timestampBits: 10,
      workerIdBits: 22,
      sequenceBits: 31,
      timeUnitMs: 7,
      epoch: "2024-01-01T00:00:00.003Z",
    }),
  ),
};

/** The time (Unix ms) of an ID: the start of its tick. */
const timeOf = (math: LayoutMath, id: bigint) => decodeId(math, id).time.getTime();
const layoutEndMs = (math: LayoutMath) => tickStartMs(math, math.maxTick + 1);
const lastId = (math: LayoutMath) => encodeId(math, math.maxTick, math.maxWorkerId, math.maxSequence);

/** Ranges inside a layout's life, biased towards tick edges (where off-by-one bugs live). */
function ranges(math: LayoutMath) {
  const end = Math.min(layoutEndMs(math), Date.UTC(2200, 0, 1));
  const unit = math.layout.timeUnitMs;
  const instant = fc.oneof(
    fc.integer({ min: math.epochMs, max: end }),
    fc
      .integer({ min: 0, max: Math.floor((end - math.epochMs) / unit) })
      .chain((tick) => fc.constantFrom(-1, 0, 1).map((d) => tickStartMs(math, tick) + d))
      .filter((ms) => ms >= math.epochMs && ms <= end),
  );
  return fc
    .tuple(instant, instant)
    .filter(([a, b]) => a !== b)
    .map(([a, b]): [number, number] => (a < b ? [a, b] : [b, a]));
}

describe("idBounds", () => {
  for (const [name, math] of Object.entries(layouts)) {
    it(`is exact for ${name}: min is the first ID at or after from, max the last before to`, () => {
      fc.assert(
        fc.property(ranges(math), ([from, to]) => {
          let bounds;
          try {
            bounds = idBounds(math, from, to);
          } catch (error) {
            // Empty only when no tick starts in [from, to).
            const firstTick = Math.ceil((from - math.epochMs) / math.layout.timeUnitMs);
            return (
              (error as { code: string }).code === BoundsErrorCode.EmptyRange &&
              tickStartMs(math, firstTick) >= to
            );
          }
          const { min, max } = bounds;
          return (
            min <= max &&
            timeOf(math, min) >= from &&
            (min === 0n || timeOf(math, min - 1n) < from) &&
            timeOf(math, max) < to &&
            (max === lastId(math) || timeOf(math, max + 1n) >= to)
          );
        }),
      );
    });
  }

  it("selects whole ticks at tick edges", () => {
    const math = layouts.snowflake;
    const t = tickStartMs(math, 1000);
    expect(idBounds(math, t, t + 1)).toEqual({ min: 1000n << 22n, max: (1001n << 22n) - 1n });
    expect(idBounds(math, t + 1, t + 3)).toEqual({ min: 1001n << 22n, max: (1003n << 22n) - 1n });
    const sec = layouts.seconds;
    const s = tickStartMs(sec, 5);
    expect(idBounds(sec, s - 1, s + 1)).toEqual({ min: 5n << 32n, max: (6n << 32n) - 1n });
  });

  it("covers the layout from its epoch to its end", () => {
    const math = layouts.tiny;
    expect(idBounds(math, math.epochMs, layoutEndMs(math))).toEqual({ min: 0n, max: lastId(math) });
  });

  it("says what is allowed when the range is wrong", () => {
    const math = layouts.snowflake;
    const t = Date.parse("2025-01-01T00:00:00Z");
    const fail = (from: number, to: number, m: LayoutMath = math) => {
      try {
        idBounds(m, from, to);
      } catch (error) {
        return [(error as { code: string }).code, (error as Error).message];
      }
      throw new Error("expected an error");
    };
    expect(fail(t + 1, t)).toEqual([
      "EMPTY_RANGE",
      "from (2025-01-01T00:00:00.001Z) is after to (2025-01-01T00:00:00.000Z); from must be before to (the range is [from, to))",
    ]);
    expect(fail(t, t)[1]).toMatch(
      /from equals to \(2025-01-01T00:00:00.000Z\): the range \[from, to\) is empty/,
    );
    expect(fail(math.epochMs - 1, t)).toEqual([
      "BEFORE_EPOCH",
      "from (2023-12-31T23:59:59.999Z) is before the layout's epoch, where no ID exists; use times from the epoch 2024-01-01T00:00:00Z up to the layout's end 2093-09-06T15:47:35.552Z (41 timestamp bits of 1 ms)",
    ]);
    const tiny = layouts.tiny;
    expect(fail(tiny.epochMs, layoutEndMs(tiny) + 1, tiny)[0]).toBe("PAST_LAYOUT_END");
    expect(fail(tiny.epochMs + 1, tiny.epochMs + 6, tiny)[1]).toMatch(/no 7 ms tick starts in/);
  });
});

describe("parseTimeParameter", () => {
  it("reads RFC 3339 with any offset and epoch milliseconds", () => {
    expect(parseTimeParameter("from", "2024-05-01T00:00:00Z")).toBe(Date.UTC(2024, 4, 1));
    expect(parseTimeParameter("from", "2024-05-01T02:00:00+02:00")).toBe(Date.UTC(2024, 4, 1));
    expect(parseTimeParameter("from", "2024-05-01t00:00:00.25z")).toBe(Date.UTC(2024, 4, 1) + 250);
    expect(parseTimeParameter("from", "1714521600000")).toBe(1714521600000);
  });

  it("rounds a sub-millisecond fraction up, so both bounds stay exact", () => {
    expect(parseTimeParameter("to", "2024-05-01T00:00:00.0001Z")).toBe(Date.UTC(2024, 4, 1) + 1);
    expect(parseTimeParameter("to", "2024-05-01T00:00:00.123000Z")).toBe(Date.UTC(2024, 4, 1) + 123);
  });

  it("names the parameter and the accepted forms", () => {
    const forms = /use RFC 3339 \(e\.g\. 2024-05-01T00:00:00Z\) or Unix epoch milliseconds/;
    expect(() => parseTimeParameter("from", "yesterday")).toThrow(/from "yesterday" is not a time/);
    expect(() => parseTimeParameter("from", "yesterday")).toThrow(forms);
    expect(() => parseTimeParameter("to", "2024-02-30T00:00:00Z")).toThrow(
      /to "2024-02-30T00:00:00Z" is not a time/,
    );
    expect(() => parseTimeParameter("to", "2024-05-01T00:00:00")).toThrow(/is not a time/);
    expect(() => parseTimeParameter("to", "-5")).toThrow(/is not a time/);
    expect(() => parseTimeParameter("to", "99999999999999999")).toThrow(/is not a time/);
    expect(() => parseTimeParameter("from", undefined)).toThrow(/from is required/);
  });
});
