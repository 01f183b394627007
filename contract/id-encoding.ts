import { MAX_ID, parseIdString } from "./id-layout-math.ts";

// Text forms of an ID. base62 and base32 are fixed width with digits in ASCII order, so two
// encoded IDs compare as strings (byte by byte) exactly as the IDs compare as numbers.
// decimal is the number itself, as a BIGINT column or BigInt() gives it back: no leading
// zeros, so it is 1..19 digits and sorts as text only among IDs of one length.

/** base62 digits in ASCII order: 0-9, A-Z, a-z. */
const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Crockford's base32 digits (no I, L, O, U), which are in ASCII order. */
const CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The text forms an ID can take. decimal is the default everywhere. */
export const IdFormat = {
  decimal: "decimal",
  base62: "base62",
  base32: "base32",
} as const;
export type IdFormat = (typeof IdFormat)[keyof typeof IdFormat];

/** Every format, in the order the API documents them (decimal, the default, first). */
export const ID_FORMATS: readonly IdFormat[] = Object.values(IdFormat);

/** The format used when none is named. */
export const DEFAULT_ID_FORMAT: IdFormat = IdFormat.decimal;

/**
 * How each format writes an ID. `width` is the exact length (the most digits for decimal),
 * `digits` what a valid ID is made of, `description` what the API documents.
 */
export const ID_FORMAT_SPECS = {
  decimal: {
    width: 19,
    fixedWidth: false,
    digits: "decimal digits, 0 to 9223372036854775807",
    description: "the number in decimal, 1 to 19 digits, no leading zeros (default)",
  },
  base62: {
    width: 11,
    fixedWidth: true,
    digits: "0-9A-Za-z",
    description: "11 characters of 0-9A-Za-z; sorts as text like the number (case-sensitive, byte order)",
  },
  base32: {
    width: 13,
    fixedWidth: true,
    digits: "Crockford base32: 0-9 and A-Z without I, L, O, U, in any case",
    description:
      "13 characters of Crockford's base32 (0-9A-Z without I, L, O, U); sorts as text like the number, case-insensitive",
  },
} as const satisfies Record<
  IdFormat,
  { width: number; fixedWidth: boolean; digits: string; description: string }
>;

/** Whether `text` names a format. */
export function isIdFormat(text: string): text is IdFormat {
  return Object.hasOwn(IdFormat, text);
}

/** Parses a `format` parameter; undefined or empty means the default. Throws naming the choices. */
export function parseIdFormat(text: string | undefined): IdFormat {
  if (text === undefined || text === "") return DEFAULT_ID_FORMAT;
  if (isIdFormat(text)) return text;
  throw new RangeError(
    `format "${text}" is not one of ${ID_FORMATS.join(", ")} (default ${DEFAULT_ID_FORMAT})`,
  );
}

function checkId(id: bigint): void {
  if (id < 0n || id > MAX_ID) throw new RangeError(`ID ${id} is outside 0..${MAX_ID}`);
}

/** Writes `id` with `alphabet`, zero-padded to `width` digits. */
function toDigits(id: bigint, alphabet: string, width: number): string {
  const radix = BigInt(alphabet.length);
  const chars: string[] = new Array<string>(width);
  let rest = id;
  for (let i = width - 1; i >= 0; i--) {
    chars[i] = alphabet[Number(rest % radix)] as string;
    rest /= radix;
  }
  return chars.join("");
}

/** Encodes an ID (0 .. 2^63-1) in `format`. */
export function encodeIdAs(id: bigint, format: IdFormat = DEFAULT_ID_FORMAT): string {
  checkId(id);
  switch (format) {
    case IdFormat.decimal:
      return id.toString();
    case IdFormat.base62:
      return toDigits(id, BASE62_ALPHABET, ID_FORMAT_SPECS.base62.width);
    case IdFormat.base32:
      return toDigits(id, CROCKFORD_ALPHABET, ID_FORMAT_SPECS.base32.width);
  }
}

const BASE62_VALUES = digitValues(BASE62_ALPHABET, 62, {});
// Crockford decoding is case-insensitive and reads I and L as 1, O as 0.
const CROCKFORD_VALUES = digitValues(CROCKFORD_ALPHABET + CROCKFORD_ALPHABET.toLowerCase(), 32, {
  I: 1,
  i: 1,
  L: 1,
  l: 1,
  O: 0,
  o: 0,
});

/** Digit -> value; `alphabet` may repeat the digits (e.g. in lower case) after the first `radix`. */
function digitValues(alphabet: string, radix: number, aliases: Record<string, number>): Map<string, number> {
  const values = new Map<string, number>();
  for (let i = 0; i < alphabet.length; i++) values.set(alphabet[i] as string, i % radix);
  for (const [char, value] of Object.entries(aliases)) values.set(char, value);
  return values;
}

function fromDigits(text: string, format: "base62" | "base32"): bigint {
  const { width, digits } = ID_FORMAT_SPECS[format];
  const values = format === IdFormat.base62 ? BASE62_VALUES : CROCKFORD_VALUES;
  const radix = BigInt(format === IdFormat.base62 ? 62 : 32);
  const expected = `expected ${width} characters of ${digits}`;
  if (text.length !== width) {
    throw new RangeError(`"${text}" is not a ${format} ID: it has ${text.length} characters, ${expected}`);
  }
  let id = 0n;
  for (const char of text) {
    const value = values.get(char);
    if (value === undefined) {
      throw new RangeError(
        `"${text}" is not a ${format} ID: "${char}" is not a ${format} digit; ${expected}`,
      );
    }
    id = id * radix + BigInt(value);
  }
  if (id > MAX_ID) {
    throw new RangeError(
      `"${text}" is not a ${format} ID: it is larger than the largest ID, ${encodeIdAs(MAX_ID, format)}`,
    );
  }
  return id;
}

/**
 * Decodes an ID written in `format`; throws a message naming the format and the width it
 * expects. decimal accepts 1 to 19 digits (leading zeros allowed).
 */
export function decodeIdAs(text: string, format: IdFormat = DEFAULT_ID_FORMAT): bigint {
  switch (format) {
    case IdFormat.decimal:
      return parseIdString(text);
    case IdFormat.base62:
    case IdFormat.base32:
      return fromDigits(text, format);
  }
}
