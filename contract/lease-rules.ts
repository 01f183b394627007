import { LeaseState, LedgerEntryState, type LeaseData, type LedgerEntry } from "./lease-record.ts";
import {
  MIN_TOLERATED_RATE_DRIFT,
  renewsBeforeFencing,
  toleratedRateDrift,
  toleratesRateDrift,
} from "./lease-fencing.ts";

/**
 * The pure rules of the worker-id lease protocol (docs/lease-protocol.md). The operator's
 * planner and the generator's lease keeper both follow these functions and nothing else,
 * so the two halves cannot disagree about when an id may be reused or issued from.
 * Monotonic times are milliseconds on the caller's own monotonic clock; ticks are in the
 * fleet's ID time domain.
 */

/** The timing knobs of a fleet's leases, in milliseconds. */
export interface LeaseTiming {
  leaseDurationMs: number;
  renewIntervalMs: number;
  safetyMarginMs: number;
  reclaimGraceMs: number;
}

/**
 * Reasons a lease timing is unsafe or unusable, empty when it is fine. Safety needs the
 * holder to fence itself, on a clock running up to MIN_TOLERATED_RATE_DRIFT slow, before the
 * operator, on a clock running that much fast, reuses its id (contract/lease-fencing.ts).
 */
export function leaseTimingProblems(t: LeaseTiming): string[] {
  const problems: string[] = [];
  if (t.safetyMarginMs <= 0) problems.push("safety margin must be positive");
  if (t.reclaimGraceMs < 0) problems.push("reclaim grace must not be negative");
  if (t.renewIntervalMs <= 0) problems.push("renew interval must be positive");
  const timing = {
    duration: t.leaseDurationMs,
    renewInterval: t.renewIntervalMs,
    safetyMargin: t.safetyMarginMs,
    reclaimGrace: t.reclaimGraceMs,
  };
  if (!renewsBeforeFencing(timing)) {
    problems.push(
      `lease duration (${t.leaseDurationMs} ms) minus safety margin (${t.safetyMarginMs} ms) must exceed the renew interval (${t.renewIntervalMs} ms), or a healthy holder fences itself between renewals`,
    );
  }
  if (!toleratesRateDrift(timing)) {
    const tolerated = (toleratedRateDrift(timing) * 100).toFixed(2);
    problems.push(
      `this timing tolerates monotonic clocks only ${tolerated}% apart (at least ${MIN_TOLERATED_RATE_DRIFT * 100}% needed): raise reclaimGrace or safetyMargin`,
    );
  }
  return problems;
}

/** Operator monotonic time at which an id quiet since `quietSinceMonoMs` may be reused (docs/design.md invariant 5). */
export function reclaimableAtMonoMs(
  quietSinceMonoMs: number,
  leaseDurationMs: number,
  reclaimGraceMs: number,
): number {
  return quietSinceMonoMs + leaseDurationMs + reclaimGraceMs;
}

/**
 * Whether an id whose holder the operator last saw alive (renewing, or named in a lease) at
 * `quietSinceMonoMs` may be reused at `nowMonoMs`. Both on the operator's monotonic clock.
 */
export function isReclaimable(
  quietSinceMonoMs: number,
  nowMonoMs: number,
  leaseDurationMs: number,
  reclaimGraceMs: number,
): boolean {
  return nowMonoMs >= reclaimableAtMonoMs(quietSinceMonoMs, leaseDurationMs, reclaimGraceMs);
}

/**
 * The lowest tick a holder must stay above when it acquires a lease (docs/design.md invariant 3):
 * the previous holder's bound (`handoverAfter`) and whatever an earlier process of the
 * same pod may already have reserved (`reservedUntil`).
 */
export function acquireFloor(lease: Pick<LeaseData, "handoverAfter" | "reservedUntil">): number {
  return Math.max(lease.handoverAfter, lease.reservedUntil);
}

/**
 * Holder monotonic time after which it must not issue (docs/design.md invariant 4): measured from
 * when the last successful renewal was *sent*, never from when its answer arrived.
 */
export function selfFenceDeadlineMonoMs(
  renewalSentMonoMs: number,
  leaseDurationMs: number,
  safetyMarginMs: number,
): number {
  return renewalSentMonoMs + leaseDurationMs - safetyMarginMs;
}

