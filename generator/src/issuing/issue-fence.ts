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
}
