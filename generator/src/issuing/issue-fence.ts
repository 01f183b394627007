/**
 * The window in which the issuer may mint IDs, set by whoever holds the worker id
 * (the lease keeper in a fleet, the standalone fence advancer otherwise). Ticks are in
 * the ID's own time domain (ticks since the layout's epoch).
 */
export interface IssueFence {
  /** Issue only ticks strictly greater than this (the previous holder's reservedUntil). */
  floorTick: number;
  /** ...and at most this: the reservedUntil this process has durably written. */
  ceilingTick: number;
  /** ...and only while the monotonic clock reads less than this (self-fencing). */
  validUntilMonoMs: number;
  /**
   * Both clocks when the confirming write was sent. The monotonic clock does not count a
   * suspended VM's sleep (nodejs/node#47724) while the wall clock does: when the wall clock has
   * run more than SUSPEND_TOLERANCE_MS ahead of the monotonic one since then, the fence is
   * treated as expired until the next renewal. Absent (standalone): not checked.
   */
  anchor?: { wallMs: number; monoMs: number };
}

/** How far the wall clock may run ahead of the monotonic clock under one fence before it counts as a suspend. */
export const SUSPEND_TOLERANCE_MS = 1000;

/** Whether the wall clock ran ahead of the monotonic clock since `fence` was set by more than the tolerance. */
export function suspendedSince(fence: IssueFence, wallMs: number, monoMs: number): boolean {
  if (!fence.anchor) return false;
  return wallMs - fence.anchor.wallMs - (monoMs - fence.anchor.monoMs) > SUSPEND_TOLERANCE_MS;
}
