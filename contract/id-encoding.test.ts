import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeIdAs,
  encodeIdAs,
  ID_FORMAT_SPECS,
  ID_FORMATS,
  IdFormat,
  parseIdFormat,
} from "./id-encoding.ts";
import { MAX_ID } from "./id-layout-math.ts";

const anyId = fc.bigInt({ min: 0n, max: MAX_ID });
// Small and large IDs both matter: width padding shows at the bottom, overflow at the top.
const ids = fc.oneof(
  anyId,
  fc.bigInt({ min: 0n, max: 1n << 20n }),
  fc.bigInt({ min: MAX_ID - 1000n, max: MAX_ID }),
);
const fixedWidth = ID_FORMATS.filter((f) => ID_FORMAT_SPECS[f].fixedWidth);

describe("encodeIdAs / decodeIdAs", () => {
  it("round-trips every ID in every format", () => {
    for (const format of ID_FORMATS) {
      fc.assert(fc.property(ids, (id) => decodeIdAs(encodeIdAs(id, format), format) === id));
    }
  });

  it("writes base62 and base32 at their fixed width", () => {
    for (const format of fixedWidth) {
      fc.assert(fc.property(ids, (id) => encodeIdAs(id, format).length === ID_FORMAT_SPECS[format].width));
    }
  });

  it("keeps numeric order as string order in the fixed-width formats", () => {
    for (const format of fixedWidth) {
      fc.assert(
        fc.property(ids, ids, (a, b) => {
          const [x, y] = [encodeIdAs(a, format), encodeIdAs(b, format)];
          return Math.sign(Number(a - b)) === (x < y ? -1 : x > y ? 1 : 0);
        }),
      );
    }
  });

  it("writes the extremes as expected", () => {
    expect(encodeIdAs(0n, IdFormat.base62)).toBe("00000000000");
    expect(encodeIdAs(MAX_ID, IdFormat.base62)).toBe("AzL8n0Y58m7");
    expect(encodeIdAs(0n, IdFormat.base32)).toBe("0000000000000");
    expect(encodeIdAs(MAX_ID, IdFormat.base32)).toBe("7ZZZZZZZZZZZZ");
    expect(encodeIdAs(31n, IdFormat.base32)).toBe("000000000000Z");
    expect(encodeIdAs(123n, IdFormat.decimal)).toBe("123");
    expect(encodeIdAs(123n)).toBe("123");
  });

  it("reads Crockford base32 case-insensitively, with I/L as 1 and O as 0", () => {
    expect(decodeIdAs("000000000000z", IdFormat.base32)).toBe(31n);
    expect(decodeIdAs("00000000000IL", IdFormat.base32)).toBe(33n);
    expect(decodeIdAs("0000000000010", IdFormat.base32)).toBe(decodeIdAs("00000000000lo", IdFormat.base32));
  });

  it("names the format and the expected width when the text is not an ID", () => {
    expect(() => decodeIdAs("abc", IdFormat.base62)).toThrow(
      /"abc" is not a base62 ID: it has 3 characters, expected 11 characters of 0-9A-Za-z$/,
    );
    expect(() => decodeIdAs("0000000000-00", IdFormat.base32)).toThrow(
      /"-" is not a base32 digit; expected 13 characters/,
    );
    expect(() => decodeIdAs("8000000000000", IdFormat.base32)).toThrow(
      /not a base32 ID: it is larger than the largest ID, 7ZZZZZZZZZZZZ/,
    );
    expect(() => decodeIdAs("zzzzzzzzzzz", IdFormat.base62)).toThrow(
      /larger than the largest ID, AzL8n0Y58m7/,
    );
    expect(() => decodeIdAs("0000000000U", IdFormat.base32)).toThrow(/expected 13 characters/);
    expect(() => decodeIdAs("12x", IdFormat.decimal)).toThrow(
      /not a decimal ID: expected a decimal integer of 1 to 19 digits/,
    );
  });

  it("refuses IDs outside 0..2^63-1", () => {
    expect(() => encodeIdAs(-1n, IdFormat.base62)).toThrow(/outside 0\.\.9223372036854775807/);
    expect(() => encodeIdAs(MAX_ID + 1n, IdFormat.decimal)).toThrow(/outside/);
  });
});

describe("parseIdFormat", () => {
  it("defaults to decimal and lists the choices otherwise", () => {
    expect(parseIdFormat(undefined)).toBe("decimal");
    expect(parseIdFormat("")).toBe("decimal");
    expect(parseIdFormat("base32")).toBe("base32");
    expect(() => parseIdFormat("hex")).toThrow(
      'format "hex" is not one of decimal, base62, base32 (default decimal)',
    );
    expect(() => parseIdFormat("toString")).toThrow(/not one of/);
  });
});
