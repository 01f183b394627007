/**
 * Kubernetes resource quantities, as the HPA controller parses them (`resource.ParseQuantity`).
 * Only the decimal SI form is produced: the custom metrics API reports plain numbers.
 */

const SUFFIX_BY_EXPONENT: ReadonlyArray<readonly [exponent: number, suffix: string]> = [
  [18, "E"],
  [15, "P"],
  [12, "T"],
  [9, "G"],
  [6, "M"],
  [3, "k"],
  [0, ""],
  [-3, "m"],
  [-6, "u"],
  [-9, "n"],
];

// Below this magnitude, value * 1e9 is still an exact integer in a double (2^53 ~ 9.007e15).
const NANO_EXACT_LIMIT = 9e6;

/**
 * Formats a number as a canonical Kubernetes quantity: 0.25 -> "250m", 1 -> "1", 1.5 -> "1500m",
 * 2000 -> "2k". Precision is one nano-unit (the finest suffix); finer digits are rounded.
 * Throws on NaN and infinities, which have no quantity form.
 */
export function formatQuantity(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} cannot be written as a Kubernetes quantity`);
  const nanos =
    Math.abs(value) < NANO_EXACT_LIMIT
      ? BigInt(Math.round(value * 1e9))
      : BigInt(Math.round(value)) * 1_000_000_000n;
  if (nanos === 0n) return "0";
  for (const [exponent, suffix] of SUFFIX_BY_EXPONENT) {
    const unit = 10n ** BigInt(exponent + 9);
    if (nanos % unit === 0n) return `${nanos / unit}${suffix}`;
  }
  // Unreachable: the last entry divides every integer.
  throw new Error(`no suffix for ${value}`);
}
