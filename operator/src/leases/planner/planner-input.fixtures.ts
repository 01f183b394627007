import {
  LeaseState,
  type LeaseData,
  type Ledger,
  type LedgerEntry,
} from "../../../../contract/lease-record.ts";
import { EMPTY_OBSERVATIONS, type ObservedLease, type PlannerInput } from "./planner-input.ts";

/*
 * Inputs for the planner phases' unit tests: one fleet "ids" with pods "ids-<ordinal>",
 * 1 ms ticks from the Unix epoch (a tick is a wall-clock ms), and a stored ledger.
 */

export const TEST_LAYOUT = {
  timestampBits: 41,
  workerIdBits: 10,
  sequenceBits: 12,
  timeUnitMs: 1,
  epochMs: 0,
};
export const LEASE_MS = 15_000;
export const GRACE_MS = 5_000;

/** A stored ledger (resourceVersion "1") holding `entries`. */
export function storedLedger(entries: Record<number, LedgerEntry> = {}, rest: Partial<Ledger> = {}): Ledger {
  return {
    nextAssignment: 10,
    layout: TEST_LAYOUT,
    entries: new Map(Object.entries(entries).map(([w, e]) => [Number(w), e])),
    ...rest,
  };
}

/** The planner's input for fleet "ids" with a vouched-for stored ledger; `overrides` win. */
export function plannerInput(overrides: Partial<PlannerInput> = {}): PlannerInput {
  return {
    fleet: "ids",
    idSpace: "ids",
    layout: TEST_LAYOUT,
    range: { min: 0, max: 9 },
    desiredReplicas: 0,
    pods: [],
    leases: [],
    ledger: { resourceVersion: "1", uid: "ledger-uid", ledger: storedLedger() },
    ledgerCreatedHere: true,
    observations: EMPTY_OBSERVATIONS,
    nowMonoMs: 1_000,
    nowWall: "t1000",
    nowMs: 0,
    lostStateMarginMs: 0,
    leaseDurationMs: LEASE_MS,
    reclaimGraceMs: GRACE_MS,
    ...overrides,
  };
}

/** The lease ConfigMap of pod `ids-<ordinal>` holding `workerId`; `change` wins. */
export function observedLease(
  ordinal: number,
  workerId: number,
  change: Partial<LeaseData> = {},
): ObservedLease {
  return {
    configMapName: `ids-${ordinal}-lease`,
    resourceVersion: `rv-${ordinal}`,
    lease: {
      workerId,
      idSpace: "ids",
      state: LeaseState.Active,
      holderPod: `ids-${ordinal}`,
      holderUid: `uid-${ordinal}`,
      assignment: ordinal + 1,
      handoverAfter: 0,
      reservedUntil: 100,
      leaseDurationSeconds: LEASE_MS / 1000,
      renewCount: 1,
      renewTime: "",
      ...change,
    },
  };
}
