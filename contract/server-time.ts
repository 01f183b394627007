/**
 * The API server as the clock reference every cluster has. Generators (every renewal) and the
 * operator (a periodic probe) already talk to it, and each answer carries a `Date` header
 * (RFC 9110 §6.6.1: the server's clock, whole seconds). One answer bounds the local clock's
 * offset to about a second; that is coarse next to NTP, but enough to catch a clock that is
 * seconds off, which is what the lost-state floors must not miss (docs/lease-protocol.md,
 * "Clocks").
 */

/**
 * What a fleet's clocks are checked against: its NTP servers, or without them the API server.
 * The API-server check is coarse (SERVER_TIME_UNCERTAINTY_MS) and only a clock proven ahead
 * fails it: that is the direction that could put a holder's IDs above a lost-state floor; a
 * clock behind issues IDs with early times and waits at its floor, as with NTP it would not.
 */
export const ClockReference = {
  Ntp: "NTP",
  ApiServer: "the API server's clock",
} as const;
export type ClockReference = (typeof ClockReference)[keyof typeof ClockReference];

/** The reference of a fleet's clock policy. */
export function clockReferenceOf(ntpServers: readonly unknown[]): ClockReference {
  return ntpServers.length > 0 ? ClockReference.Ntp : ClockReference.ApiServer;
}

/** Whether a holder's reported offset is outside what the fleet tolerates. */
export function offsetExceeds(offsetMs: number, maxDriftMs: number, reference: ClockReference): boolean {
  return reference === ClockReference.Ntp ? Math.abs(offsetMs) > maxDriftMs : offsetMs > maxDriftMs;
}

/** One answer's view of the server's clock, with the local wall clock around the request. */
export interface ServerTimeSample {
  sentWallMs: number;
  receivedWallMs: number;
  /** The `Date` header, parsed: the server's clock truncated to the second. */
  serverDateMs: number;
}

/** Bounds on local minus server time, ms: the true offset lies in [lowMs, highMs]. */
export interface OffsetBounds {
  lowMs: number;
  highMs: number;
}

/** Answers slower than this say too little about when the server stamped them; they are skipped. */
export const MAX_SERVER_TIME_RTT_MS = 500;

/** How far a clock that passed the API-server check may still be off, beyond the fleet's max drift. */
export const SERVER_TIME_UNCERTAINTY_MS = 1000 + MAX_SERVER_TIME_RTT_MS;

/**
 * The offset bounds one answer proves, or null when it proves too little (slow, or the local
 * clock went back during the request). The server stamped `Date` at some instant between send
 * and receipt, when its clock read somewhere in [Date, Date + 1 s).
 */
export function offsetBoundsOf(sample: ServerTimeSample): OffsetBounds | null {
  const rtt = sample.receivedWallMs - sample.sentWallMs;
  if (!(rtt >= 0 && rtt <= MAX_SERVER_TIME_RTT_MS)) return null;
  return {
    lowMs: sample.sentWallMs - (sample.serverDateMs + 1000),
    highMs: sample.receivedWallMs - sample.serverDateMs,
  };
}

/**
 * How far the fleet's rules let a healthy holder's clock be from true time: its max drift,
 * plus the check's own resolution when the API server, not NTP, is the reference.
 */
export function clockToleranceMs(maxDriftMs: number, reference: ClockReference): number {
  return maxDriftMs + (reference === ClockReference.Ntp ? 0 : SERVER_TIME_UNCERTAINTY_MS);
}

/**
 * The offset to report for bounds: the value in [lowMs, highMs] nearest zero (0 when the
 * bounds allow a correct clock), so a reported offset is never larger than what is proven.
 */
export function provenOffsetMs(bounds: OffsetBounds): number {
  if (bounds.lowMs > 0) return bounds.lowMs;
  if (bounds.highMs < 0) return bounds.highMs;
  return 0;
}
