import { LeaseState, type LeaseData } from "../../../contract/lease-record.ts";
import { ClockReference, offsetExceeds } from "../../../contract/server-time.ts";

// Enough pods to act on; the rest are counted.
const NAMED_PODS = 5;

/** True when a holder's last report puts its clock outside the fleet's tolerance. */
export function isOutOfTolerance(
  lease: LeaseData,
  maxDriftMs: number,
  reference: ClockReference = ClockReference.Ntp,
): boolean {
  return (
    lease.state !== LeaseState.Released &&
    ((lease.clockOffsetMs !== undefined && offsetExceeds(lease.clockOffsetMs, maxDriftMs, reference)) ||
      lease.clockHealthy === false)
  );
}

/**
 * The ClockDrift condition's message: which pods are out of tolerance, by how much or why
 * (the holder's own words), and what to do. Pure.
 */
export function describeClockDrift(
  leases: readonly LeaseData[],
  maxDriftMs: number,
  reference: ClockReference = ClockReference.Ntp,
): string {
  const drifting = leases
    .filter((l) => isOutOfTolerance(l, maxDriftMs, reference))
    .sort((a, b) => a.holderPod.localeCompare(b.holderPod));
  const named = drifting
    .slice(0, NAMED_PODS)
    .map((l) => `${l.holderPod} ${podClockProblem(l, maxDriftMs, reference)}`);
  const more = drifting.length > NAMED_PODS ? `; and ${drifting.length - NAMED_PODS} more` : "";
  return (
    `${drifting.length} pod(s) cannot vouch for their clock and stop issuing IDs: ${named.join("; ")}${more}. ` +
    `Fix time sync on their nodes (chrony/ntpd), make sure spec.clock.ntpServers answer from the pods and tell the true time, ` +
    `or raise spec.clock.maxDriftMs if such an offset is acceptable; pods turn ready again on their own once the clock is back`
  );
}

function podClockProblem(lease: LeaseData, maxDriftMs: number, reference: ClockReference): string {
  const offset = lease.clockOffsetMs;
  if (offset !== undefined && offsetExceeds(offset, maxDriftMs, reference))
    return `is ${reference === ClockReference.ApiServer ? "at least " : ""}${Math.abs(offset)} ms ${offset > 0 ? "ahead of" : "behind"} ${reference} (limit ${maxDriftMs} ms)`;
  // Healthy offset or none, yet unhealthy: no fresh NTP answer, or a wall-clock jump; the holder says which.
  return lease.holderMessage ? `reports "${lease.holderMessage}"` : "reports its clock unsynced";
}
