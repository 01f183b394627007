import type { LeaseData, Ledger } from "../../../../contract/lease-record.ts";
import type { Observations } from "./planner-input.ts";

/*
 * What the worker-id planner answers: the writes that move the world one step, in the order
 * they must be applied, and what the fleet should report.
 */

/** Write the whole ledger (create it when `resourceVersion` is null), conditioned on `resourceVersion`. */
export interface WriteLedgerAction {
  kind: "write-ledger";
  resourceVersion: string | null;
  ledger: Ledger;
  /** One line per changed entry, for events and logs. */
  reasons: string[];
}

/** Create a lease ConfigMap (fails if it exists: someone else got there first). */
export interface CreateLeaseAction {
  kind: "create-lease";
  configMapName: string;
  lease: LeaseData;
  reason: string;
}

/** Replace a lease ConfigMap, conditioned on `resourceVersion`. */
export interface ReplaceLeaseAction {
  kind: "replace-lease";
  configMapName: string;
  resourceVersion: string;
  lease: LeaseData;
  reason: string;
}

/** Delete a lease ConfigMap, conditioned on `resourceVersion` (DeleteOptions.preconditions). */
export interface DeleteLeaseAction {
  kind: "delete-lease";
  configMapName: string;
  resourceVersion: string;
  reason: string;
}

/** One write. */
export type PlanAction = WriteLedgerAction | CreateLeaseAction | ReplaceLeaseAction | DeleteLeaseAction;

/** Something the fleet should report (condition WorkerIdConflict, events). */
export interface PlanConflict {
  kind: "overlap" | "unbacked-lease" | "duplicate-lease" | "out-of-range" | "malformed-lease";
  workerId?: number;
  message: string;
}

/** A pod that needs a worker id and has none yet. */
export interface WaitingPod {
  pod: string;
  message: string;
}

/** The planner's answer. */
export interface Plan {
  /**
   * Writes, in the order they must be applied: at most one ledger write first, then lease
   * creates/replaces, then lease deletes. Stop at the first failure and plan again.
   */
  actions: PlanAction[];
  /** Replicas the StatefulSet may be sized to: min(desired, worker ids this fleet can ever hold). */
  allocatableReplicas: number;
  /** Desired replicas exceed the worker ids available to the fleet (condition WorkerIdsExhausted). */
  exhausted: boolean;
  conflicts: PlanConflict[];
  /** Leases confirmed by their live holder pod (status.leasedWorkers). */
  leasedWorkers: number;
  /** Live holders not seen renewing for a lease duration (reported, never reclaimed while the pod exists). */
  staleLeases: string[];
  /** Pods waiting for an id, and why. */
  waitingPods: WaitingPod[];
  /**
   * Why this fleet gets no worker id because of its layout (another layout owns the id space,
   * or a declared succession is refused), or null.
   */
  layoutConflict: string | null;
  /** A declared layout succession still waiting for the old layout's holders, or null. */
  successionWaiting: string | null;
  /** Plan again after this long even if nothing changes (a retiring id becomes reusable); null: no timer needed. */
  requeueAfterMs: number | null;
  /** Pass to the next plan. */
  observations: Observations;
}

/** A plan that writes nothing and reports nothing. */
export function emptyPlan(observations: Observations): Plan {
  return {
    actions: [],
    allocatableReplicas: 0,
    exhausted: false,
    conflicts: [],
    leasedWorkers: 0,
    staleLeases: [],
    waitingPods: [],
    layoutConflict: null,
    successionWaiting: null,
    requeueAfterMs: null,
    observations,
  };
}
