/**
 * Defaults of a fleet's lease timing and clock policy, written once. The fleet spec gives
 * them to fleets that set nothing; the generator assumes them when its environment leaves
 * a variable unset (the operator renders every value anyway).
 */

/** Worker-id lease timing (docs/lease-protocol.md). */
export const LEASE_DEFAULTS = {
  durationSeconds: 15,
  renewIntervalSeconds: 5,
  reclaimGraceSeconds: 10,
  safetyMarginSeconds: 3,
  reserveAheadMs: 10_000,
} as const;

/** Clock policy: the offset beyond which a generator turns unready, and the backward step it waits out. */
export const CLOCK_DEFAULTS = {
  maxDriftMs: 100,
  maxBackwardWaitMs: 5,
} as const;
