import type { LeaseData, Ledger } from "../../../../contract/lease-record.ts";
import type { SpaceLayout } from "../../../../contract/id-space-layout.ts";

/*
 * What the worker-id planner reads: a snapshot of the fleet's pods, the id space's leases and
 * ledger, and what the operator has observed on its own monotonic clock between plans.
 */

/** Inclusive range of worker ids the fleet may use. */
export interface WorkerIdRange {
  min: number;
  max: number;
}

/** A pod of the fleet as the planner needs it. */
export interface FleetPod {
  name: string;
  uid: string;
  /** StatefulSet ordinal. */
  ordinal: number;
  /** metadata.deletionTimestamp is set. */
  terminating: boolean;
}

/** A lease ConfigMap of the fleet, parsed. */
export interface ObservedLease {
  configMapName: string;
  resourceVersion: string;
  lease: LeaseData;
}

/** The id space's ledger ConfigMap as read; `resourceVersion: null` when it does not exist yet. */
export interface ObservedLedger {
  resourceVersion: string | null;
  /** metadata.uid (assigned by the API server, so a writer cannot forge it); absent when it does not exist. */
  uid?: string;
  ledger: Ledger;
}

/** What the operator saw of one lease, on its own monotonic clock. */
export interface LeaseObservation {
  holderUid: string;
  assignment: number;
  renewCount: number;
  state: LeaseData["state"];
  /** Operator monotonic ms when any of the fields above last changed (or were first seen). */
  changedAtMonoMs: number;
}

/** What the operator saw of one retiring ledger entry, on its own monotonic clock. */
export interface RetiringObservation {
  /** The entry's `since` and `reservedUntil`: a re-retired entry restarts the timer. */
  since: string;
  reservedUntil: number;
  /** Operator monotonic ms since when no lease in any snapshot has named this worker id. */
  quietSinceMonoMs: number;
}

/**
 * The operator's memory between plans. Never persisted: a restarted operator starts from
 * `EMPTY_OBSERVATIONS`, so everything counts as seen "now" and restarting only delays reuse.
 */
export interface Observations {
  /** By lease ConfigMap name. */
  leases: Readonly<Record<string, LeaseObservation>>;
  /** By worker id (decimal string). */
  retiring: Readonly<Record<string, RetiringObservation>>;
  /**
   * The ledger (by uid) this operator has been watching, since when (its monotonic ms), and the
   * base floor it owes it. A ledger the operator did not create itself in this process may have
   * lost or rolled back state while nobody watched (an operator restart, a recreated ledger, a
   * stale leader's delayed create, an etcd restore): its free and unrecorded ids wait out lease
   * duration + grace from first sight (a holder the ledger forgot may still be issuing), and its
   * base floor is raised past this operator's clock.
   */
  ledgerSight?: { uid: string; sinceMonoMs: number; floorTick: number };
}

/** Observations of an operator that has just started. */
export const EMPTY_OBSERVATIONS: Observations = Object.freeze({ leases: {}, retiring: {} });

/** Everything the planner looks at. */
export interface PlannerInput {
  /** The fleet as the ledger names it: `namespace/name` (fleetKey). */
  fleet: string;
  idSpace: string;
  /** The fleet's ID layout; the ledger's must be the same, or the fleet gets no worker id. */
  layout: SpaceLayout;
  /**
   * The fleet declares its layout the successor of the id space's current one: once no holder
   * of the old layout can issue, the ledger switches to this layout with a floor above every ID
   * the old one may have issued.
   */
  layoutSuccession?: boolean;
  range: WorkerIdRange;
  /** spec.replicas (what the user or the HPA asks for). */
  desiredReplicas: number;
  pods: readonly FleetPod[];
  /** The fleet's lease ConfigMaps that parsed. */
  leases: readonly ObservedLease[];
  /**
   * Leases of other fleets sharing the id space. Never touched here (their own fleet's plan
   * handles them), but an id any of them names is not claimable and its floor counts: after
   * a lost ledger, another fleet's holder may still be renewing an id the new ledger lacks.
   */
  otherFleetsLeases?: readonly ObservedLease[];
  /** Names of the fleet's lease ConfigMaps that did not parse; they are left alone and reported. */
  malformedLeaseNames?: readonly string[];
  ledger: ObservedLedger;
  observations: Observations;
  /** Operator monotonic clock now, ms. */
  nowMonoMs: number;
  /** Wall time now (RFC 3339), only stamped into `since` for humans. */
  nowWall: string;
  /**
   * Operator wall clock, ms. Assignment numbers never go below it (so a lost or rolled-back
   * ledger does not hand out an old number again), and lost state gets floors past it.
   */
  nowMs: number;
  /**
   * How far past the operator's clock a holder may have issued or reserved: reserveAhead +
   * max clock drift + max backward wait. A claim whose lease is gone, and a ledger this
   * operator cannot vouch for, get floors at least this far ahead.
   */
  lostStateMarginMs: number;
  /**
   * How claims record their leases' reservations (`seenReservedUntil`), so a lost lease does not
   * lose its reservation: once any lease of the fleet is `rewriteAfterTicks` ahead of its record,
   * every record is brought up to date in one ledger write (a few writes per lease duration,
   * not one per renewal); a record may then lag its lease by up to `lagTicks` (pass reserveAhead:
   * the rewrite threshold plus one renewal's step), which a lost claim's floor adds back.
   * Absent: every change is recorded and nothing is added.
   */
  reservationRecord?: { rewriteAfterTicks: number; lagTicks: number };
  /** This operator process created the ledger (uid) for a new id space: it knows its whole past. */
  ledgerCreatedHere?: boolean;
  leaseDurationMs: number;
  reclaimGraceMs: number;
  /**
   * Only used when the ledger does not exist yet: the `baseFloor` it is created with. Pass
   * the operator's current tick + reserveAhead + max clock drift, so ids of a lost ledger
   * cannot be handed out below a reservation it forgot.
   */
  newLedgerBaseFloor?: number;
  /**
   * The other fleets of the id space that exist (any namespace, deleting ones too): their
   * layouts and whether they declare a succession. Read when the ledger was lost
   * (`newLedgerBaseFloor` set): its creator records its own layout, which must be the one the
   * lost ledger had (layout-gate.ts).
   */
  otherFleets?: readonly OtherFleet[];
  /**
   * The layout this operator process last read from the id space's ledger (its memory, lost on
   * restart). After a loss it tells which layout the lost ledger recorded.
   */
  lastSeenLayout?: SpaceLayout;
}

/** Another fleet of the id space, as far as the layout rules care. */
export interface OtherFleet {
  layout: SpaceLayout;
  layoutSuccession: boolean;
  /** Lease ConfigMaps of it exist: its holders may be serving under the space's layout. */
  holdsLeases: boolean;
}
