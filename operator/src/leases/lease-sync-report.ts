import type { LeaseData, Ledger } from "../../../contract/lease-record.ts";
import type { Plan } from "./planner/plan.ts";

/** The plan's answers the reconcile acts on; the writes themselves stay inside lease sync. */
type PlanFindings = Pick<
  Plan,
  | "allocatableReplicas"
  | "exhausted"
  | "conflicts"
  | "leasedWorkers"
  | "waitingPods"
  | "layoutConflict"
  | "successionWaiting"
  | "requeueAfterMs"
>;

/** What lease sync tells the reconcile: for sizing the StatefulSet, status and events. */
export interface LeaseSyncReport extends PlanFindings {
  /** Parsed leases as last read (for the status roll-ups). */
  leases: LeaseData[];
  /** The id space's ledger as last read (for the capacity forecast). */
  ledger: Ledger;
  /** Actions applied in this sync, one line each (for logs and events). */
  applied: string[];
  /** Why the last round stopped early, if it did (a 409 is normal: someone wrote first). */
  interrupted?: string;
}

/** The report of a sync that ended with `plan` (the last one, from the last reads). */
export function leaseSyncReport(
  plan: Plan,
  outcome: Pick<LeaseSyncReport, "leases" | "ledger" | "applied" | "interrupted">,
): LeaseSyncReport {
  return {
    allocatableReplicas: plan.allocatableReplicas,
    exhausted: plan.exhausted,
    conflicts: plan.conflicts,
    leasedWorkers: plan.leasedWorkers,
    waitingPods: plan.waitingPods,
    layoutConflict: plan.layoutConflict,
    successionWaiting: plan.successionWaiting,
    requeueAfterMs: plan.requeueAfterMs,
    leases: outcome.leases,
    ledger: outcome.ledger,
    applied: outcome.applied,
    ...(outcome.interrupted !== undefined ? { interrupted: outcome.interrupted } : {}),
  };
}
