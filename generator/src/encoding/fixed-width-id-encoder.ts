import { encodeIdAs, ID_FORMAT_SPECS, IdFormat } from "../../../contract/id-encoding.ts";
import { encodeId, type LayoutMath } from "../../../contract/id-layout-math.ts";

/** The formats written at a fixed width (all but decimal). */
export type FixedWidthFormat = typeof IdFormat.base62 | typeof IdFormat.base32;

// As in decimal-id-encoder.ts: IDs in a range are consecutive, so each is split as
// prefix * radix^4 + low with both parts exact JS numbers (prefix < 2^63 / 32^4 < 2^53).
// The prefix's digits change once per radix^4 IDs; the low four digits are two lookups in
// a table of all two-digit strings. One BigInt per range, two concatenations per ID.
interface Digits {
  readonly radix: number;
  /** radix^4 */
  readonly lowMod: number;
  readonly lowModBig: bigint;
  /** Every two-digit string, in order. */
  readonly pairs: readonly string[];
  /** The single digits, in order. */
  readonly alphabet: readonly string[];
  readonly headWidth: number;
}

function digits(format: FixedWidthFormat, radix: number): Digits {
  // The two-digit strings are the last two characters of 0..radix^2-1 in this format.
  const pairs = Array.from({ length: radix * radix }, (_, i) => encodeIdAs(BigInt(i), format).slice(-2));
  const lowMod = radix ** 4;
  const alphabet = pairs.slice(0, radix).map((pair) => pair.slice(-1));
  return {
    radix,
    lowMod,
    lowModBig: BigInt(lowMod),
    pairs,
    alphabet,
    headWidth: ID_FORMAT_SPECS[format].width - 4,
  };
}

const DIGITS: Record<FixedWidthFormat, Digits> = {
  base62: digits(IdFormat.base62, 62),
  base32: digits(IdFormat.base32, 32),
};

/** `prefix` (a whole number below 2^53) as the leading (width - 4) digits. */
function head(d: Digits, prefix: number): string {
  let text = "";
  for (let i = 0, rest = prefix; i < d.headWidth; i++, rest = Math.floor(rest / d.radix)) {
    text = d.alphabet[rest % d.radix] + text;
  }
  return text;
}

/**
 * Appends the `format` strings of the IDs (tick, workerId, firstSequence + i) for i < count
 * to `out`; each equals encodeIdAs(encodeId(...), format). The caller guarantees the fields
 * fit the layout (the issuer only hands out such ranges).
 */
export function appendFixedWidthIds(
  math: LayoutMath,
  format: FixedWidthFormat,
  tick: number,
  workerId: number,
  firstSequence: number,
  count: number,
  out: string[],
): void {
  const d = DIGITS[format];
  const id = encodeId(math, tick, workerId, firstSequence);
  let prefix = Number(id / d.lowModBig);
  let low = Number(id % d.lowModBig);
  let prefixText = head(d, prefix);
  const { pairs, radix, lowMod } = d;
  const pairMod = radix * radix;
  for (let i = 0; i < count; i++) {
    out.push(prefixText + pairs[Math.floor(low / pairMod)] + pairs[low % pairMod]);
    if (++low === lowMod) {
      low = 0;
      prefixText = head(d, ++prefix);
    }
  }
}
