import { isReclaimable, reclaimableAtMonoMs } from "../../../../contract/lease-rules.ts";
import type { Observations, PlannerInput } from "./planner-input.ts";

/*
 * What this operator can vouch for of the ledger it reads. A ledger this process did not
 * create for a new id space may have lost or rolled back state while nobody watched (an
 * operator restart, a recreated ledger, a stale leader's delayed create, an etcd restore).
 */

/** What the planner may trust of the ledger, and the base floor it starts from. */
export interface LedgerSight {
  /** Since when this operator has watched the ledger (by uid); undefined when there is none yet. */
  sight: Observations["ledgerSight"];
  /** Free and unrecorded ids may be handed out: vouched for, or watched long enough. */
  settled: boolean;
  /** The base floor as read (or the new ledger's). */
  baseFloor: number;
  /** A higher base floor the ledger owes this operator's clock, and why; null: none. */
  baseFloorRaise: { tick: number; reason: string } | null;
}

/**
 * Assignment numbers never go below the wall clock in ms: a lost or rolled-back ledger
 * (its nextAssignment forgotten or older) cannot hand out a number a live holder still has.
 */
export function startingAssignment(input: PlannerInput): number {
  const ledgerExists = input.ledger.resourceVersion !== null;
  return Math.max(
    input.ledger.ledger.nextAssignment,
    Math.floor(input.nowMs),
    ...(ledgerExists
      ? []
      : [...input.leases, ...(input.otherFleetsLeases ?? [])].map((l) => l.lease.assignment + 1)),
  );
}

/**
 * A ledger this process did not create for a new id space may have lost or rolled back state
 * while nobody watched: its free and unrecorded ids wait out lease duration + grace from first
 * sight, and its base floor rises past this operator's clock (see Observations.ledgerSight).
 * `lostStateFloor`: the lowest tick a holder whose reservation was lost may not have issued yet.
 */
export function sightLedger(input: PlannerInput, lostStateFloor: number): LedgerSight {
  const { nowMonoMs, leaseDurationMs, reclaimGraceMs } = input;
  const read = input.ledger.ledger;
  const ledgerExists = input.ledger.resourceVersion !== null;
  const previousSight = input.observations.ledgerSight;
  const uid = input.ledger.uid ?? "";
  const sight = !ledgerExists
    ? undefined
    : previousSight?.uid === uid
      ? previousSight
      : { uid, sinceMonoMs: nowMonoMs, floorTick: lostStateFloor };
  const vouchedFor = ledgerExists ? input.ledgerCreatedHere === true : input.newLedgerBaseFloor === undefined;
  const settled =
    vouchedFor ||
    (sight !== undefined && isReclaimable(sight.sinceMonoMs, nowMonoMs, leaseDurationMs, reclaimGraceMs));
  const baseFloor = ledgerExists ? (read.baseFloor ?? 0) : (input.newLedgerBaseFloor ?? 0);
  const baseFloorRaise =
    ledgerExists && !vouchedFor && sight && sight.floorTick > baseFloor
      ? {
          tick: sight.floorTick,
          reason: `base floor raised to tick ${sight.floorTick}: this operator did not see what the ledger went through before (restart, recreation or restore)`,
        }
      : null;
  return { sight, settled, baseFloor, baseFloorRaise };
}

/** How long until a ledger first seen at `sight` is settled (at least 1 ms). */
export function settlesInMs(
  sight: NonNullable<Observations["ledgerSight"]>,
  input: Pick<PlannerInput, "nowMonoMs" | "leaseDurationMs" | "reclaimGraceMs">,
): number {
  return Math.max(
    1,
    reclaimableAtMonoMs(sight.sinceMonoMs, input.leaseDurationMs, input.reclaimGraceMs) - input.nowMonoMs,
  );
}
