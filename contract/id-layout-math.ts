// The layout math every component shares, free of runtime dependencies (no zod), so the
// client library can import it as is. Validation of raw input lives in id-layout.ts.

/** Bits in an ID below the sign bit: timestamp + worker id + sequence always fill them. */
export const ID_PAYLOAD_BITS = 63;

/** The largest ID: 2^63 - 1 (every ID is a non-negative signed 64-bit integer). */
export const MAX_ID = (1n << 63n) - 1n;

/** The default layout: Twitter Snowflake's 41/10/12 split at 1 ms from 2024-01-01. */
export const DEFAULT_LAYOUT = {
  timestampBits: 41,
  workerIdBits: 10,
  sequenceBits: 12,
  timeUnitMs: 1,
  epoch: "2024-01-01T00:00:00Z",
} as const;

/**
 * Inclusive bounds of each numeric layout field. Worker id and sequence stay JS numbers on
 * the hot path, so they are capped at 31 bits; the timestamp takes what is left of the 63.
 */
export const LAYOUT_LIMITS = {
  timestampBits: { min: 1, max: 61 },
  workerIdBits: { min: 1, max: 31 },
  sequenceBits: { min: 1, max: 31 },
  timeUnitMs: { min: 1, max: 1000 },
} as const;

/** An epoch as the layout accepts it: RFC 3339 in UTC, at most millisecond precision. */
export const EPOCH_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * The bit layout of one fleet's IDs (validated by id-layout.ts's schema, whose output type
 * is checked to equal this one).
 */
export interface IdLayout {
  timestampBits: number;
  workerIdBits: number;
  sequenceBits: number;
  timeUnitMs: number;
  epoch: string;
}

/** Why the three bit counts do not make a layout, or null when they fill the 63 bits. */
export function payloadBitsProblem(
  timestampBits: number,
  workerIdBits: number,
  sequenceBits: number,
): string | null {
  const sum = timestampBits + workerIdBits + sequenceBits;
  if (sum === ID_PAYLOAD_BITS) return null;
  return `timestampBits + workerIdBits + sequenceBits must be 63, got ${timestampBits} + ${workerIdBits} + ${sequenceBits} = ${sum}`;
}

/** An ID taken apart. `timestamp` counts ticks since the layout's epoch. */
export interface DecodedId {
  timestamp: number;
  time: Date;
  workerId: number;
  sequence: number;
}

/**
 * Derived constants of a layout, computed once. Everything that encodes or decodes
 * an ID goes through one of these, so the shift and mask math lives in one place.
 */
export interface LayoutMath {
  readonly layout: IdLayout;
  readonly epochMs: number;
  readonly maxTimestamp: bigint;
  /** maxTimestamp as a number, for comparing ticks (exact below 2^53, beyond any reachable tick above). */
  readonly maxTick: number;
  readonly maxWorkerId: number;
  readonly maxSequence: number;
  /** IDs one worker can issue per tick (2^S). */
  readonly idsPerTick: number;
  /** IDs one worker can issue per second at full sequence use. */
  readonly idsPerSecondPerWorker: number;
  /** The instant after which the timestamp field overflows, or null if past year 275760. */
  readonly exhaustsAt: Date | null;
}

/** Precomputes the constants of a validated layout. */
export function layoutMath(layout: IdLayout): LayoutMath {
  const epochMs = Date.parse(layout.epoch);
  const idsPerTick = 2 ** layout.sequenceBits;
  const maxTimestamp = (1n << BigInt(layout.timestampBits)) - 1n;
  // The last representable tick ends at epoch + 2^T ticks; Date tops out at 8.64e15 ms.
  const endMs = epochMs + 2 ** layout.timestampBits * layout.timeUnitMs;
  return {
    layout,
    epochMs,
    maxTimestamp,
    maxTick: Number(maxTimestamp),
    maxWorkerId: 2 ** layout.workerIdBits - 1,
    maxSequence: idsPerTick - 1,
    idsPerTick,
    idsPerSecondPerWorker: (idsPerTick * 1000) / layout.timeUnitMs,
    exhaustsAt: endMs <= 8.64e15 ? new Date(endMs) : null,
  };
}

/**
 * Why a layout can no longer issue IDs at `nowMs`: its timestamp bits ran out (an ID past
 * them would not fit in 63 bits, and wrapping would repeat old IDs). Null while it can.
 * Decoding old IDs of such a layout stays valid, so parseIdLayout accepts it.
 */
export function layoutExpiryProblem(math: LayoutMath, nowMs: number): string | null {
  if (tickAt(math, nowMs) <= math.maxTick) return null;
  const { timestampBits, timeUnitMs, epoch } = math.layout;
  return `the ${timestampBits} timestamp bits at ${timeUnitMs} ms from ${epoch} ran out on ${math.exhaustsAt?.toISOString() ?? "?"}; no more IDs fit. Use a layout that lasts longer (more timestamp bits or a longer time unit) for new tables only: IDs of another layout can repeat old ones`;
}

/** The tick (ticks since epoch) that contains the wall-clock instant `ms`. */
export function tickAt(math: LayoutMath, ms: number): number {
  return Math.floor((ms - math.epochMs) / math.layout.timeUnitMs);
}

/** Wall-clock instant (ms since the Unix epoch) at which `tick` starts. */
export function tickStartMs(math: LayoutMath, tick: number): number {
  return math.epochMs + tick * math.layout.timeUnitMs;
}

/** Packs (timestamp, worker id, sequence) into an ID. Throws if a field does not fit. */
export function encodeId(math: LayoutMath, timestamp: number, workerId: number, sequence: number): bigint {
  const { workerIdBits, sequenceBits } = math.layout;
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || BigInt(timestamp) > math.maxTimestamp) {
    throw new RangeError(`timestamp ${timestamp} does not fit in ${math.layout.timestampBits} bits`);
  }
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > math.maxWorkerId) {
    throw new RangeError(`workerId ${workerId} must be between 0 and ${math.maxWorkerId}`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > math.maxSequence) {
    throw new RangeError(`sequence ${sequence} must be between 0 and ${math.maxSequence}`);
  }
  return (
    (BigInt(timestamp) << BigInt(workerIdBits + sequenceBits)) |
    (BigInt(workerId) << BigInt(sequenceBits)) |
    BigInt(sequence)
  );
}

/** Parses a decimal ID string; throws a message that says what a valid ID looks like. */
export function parseIdString(text: string): bigint {
  if (!/^\d{1,19}$/.test(text)) {
    throw new RangeError(
      `"${text}" is not a decimal ID: expected a decimal integer of 1 to 19 digits, 0 to ${MAX_ID}`,
    );
  }
  const id = BigInt(text);
  if (id > MAX_ID) {
    throw new RangeError(`"${text}" is not a decimal ID: it is larger than ${MAX_ID}`);
  }
  return id;
}

/** Takes an ID apart. Exact for every layout. */
export function decodeId(math: LayoutMath, id: bigint): DecodedId {
  if (id < 0n || id > MAX_ID) throw new RangeError(`ID ${id} is outside 0..${MAX_ID}`);
  const { workerIdBits, sequenceBits } = math.layout;
  const sequence = Number(id & BigInt(math.maxSequence));
  const workerId = Number((id >> BigInt(sequenceBits)) & BigInt(math.maxWorkerId));
  const timestamp = Number(id >> BigInt(workerIdBits + sequenceBits));
  return { timestamp, time: new Date(tickStartMs(math, timestamp)), workerId, sequence };
}
