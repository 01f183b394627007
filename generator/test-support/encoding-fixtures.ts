// Shared by the encoder tests: layouts from common to extreme, IDs around the decimal
// carries the encoders special-case, and a way to aim a range of IDs at one of them.
import { layoutMath, type LayoutMath } from "../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../contract/id-layout.ts";

const MAX_ID = (1n << 63n) - 1n;

export const ENCODING_LAYOUTS: Record<string, LayoutMath> = Object.fromEntries(
  Object.entries({
    snowflake: { timestampBits: 41, workerIdBits: 10, sequenceBits: 12, timeUnitMs: 1 },
    sonyflake: { timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10 },
    wideTime: { timestampBits: 61, workerIdBits: 1, sequenceBits: 1, timeUnitMs: 1 },
    narrowTime: { timestampBits: 1, workerIdBits: 31, sequenceBits: 31, timeUnitMs: 1000 },
    wideSequence: { timestampBits: 31, workerIdBits: 1, sequenceBits: 31, timeUnitMs: 1 },
    wideWorker: { timestampBits: 31, workerIdBits: 31, sequenceBits: 1, timeUnitMs: 1 },
  }).map(([name, l]) => [name, layoutMath(parseIdLayout({ ...l, epoch: "2024-01-01T00:00:00Z" }))]),
);

/** IDs at and around the places where the low four digits or the prefix's length carry. */
export const CARRY_EDGE_IDS = [
  0n,
  1n,
  9_998n,
  9_999n,
  10_000n,
  19_999n,
  99_999n,
  10n ** 15n - 3n,
  10n ** 18n - 2n,
  2n ** 53n,
  MAX_ID - 5n,
];

/** A run of IDs within one tick. */
export interface IdRange {
  tick: number;
  workerId: number;
  first: number;
  count: number;
}

/**
 * The range of up to `want` IDs starting at the ID nearest to `target` (clamped into the
 * layout and into the tick). Ticks are JS numbers: exact up to 2^53 (285,000 years of
 * 1 ms ticks), as in encodeId, so larger ticks are clamped too.
 */
export function rangeNear(math: LayoutMath, target: bigint, want: number): IdRange {
  const { workerIdBits, sequenceBits } = math.layout;
  const id = target < 0n ? 0n : target > MAX_ID ? MAX_ID : target;
  const tick = id >> BigInt(workerIdBits + sequenceBits);
  const first = Number(id & BigInt(math.maxSequence));
  return {
    tick: tick > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(tick),
    workerId: Number((id >> BigInt(sequenceBits)) & BigInt(math.maxWorkerId)),
    first,
    count: Math.max(1, Math.min(want, math.idsPerTick - first)),
  };
}
