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
