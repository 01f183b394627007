import { LeaseState, type LeaseData, type LedgerEntry } from "../../../contract/lease-record.ts";
import { describeSpaceLayout, sameSpaceLayout, type SpaceLayout } from "../../../contract/id-space-layout.ts";
import {
  acquireFloor,
  acquireRefusal,
  claimMatches,
  nextReservedUntil,
  selfFenceDeadlineMonoMs,
  type HeldAssignment,
} from "../../../contract/lease-rules.ts";
import type { IssueFence } from "../issuing/issue-fence.ts";

/*
 * The holder's side of the lease protocol as pure functions: what to write to the lease
 * and what fence to give the issuer. lease-keeper.ts does the I/O around them; the
 * protocol simulation drives the very same functions.
 */

/** The holder's fixed settings (from the generator's environment). */
export interface HolderSettings {
  /** The fleet as the ledger names it: `namespace/name` (fleetKey). */
  fleet: string;
  /** This generator's ID layout; it issues only while the id space's ledger records the same. */
  layout: SpaceLayout;
  podName: string;
  podUid: string;
  leaseName: string;
  leaseDurationMs: number;
  safetyMarginMs: number;
  /** How far ahead of its clock a renewal reserves, in ticks. */
  reserveAheadTicks: number;
}

/** What the holder reports about itself in its lease on every write. */
export interface HolderReport {
  clockOffsetMs: number | null;
  clockHealthy: boolean;
  sequenceUtilization: number;
  sequenceExhaustions: number;
  /** Why it is not serving, if it is not. */
  message: string | null;
}

/** Why the holder does not hold its lease yet; stable codes for /readyz. */
export const AcquireWaitReason = {
  NoLease: "NoLease",
  NotThisPod: "NotThisPod",
  Released: "Released",
  Unclaimed: "Unclaimed",
  LayoutConflict: "LayoutConflict",
} as const;
export type AcquireWaitReason = (typeof AcquireWaitReason)[keyof typeof AcquireWaitReason];

/** The outcome of looking at the lease and the ledger while not holding. */
export type AcquireDecision =
  | { kind: "wait"; reason: AcquireWaitReason; message: string }
  | {
      kind: "confirm";
      held: HeldAssignment;
      /** Issue only ticks above this (the previous holder's, or this pod's earlier process's, reservation). */
      floorTick: number;
      /** Write this (replace, conditioned on the resourceVersion it was read at). */
      write: LeaseData;
    };

/**
 * Decides whether the lease can be confirmed: it must name this pod's UID, not be released,
 * and the id space's ledger must hold the matching claim (so a lease that a deposed
 * operator wrote late cannot make this process a second holder).
 */
export function decideAcquire(
  settings: HolderSettings,
  lease: LeaseData | null,
  ledgerEntry: LedgerEntry | undefined,
  ledgerLayout: SpaceLayout | undefined,
  /** The highest reservedUntil this process ever made durable on the lease's worker id (-1: none). */
  ownReservedUntil: number,
  nowTick: number,
  report: HolderReport,
  nowWall: string,
): AcquireDecision {
  const refusal = acquireRefusal(lease, settings.podUid);
  if (refusal !== null || lease === null) {
    const reason =
      lease === null
        ? AcquireWaitReason.NoLease
        : lease.holderUid !== settings.podUid
          ? AcquireWaitReason.NotThisPod
          : AcquireWaitReason.Released;
    return { kind: "wait", reason, message: refusal ?? "no lease" };
  }
  const identity = {
    fleet: settings.fleet,
    lease: settings.leaseName,
    podUid: settings.podUid,
    assignment: lease.assignment,
  };
  // Disjoint worker ids keep IDs apart only within one layout (docs/design.md, invariant 8).
  if (ledgerLayout !== undefined && !sameSpaceLayout(ledgerLayout, settings.layout)) {
    return {
      kind: "wait",
      reason: AcquireWaitReason.LayoutConflict,
      message: `the id space issues IDs with layout ${describeSpaceLayout(ledgerLayout)}, this generator's is ${describeSpaceLayout(settings.layout)}; not issuing`,
    };
  }
  if (!claimMatches(ledgerEntry, identity)) {
    return {
      kind: "wait",
      reason: AcquireWaitReason.Unclaimed,
      message: `the worker-id ledger does not hold the claim for worker id ${lease.workerId}, assignment ${lease.assignment}; waiting for the operator`,
    };
  }
  // This process may have issued up to what it once reserved on this worker id, and a
  // restored (older) lease may not show it: never start below it (issue ticks twice).
  const floorTick = Math.max(acquireFloor(lease), ownReservedUntil);
  return {
    kind: "confirm",
    held: {
      podUid: settings.podUid,
      assignment: lease.assignment,
      workerId: lease.workerId,
      renewCount: lease.renewCount + 1,
    },
    floorTick,
    write: renewalWrite(settings, { ...lease, reservedUntil: floorTick }, nowTick, report, nowWall),
  };
}

