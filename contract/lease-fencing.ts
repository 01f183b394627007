/**
 * The rules that tie a holder's renewals to its self-fencing (docs/design.md, invariant 4),
 * in one unit of time whatever the caller's: the fleet spec (seconds, next to the CEL the
 * API server runs), the generator's environment (seconds) and the lease rules (ms).
 */
export interface FenceTiming {
  /** Lease duration. */
  readonly duration: number;
  /** How often the holder renews. */
  readonly renewInterval: number;
  /** How long before the lease would expire the holder stops issuing. */
  readonly safetyMargin: number;
}

/** The holder fences itself only after some of its lease has passed: margin < duration. */
export function marginFitsLease(t: FenceTiming): boolean {
  return t.safetyMargin < t.duration;
}

/** A healthy holder renews before it would fence itself: renew interval < duration − margin. */
export function renewsBeforeFencing(t: FenceTiming): boolean {
  return t.renewInterval < t.duration - t.safetyMargin;
}

/** FenceTiming plus the operator's side: how long past the lease it waits before reusing an id. */
export interface ReclaimTiming extends FenceTiming {
  /** Extra wait past the lease duration before the operator reuses a silent holder's id. */
  readonly reclaimGrace: number;
}

/**
 * The smallest relative rate difference between a holder's and the operator's monotonic
 * clocks that every fleet must tolerate: 1 % (ten times ntpd's 500 ppm slew; chrony slews
 * faster only while it corrects a large offset, up to 8.3 % by default, which the default
 * timing's 25 % covers). A timing that tolerates less is refused.
 */
export const MIN_TOLERATED_RATE_DRIFT = 0.01;

/**
 * The relative rate difference r between the two monotonic clocks this timing tolerates:
 * a holder fences itself after duration − margin on a clock running r slow, before the
 * operator reuses its id after duration + grace on a clock running r fast:
 * (D + G) / (1 + r) = (D − M) / (1 − r), so r = (G + M) / (2D + G − M).
 */
export function toleratedRateDrift(t: ReclaimTiming): number {
  return (t.reclaimGrace + t.safetyMargin) / (2 * t.duration + t.reclaimGrace - t.safetyMargin);
}

/** Whether a timing tolerates at least MIN_TOLERATED_RATE_DRIFT (the CEL rule says the same in integers). */
export function toleratesRateDrift(t: ReclaimTiming): boolean {
  // (G + M) / (2D + G − M) >= 1/100, without division.
  return (t.reclaimGrace + t.safetyMargin) * 100 >= 2 * t.duration + t.reclaimGrace - t.safetyMargin;
}
