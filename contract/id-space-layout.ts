import { layoutMath, tickStartMs, type IdLayout, type LayoutMath } from "./id-layout-math.ts";

/*
 * One id space, one layout at a time (docs/design.md, invariant 8). Disjoint worker ids keep
 * two fleets' IDs apart only when both put the same fields in the same bits with the same
 * epoch and tick: with any difference, one fleet's (timestamp, worker, sequence) is another's
 * bit pattern sooner or later. So the id space's ledger records the one layout its holders
 * use and the highest ID any of them may have issued; a new layout for the same tables is a
 * declared succession whose first ID lies above that mark.
 */

/** The fields of a layout that decide where an ID's bits go. Equal fields, equal IDs. */
export interface SpaceLayout {
  timestampBits: number;
  workerIdBits: number;
  sequenceBits: number;
  timeUnitMs: number;
  /** The epoch in ms since the Unix epoch (two spellings of one instant are one layout). */
  epochMs: number;
}

/** The space layout of a fleet's validated layout. */
export function spaceLayoutOf(layout: IdLayout): SpaceLayout {
  return {
    timestampBits: layout.timestampBits,
    workerIdBits: layout.workerIdBits,
    sequenceBits: layout.sequenceBits,
    timeUnitMs: layout.timeUnitMs,
    epochMs: Date.parse(layout.epoch),
  };
}

/** Layout math for a space layout (the inverse of spaceLayoutOf). */
export function spaceLayoutMath(layout: SpaceLayout): LayoutMath {
  return layoutMath({
    timestampBits: layout.timestampBits,
    workerIdBits: layout.workerIdBits,
    sequenceBits: layout.sequenceBits,
    timeUnitMs: layout.timeUnitMs,
    epoch: new Date(layout.epochMs).toISOString(),
  });
}

/** Whether two layouts put every bit of every ID in the same place. */
export function sameSpaceLayout(a: SpaceLayout, b: SpaceLayout): boolean {
  return (
    a.timestampBits === b.timestampBits &&
    a.workerIdBits === b.workerIdBits &&
    a.sequenceBits === b.sequenceBits &&
    a.timeUnitMs === b.timeUnitMs &&
    a.epochMs === b.epochMs
  );
}

/** `41/10/12 bits, 1 ms ticks from 2024-01-01T00:00:00.000Z`, for messages. */
export function describeSpaceLayout(layout: SpaceLayout): string {
  return `${layout.timestampBits}/${layout.workerIdBits}/${layout.sequenceBits} bits, ${layout.timeUnitMs} ms ticks from ${new Date(layout.epochMs).toISOString()}`;
}

/**
 * The largest ID any holder reserved up to `tick` may have issued: the last sequence of the
 * highest worker id in that tick (a bound over every worker id, so it needs no claim detail).
 */
export function highWaterIdAt(math: LayoutMath, tick: number): bigint {
  // In bigints: a tick near 2^61 is not exact as a number.
  const t = tick <= 0 ? 0n : BigInt(Math.floor(Math.min(tick, Number.MAX_SAFE_INTEGER)));
  const clamped = t > math.maxTimestamp ? math.maxTimestamp : t;
  const below = BigInt(math.layout.workerIdBits + math.layout.sequenceBits);
  return (clamped << below) | ((1n << below) - 1n);
}

/** Where a successor layout starts, or why it cannot. */
export type SuccessionStart =
  | {
      ok: true;
      /** The successor issues only ticks above this one (its ledger's base floor). */
      floorTick: number;
      /** When the successor's first tick begins (ms since the Unix epoch). */
      firstTickStartMs: number;
    }
  | { ok: false; message: string };

/** Longest a successor may have to wait for its first tick before it is refused instead. */
export const MAX_SUCCESSION_WAIT_MS = 10 * 60 * 1000;

/**
 * The first tick of `successor` whose smallest ID is above `highWaterId`, the largest ID the
 * predecessor layout may have issued; refused when that tick is past the successor's last
 * one or more than MAX_SUCCESSION_WAIT_MS after `nowMs` (the message gives the numbers and
 * the epoch that would start at once).
 */
export function successionStart(highWaterId: bigint, successor: SpaceLayout, nowMs: number): SuccessionStart {
  const math = spaceLayoutMath(successor);
  const shift = BigInt(successor.workerIdBits + successor.sequenceBits);
  // Smallest ID of tick t is t << shift; the first t with (t << shift) > highWaterId:
  const firstTick = (highWaterId >> shift) + 1n;
  const describe = describeSpaceLayout(successor);
  if (firstTick > math.maxTimestamp) {
    return {
      ok: false,
      message: `layout ${describe} can never issue IDs above ${highWaterId}, the highest ID this id space may already hold: its largest ID is ${highWaterIdAt(math, math.maxTick)}. Use more timestampBits, fewer workerIdBits+sequenceBits or an earlier epoch`,
    };
  }
  const firstTickStartMs =
    firstTick > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : tickStartMs(math, Number(firstTick));
  const waitMs = firstTickStartMs - nowMs;
  // Past what a Date can hold (year 275760) no clock will ever get there.
  if (!(Math.abs(firstTickStartMs) <= 8.64e15)) {
    return {
      ok: false,
      message: `layout ${describe} would first issue IDs above ${highWaterId}, the highest ID this id space may already hold, only after the year 275760. Use more bits below the timestamp or an earlier epoch`,
    };
  }
  if (waitMs > MAX_SUCCESSION_WAIT_MS) {
    const earlierEpoch = new Date(successor.epochMs - Math.ceil(waitMs / 1000) * 1000).toISOString();
    return {
      ok: false,
      message: `layout ${describe} would first issue IDs above ${highWaterId} (the highest ID this id space may already hold) at ${new Date(firstTickStartMs).toISOString()}, ${Math.ceil(waitMs / 1000)} s from now (at most ${MAX_SUCCESSION_WAIT_MS / 1000} s allowed); an epoch of ${earlierEpoch} or earlier starts at once`,
    };
  }
  return { ok: true, floorTick: Number(firstTick) - 1, firstTickStartMs };
}
