import { describe, expect, it } from "vitest";
import {
  DEFAULT_LAYOUT,
  decodeId,
  encodeId,
  layoutExpiryProblem,
  layoutMath,
  parseIdString,
} from "./id-layout-math.ts";
import { parseIdLayout } from "./id-layout.ts";

const layouts = {
  snowflake: {
    timestampBits: 41,
    workerIdBits: 10,
    sequenceBits: 12,
    timeUnitMs: 1,
    epoch: "2024-01-01T00:00:00Z",
  },
  sonyflake: {
    timestampBits: 39,
    workerIdBits: 16,
    sequenceBits: 8,
    timeUnitMs: 10,
    epoch: "2014-09-01T00:00:00Z",
  },
  wideTime: {
    timestampBits: 61,
    workerIdBits: 1,
    sequenceBits: 1,
    timeUnitMs: 1,
    epoch: "2024-01-01T00:00:00Z",
  },
  narrowTime: {
    timestampBits: 1,
    workerIdBits: 31,
    sequenceBits: 31,
    timeUnitMs: 1000,
    epoch: "2024-01-01T00:00:00Z",
  },
  wideSequence: {
    timestampBits: 31,
    workerIdBits: 1,
    sequenceBits: 31,
    timeUnitMs: 1,
    epoch: "2024-01-01T00:00:00Z",
  },
};

describe("parseIdLayout", () => {
  it("fills the defaults", () => {
    expect(parseIdLayout({})).toEqual(DEFAULT_LAYOUT);
  });

  it("names the wrong field", () => {
    expect(() => parseIdLayout({ timestampBits: 41, workerIdBits: 10, sequenceBits: 11 })).toThrow(
      /timestampBits \+ workerIdBits \+ sequenceBits must be 63, got 41 \+ 10 \+ 11 = 62/,
    );
    expect(() => parseIdLayout({ workerIdBits: 40, timestampBits: 11 })).toThrow(
      /workerIdBits: workerIdBits must be at most 31/,
    );
    expect(() => parseIdLayout({ workerIdBits: 0, timestampBits: 51 })).toThrow(
      /workerIdBits: workerIdBits must be at least 1/,
    );
    expect(() => parseIdLayout({ timeUnitMs: 1001 })).toThrow(
      /timeUnitMs: timeUnitMs must be between 1 and 1000/,
    );
    expect(() => parseIdLayout({ epoch: "yesterday" })).toThrow(
      /epoch: epoch must be an RFC 3339 UTC timestamp/,
    );
    expect(() => parseIdLayout({ epoch: "2999-01-01T00:00:00Z" })).toThrow(
      /epoch: 2999-01-01T00:00:00Z is in the future/,
    );
  });
});

describe("encode/decode", () => {
  for (const [name, raw] of Object.entries(layouts)) {
    const math = layoutMath(parseIdLayout(raw));
    // Real timestamps (ticks since epoch) stay far below 2^53; the top of a 61-bit field does not.
    const maxTs = Math.min(Number(math.maxTimestamp), Number.MAX_SAFE_INTEGER);
    const maxW = math.maxWorkerId;
    const maxS = math.maxSequence;
    const cases: [number, number, number][] = [
      [0, 0, 0],
      [maxTs, maxW, maxS],
      [1, 0, maxS],
      [maxTs, 0, 0],
      [Math.floor(maxTs / 3), Math.floor(maxW / 2), Math.floor(maxS / 5)],
    ];
    it(`round-trips the extremes of ${name}`, () => {
      for (const [t, w, s] of cases) {
        const id = encodeId(math, t, w, s);
        expect(id).toBeGreaterThanOrEqual(0n);
        expect(id).toBeLessThan(1n << 63n);
        const decoded = decodeId(math, id);
        expect([decoded.timestamp, decoded.workerId, decoded.sequence]).toEqual([t, w, s]);
      }
    });
  }

  it("puts fields where the Snowflake layout says", () => {
    const math = layoutMath(parseIdLayout(layouts.snowflake));
    expect(encodeId(math, 1, 0, 0)).toBe(1n << 22n);
    expect(encodeId(math, 0, 1, 0)).toBe(1n << 12n);
    expect(encodeId(math, 0, 0, 1)).toBe(1n);
    expect(encodeId(math, 2 ** 41 - 1, 1023, 4095)).toBe((1n << 63n) - 1n);
  });

  it("decodes time in the layout's own unit", () => {
    const math = layoutMath(parseIdLayout(layouts.sonyflake));
    const decoded = decodeId(math, encodeId(math, 100, 7, 3));
    expect(decoded.time.toISOString()).toBe("2014-09-01T00:00:01.000Z");
    expect(decoded.workerId).toBe(7);
  });

  it("refuses fields that do not fit", () => {
    const math = layoutMath(parseIdLayout({}));
    expect(() => encodeId(math, -1, 0, 0)).toThrow(/timestamp -1 does not fit/);
    expect(() => encodeId(math, 0, 1024, 0)).toThrow(/workerId 1024 must be between 0 and 1023/);
    expect(() => encodeId(math, 0, 0, 4096)).toThrow(/sequence 4096 must be between 0 and 4095/);
  });

  it("reports when the timestamp bits run out", () => {
    expect(layoutMath(parseIdLayout({})).exhaustsAt?.toISOString()).toBe("2093-09-06T15:47:35.552Z");
    expect(layoutMath(parseIdLayout(layouts.wideTime)).exhaustsAt).toBeNull();
    expect(layoutMath(parseIdLayout({})).idsPerSecondPerWorker).toBe(4_096_000);
  });

  it("says when a layout can no longer issue, up to its last tick and not after", () => {
    // 33 bits of 1 ms from 2024-01-01: 2^33 ms is about 99.4 days.
    const short = layoutMath(
      parseIdLayout({ timestampBits: 33, workerIdBits: 10, sequenceBits: 20, epoch: "2024-01-01T00:00:00Z" }),
    );
    const endMs = short.exhaustsAt!.getTime();
    expect(short.exhaustsAt!.toISOString()).toBe("2024-04-09T10:05:34.592Z");
    expect(layoutExpiryProblem(short, endMs - 1)).toBeNull();
    expect(layoutExpiryProblem(short, endMs)).toMatch(
      /the 33 timestamp bits at 1 ms from 2024-01-01T00:00:00Z ran out on 2024-04-09T10:05:34.592Z; no more IDs fit. Use a layout that lasts longer/,
    );
    expect(layoutExpiryProblem(layoutMath(parseIdLayout({})), Date.now())).toBeNull();
  });
});

describe("parseIdString", () => {
  it("accepts decimal IDs up to 2^63-1 and explains the rest", () => {
    expect(parseIdString("9223372036854775807")).toBe((1n << 63n) - 1n);
    expect(() => parseIdString("9223372036854775808")).toThrow(/larger than 9223372036854775807/);
    expect(() => parseIdString("-1")).toThrow(/expected a decimal integer/);
    expect(() => parseIdString("12a")).toThrow(/expected a decimal integer/);
  });
});