/** The reservedUntil a renewal writes: ahead of need, and never lower than what is already durable. */
export function nextReservedUntil(
  currentReservedUntil: number,
  nowTick: number,
  reserveAheadTicks: number,
): number {
  return Math.max(currentReservedUntil, nowTick + reserveAheadTicks);
}

/** What the holder knows of the assignment it acquired. */
export interface HeldAssignment {
  podUid: string;
  assignment: number;
  workerId: number;
  /** The renewCount of this process's last successful write (a restored lease shows less). */
  renewCount?: number;
}

/** What a holder does after a write to its lease failed with a conflict and it re-read the lease. */
export const RenewalConflict = {
  /** Still ours, unchanged assignment (e.g. our own earlier write landed): retry on the new version. */
  Retry: "retry",
  /**
   * Taken from this process (another pod UID holds it, the lease is gone, or it was
   * released): stop issuing now. The process goes back to acquiring, which succeeds only
   * if the operator assigns this pod's UID again (a revoked live pod recovers; a replaced
   * pod's leftover never finds a lease naming its UID).
   */
  Lost: "lost",
  /** The operator gave this pod a new assignment: stop issuing now and acquire again from scratch. */
  Reassigned: "reassigned",
  /**
   * The lease went back in time (a lower assignment, or the same one with a lower renewCount
   * than this process wrote): etcd was restored from a snapshot, or someone wrote an old copy
   * back. Every ledger record since may be gone too, so the holder stops issuing at once and
   * stays off until every holder that the lost records knew of has fenced itself.
   */
  RolledBack: "rolled-back",
} as const;
export type RenewalConflict = (typeof RenewalConflict)[keyof typeof RenewalConflict];

/** Classifies the lease as re-read after a conflict (`null`: the lease no longer exists). */
export function classifyRenewalConflict(held: HeldAssignment, current: LeaseData | null): RenewalConflict {
  if (current === null || current.holderUid !== held.podUid) return RenewalConflict.Lost;
  if (
    current.assignment < held.assignment ||
    (current.assignment === held.assignment &&
      held.renewCount !== undefined &&
      current.renewCount < held.renewCount)
  )
    return RenewalConflict.RolledBack;
  if (current.assignment !== held.assignment) return RenewalConflict.Reassigned;
  if (current.workerId !== held.workerId || current.state === LeaseState.Released)
    return RenewalConflict.Lost;
  return RenewalConflict.Retry;
}

/** The identity a ledger claim must name for a lease to be legitimate. */
export interface ClaimIdentity {
  fleet: string;
  lease: string;
  podUid: string;
  assignment: number;
}

/**
 * Whether the ledger entry of a worker id is the claim for exactly this lease. A lease
 * without a matching claim is never acted on: the generator does not acquire it and the
 * operator revokes it.
 */
export function claimMatches(entry: LedgerEntry | undefined, who: ClaimIdentity): boolean {
  return (
    entry !== undefined &&
    entry.state === LedgerEntryState.Leased &&
    entry.fleet === who.fleet &&
    entry.lease === who.lease &&
    entry.podUid === who.podUid &&
    entry.assignment === who.assignment
  );
}

/**
 * How long a holder that saw its lease go back in time stays off (its own monotonic ms): a
 * holder the restored records forgot fences itself within its lease duration of the restore,
 * so waiting that long plus the safety margin from the moment it noticed outlasts them all.
 */
export function rollbackHoldOffMs(leaseDurationMs: number, safetyMarginMs: number): number {
  return leaseDurationMs + safetyMarginMs;
}

/**
 * Whether resourceVersion `now` is older than `highest`, the highest seen of the same object or
 * id space: an etcd restore takes objects back to older versions, every write after it gets a
 * higher one (a deleted and recreated object too). Kubernetes calls resourceVersions opaque;
 * etcd-backed ones are revision numbers, so only decimal integers are compared. Pure.
 */
export function resourceVersionWentBack(highest: string | undefined, now: string): boolean {
  const numeric = /^\d+$/;
  return highest !== undefined && numeric.test(highest) && numeric.test(now) && BigInt(now) < BigInt(highest);
}

/** Why a lease cannot be acquired by a pod, or null when it can. */
export function acquireRefusal(lease: LeaseData | null, podUid: string): string | null {
  if (lease === null) return "no lease assigned to this pod yet";
  if (lease.holderUid !== podUid) return `lease names pod UID ${lease.holderUid}, not this pod`;
  if (lease.state === LeaseState.Released) return "lease was released; waiting for the operator to reassign";
  return null;
}