/** The lease content of a confirmation or renewal: reservedUntil raised ahead of need (never lowered), counter bumped. */
export function renewalWrite(
  settings: HolderSettings,
  current: LeaseData,
  nowTick: number,
  report: HolderReport,
  nowWall: string,
): LeaseData {
  const next: LeaseData = {
    ...current,
    state: LeaseState.Active,
    // An unhealthy clock reserves nothing new: a clock far ahead would make the next holder
    // of this id wait that far, and one far behind has nothing to gain.
    reservedUntil: report.clockHealthy
      ? nextReservedUntil(current.reservedUntil, nowTick, settings.reserveAheadTicks)
      : current.reservedUntil,
    renewCount: current.renewCount + 1,
    renewTime: nowWall,
    clockHealthy: report.clockHealthy,
    sequenceUtilization: roundTo(report.sequenceUtilization, 6),
    sequenceExhaustions: report.sequenceExhaustions,
  };
  if (report.clockOffsetMs === null) delete next.clockOffsetMs;
  else next.clockOffsetMs = roundTo(report.clockOffsetMs, 3);
  if (report.message === null) delete next.holderMessage;
  else next.holderMessage = report.message;
  return next;
}

/** The release write: the holder stops for good; reservedUntil stays (it bounds everything issued). */
export function releaseWrite(current: LeaseData, nowWall: string): LeaseData {
  return { ...current, state: LeaseState.Released, renewCount: current.renewCount + 1, renewTime: nowWall };
}

/**
 * The fence after a write succeeded: issue above the floor, up to what was just made
 * durable, until lease duration minus safety margin after the write was *sent*.
 */
export function fenceAfterWrite(
  settings: HolderSettings,
  floorTick: number,
  written: LeaseData,
  sent: { monoMs: number; wallMs: number },
): IssueFence {
  // The operator reclaims by the duration in the lease; never outlive the shorter of the two.
  const leaseDurationMs = Math.min(settings.leaseDurationMs, written.leaseDurationSeconds * 1000);
  return {
    floorTick,
    ceilingTick: written.reservedUntil,
    validUntilMonoMs: selfFenceDeadlineMonoMs(sent.monoMs, leaseDurationMs, settings.safetyMarginMs),
    // A suspend stops the monotonic clock, not the wall clock: the issuer compares both from here.
    anchor: sent,
  };
}

function roundTo(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** How long one lease request may take and how soon a failed renewal is tried again. */
export interface RenewalRetryTiming {
  requestTimeoutMs: number;
  /** Wait after the first failed attempt; doubles per further failure up to `maxRetryBackoffMs`. */
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
}

/**
 * Retry timing derived from the reservation's headroom. A renewal sent on schedule has
 * `reserveAheadMs - renewIntervalMs` of reservation left before the issuer reaches its
 * ceiling; a renewal whose request or response is lost must be noticed and sent again within
 * that, or the pod refuses IDs while the API server is perfectly healthy. So a request gets a
 * third of the headroom (never less than a quarter of the interval or 1 s, whichever is
 * smaller: a slow API server must still be able to answer) and a retry follows a tenth of it later.
 */
export function renewalRetryTiming(renewIntervalMs: number, reserveAheadMs: number): RenewalRetryTiming {
  const headroomMs = Math.max(reserveAheadMs - renewIntervalMs, 0);
  const floorMs = Math.min(1000, renewIntervalMs / 4);
  const maxRetryBackoffMs = renewIntervalMs / 4;
  return {
    requestTimeoutMs: Math.round(Math.min(renewIntervalMs, Math.max(headroomMs / 3, floorMs))),
    retryBackoffMs: Math.round(Math.min(maxRetryBackoffMs, Math.max(headroomMs / 10, 10))),
    maxRetryBackoffMs,
  };
}

/** The wait before retry number `failures` (1 = after the first failure). */
export function retryBackoffMs(timing: RenewalRetryTiming, failures: number): number {
  return Math.min(timing.maxRetryBackoffMs, timing.retryBackoffMs * 2 ** Math.max(failures - 1, 0));
}
