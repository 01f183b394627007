import type { LayoutMath } from "../../../contract/id-layout-math.ts";

// IDs in a range are consecutive integers, so their decimal forms share everything but
// the last few digits. Splitting an ID as prefix * 10^4 + low keeps both halves exact JS
// numbers (prefix < 2^63 / 10^4 < 2^53), so one BigInt per range is enough and each ID
// costs a table lookup and a concatenation.
const LOW_DIGITS = 4;
/** IDs are split as prefix * LOW_MOD + low. */
export const LOW_MOD = 10 ** LOW_DIGITS;
const LOW_MOD_BIG = BigInt(LOW_MOD);
const PADDED_LOW: readonly string[] = Array.from({ length: LOW_MOD }, (_, i) =>
  String(i).padStart(LOW_DIGITS, "0"),
);

/**
 * Splits the ID (tick, workerId, sequence) into prefix * 10^4 + low, both exact JS
 * numbers. The one BigInt computation per range of consecutive IDs.
 */
export function splitId(
  math: LayoutMath,
  tick: number,
  workerId: number,
  sequence: number,
): { prefix: number; low: number } {
  const { workerIdBits, sequenceBits } = math.layout;
  const id =
    (BigInt(tick) << BigInt(workerIdBits + sequenceBits)) |
    (BigInt(workerId) << BigInt(sequenceBits)) |
    BigInt(sequence);
  return { prefix: Number(id / LOW_MOD_BIG), low: Number(id % LOW_MOD_BIG) };
}

/**
 * Appends the decimal strings of the IDs (tick, workerId, firstSequence + i) for
 * i < count to `out`. Exact for every layout; equal to encodeId(...).toString().
 * The caller guarantees the fields fit the layout (the issuer only hands out such ranges).
 */
export function appendDecimalIds(
  math: LayoutMath,
  tick: number,
  workerId: number,
  firstSequence: number,
  count: number,
  out: string[],
): void {
  let { prefix, low } = splitId(math, tick, workerId, firstSequence);
  let head = prefix === 0 ? "" : String(prefix);
  for (let i = 0; i < count; i++) {
    out.push(prefix === 0 ? String(low) : head + PADDED_LOW[low]);
    if (++low === LOW_MOD) {
      low = 0;
      head = String(++prefix);
    }
  }
}

/** The decimal string of one ID. */
export function decimalId(math: LayoutMath, tick: number, workerId: number, sequence: number): string {
  const out: string[] = [];
  appendDecimalIds(math, tick, workerId, sequence, 1, out);
  return out[0] as string;
}
