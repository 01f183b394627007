import type { LayoutMath } from "./id-layout-math.ts";

// IDs for a time range: `WHERE id BETWEEN min AND max` selects exactly the IDs whose time
// (the start of their tick) lies in [from, to). An ID's time is its tick's start, so the
// bounds are tick edges: min is the first ID of the first tick starting at or after
// `from`, max the last ID of the last tick starting before `to`.

/** Codes of the ways a bounds request can be wrong (the HTTP API returns them with a 400). */
export const BoundsErrorCode = {
  /** A time parameter is neither RFC 3339 nor epoch milliseconds. */
  InvalidTime: "INVALID_TIME",
  /** `from` is not before `to`, or no tick starts in between. */
  EmptyRange: "EMPTY_RANGE",
  /** A time lies before the layout's epoch, where no ID exists. */
  BeforeEpoch: "BEFORE_EPOCH",
  /** A time lies past the instant the layout's timestamp bits run out. */
  PastLayoutEnd: "PAST_LAYOUT_END",
} as const;
export type BoundsErrorCode = (typeof BoundsErrorCode)[keyof typeof BoundsErrorCode];

/** Bad input to idBounds or parseTimeParameter; `message` says what is allowed. */
export class IdBoundsError extends RangeError {
  readonly code: BoundsErrorCode;
  constructor(code: BoundsErrorCode, message: string) {
    super(message);
    this.name = "IdBoundsError";
    this.code = code;
  }
}

/** The IDs of a half-open time range, inclusive on both ends: `id BETWEEN min AND max`. */
export interface IdBounds {
  min: bigint;
  max: bigint;
}

const iso = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`);

/** ceil(a / b) for bigints, b > 0. */
const ceilDiv = (a: bigint, b: bigint) => (a >= 0n ? (a + b - 1n) / b : -(-a / b));

/**
 * The smallest ID whose time is >= fromMs and the largest whose time is < toMs (both
 * Unix epoch milliseconds, whole numbers). Throws IdBoundsError when the range is empty,
 * starts before the layout's epoch or ends past the layout's last tick.
 */
export function idBounds(math: LayoutMath, fromMs: number, toMs: number): IdBounds {
  for (const [name, ms] of [
    ["from", fromMs],
    ["to", toMs],
  ] as const) {
    if (!Number.isSafeInteger(ms)) {
      throw new IdBoundsError(BoundsErrorCode.InvalidTime, `${name} must be a whole number of milliseconds`);
    }
  }
  const { epoch, timeUnitMs, timestampBits, workerIdBits, sequenceBits } = math.layout;
  const unit = BigInt(timeUnitMs);
  const epochMs = BigInt(math.epochMs);
  const endTick = math.maxTimestamp + 1n;
  const endMs = epochMs + endTick * unit;
  const allowed = `times from the epoch ${epoch} up to the layout's end ${iso(Number(endMs))} (${timestampBits} timestamp bits of ${timeUnitMs} ms)`;
  if (fromMs > toMs) {
    throw new IdBoundsError(
      BoundsErrorCode.EmptyRange,
      `from (${iso(fromMs)}) is after to (${iso(toMs)}); from must be before to (the range is [from, to))`,
    );
  }
  if (fromMs === toMs) {
    throw new IdBoundsError(
      BoundsErrorCode.EmptyRange,
      `from equals to (${iso(fromMs)}): the range [from, to) is empty; from must be before to`,
    );
  }
  if (BigInt(fromMs) < epochMs) {
    throw new IdBoundsError(
      BoundsErrorCode.BeforeEpoch,
      `from (${iso(fromMs)}) is before the layout's epoch, where no ID exists; use ${allowed}`,
    );
  }
  if (BigInt(toMs) > endMs) {
    throw new IdBoundsError(
      BoundsErrorCode.PastLayoutEnd,
      `to (${iso(toMs)}) is past the layout's end; use ${allowed}`,
    );
  }
  const firstTick = ceilDiv(BigInt(fromMs) - epochMs, unit);
  const lastTick = ceilDiv(BigInt(toMs) - epochMs, unit) - 1n;
  if (firstTick > lastTick) {
    throw new IdBoundsError(
      BoundsErrorCode.EmptyRange,
      `no ${timeUnitMs} ms tick starts in [${iso(fromMs)}, ${iso(toMs)}), so no ID has a time in it; widen the range to include a tick start (epoch + a multiple of ${timeUnitMs} ms)`,
    );
  }
  const shift = BigInt(workerIdBits + sequenceBits);
  return { min: firstTick << shift, max: ((lastTick + 1n) << shift) - 1n };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses a time parameter: RFC 3339 (2024-05-01T00:00:00Z, 2024-05-01T02:00:00.5+02:00) or
 * Unix epoch milliseconds (1714521600000). Returns whole epoch milliseconds; a fraction
 * below a millisecond rounds up, which keeps both bounds exact (an ID's time is a whole
 * millisecond, so "time >= x.5" and "time < x.5" mean ">= x+1" and "< x+1").
 * `name` names the parameter in the error.
 */
export function parseTimeParameter(name: string, text: string | undefined): number {
  const allowed = `RFC 3339 (e.g. 2024-05-01T00:00:00Z) or Unix epoch milliseconds (e.g. 1714521600000)`;
  if (text === undefined || text === "") {
    throw new IdBoundsError(BoundsErrorCode.InvalidTime, `${name} is required: ${allowed}`);
  }
  if (/^\d{1,16}$/.test(text)) {
    const ms = Number(text);
    if (ms <= 8.64e15) return ms;
  }
  const match = RFC3339.exec(text);
  if (match) {
    const [, year, month, day, hour, minute, second, fraction = "", zone] = match as unknown as string[];
    const ms = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}${zone?.toUpperCase()}`);
    const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
    if (Number.isFinite(ms) && Number(day) >= 1 && Number(day) <= daysInMonth && Number(second) <= 59) {
      const millis = Number(fraction.slice(0, 3).padEnd(3, "0"));
      const belowMilli = /[1-9]/.test(fraction.slice(3)) ? 1 : 0;
      return ms + millis + belowMilli;
    }
  }
  throw new IdBoundsError(BoundsErrorCode.InvalidTime, `${name} "${text}" is not a time: use ${allowed}`);
}
