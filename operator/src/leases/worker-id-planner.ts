import { assignIds } from "./planner/assignment.ts";
import { fleetCapacity } from "./planner/capacity.ts";
import { highWaterId } from "./planner/high-water.ts";
import { gateLayout, idsWithheld } from "./planner/layout-gate.ts";
import { LedgerDraft } from "./planner/ledger-draft.ts";
import { settlesInMs, sightLedger, startingAssignment } from "./planner/ledger-sight.ts";
import { observeLeases } from "./planner/lease-observations.ts";
import { reviewLeases } from "./planner/lease-review.ts";
import { pendingClaims } from "./planner/pending-claims.ts";
import { emptyPlan, type Plan, type PlanAction } from "./planner/plan.ts";
import type { PlannerInput } from "./planner/planner-input.ts";
import { reclaimRetiring } from "./planner/reclaim.ts";
import { snapshotConflicts, viewSnapshot } from "./planner/snapshot-view.ts";
import { explainWaits } from "./planner/waiting-pods.ts";
import { wantsIdFor } from "./planner/wants-id.ts";

export * from "./planner/planner-input.ts";
export type * from "./planner/plan.ts";

/*
 * The pure worker-id allocation planner (docs/lease-protocol.md, "Operator"). It reads a
 * snapshot (pods, leases, the id space's ledger, what the operator has observed on its own
 * monotonic clock) and returns the writes that move the world one step towards "every pod
 * of the fleet holds a unique worker id". The caller (lease-sync.ts) applies the actions in
 * order, each with its resourceVersion precondition, stops at the first failure and plans
 * again from fresh reads. Any prefix of the actions leaves the world safe.
 *
 * Each phase lives in planner/ and works on one LedgerDraft, the ledger as this plan changes it.
 */

/** Computes the next step for one fleet. Pure: same input, same plan. */
export function planWorkerIds(input: PlannerInput): Plan {
  const view = viewSnapshot(input);
  const sight = sightLedger(input, view.lostStateFloor);
  const draft = new LedgerDraft(
    input.ledger.ledger,
    { nextAssignment: startingAssignment(input), baseFloor: sight.baseFloor },
    { fleet: input.fleet, nowWall: input.nowWall, leaseDurationMs: input.leaseDurationMs },
  );
  if (sight.baseFloorRaise) draft.raiseBaseFloor(sight.baseFloorRaise.tick, sight.baseFloorRaise.reason);

  const gate = gateLayout(input, view, draft);
  if (gate.succession) return { ...emptyPlan(input.observations), actions: [gate.succession] };
  const withheld = idsWithheld(gate);
  const wantsId = wantsIdFor(withheld, input.desiredReplicas);

  const review = reviewLeases(input, view, draft, wantsId, withheld); // 1. keep or take back each lease
  const pending = pendingClaims(input.fleet, view, draft, review.served, wantsId); // 2. claims without lease
  const assigned = assignIds(input, view, draft, review, pending, wantsId, sight.settled); // 3. pods get ids
  const reclaimed = reclaimRetiring(input, view, draft); // 4. retiring -> free
  const sightings = observeLeases(input, review.touched); // 5. renewals seen
  const capacity = fleetCapacity(input, draft.entries, withheld); // 6. how many pods may run

  const settling = assigned.waitedToSettle && sight.sight ? settlesInMs(sight.sight, input) : null;
  const requeueAfterMs = earliest(gate.wakeAfterMs, settling, reclaimed.wakeAfterMs);
  explainWaits(assigned.waitingPods, settling, requeueAfterMs);

  const actions: PlanAction[] = [];
  const read = input.ledger;
  // A new ledger is created, and one no fleet has written yet gets the space's layout.
  if (
    (draft.dirty || read.resourceVersion === null || read.ledger.layout === undefined) &&
    !gate.mayNotCreateLedger
  ) {
    actions.push({
      kind: "write-ledger",
      resourceVersion: read.resourceVersion,
      ledger: draft.toLedger(view.spaceLayout, highWaterId(draft, view, read.ledger.highWaterId)),
      reasons: draft.reasons,
    });
  }
  actions.push(...assigned.writes, ...review.deletes, ...assigned.deletes);

  return {
    actions,
    allocatableReplicas: capacity.allocatableReplicas,
    exhausted: capacity.exhausted,
    conflicts: [...snapshotConflicts(view), ...review.conflicts, ...capacity.conflicts],
    leasedWorkers: review.leasedWorkers,
    staleLeases: sightings.staleLeases,
    waitingPods: assigned.waitingPods,
    layoutConflict: gate.layoutConflict,
    successionWaiting: gate.successionWaiting,
    requeueAfterMs,
    observations: {
      leases: sightings.leases,
      retiring: reclaimed.retiring,
      ...(sight.sight ? { ledgerSight: sight.sight } : {}),
    },
  };
}

/** The soonest of some timers; null when none is set. */
function earliest(...timers: (number | null)[]): number | null {
  const set = timers.filter((t): t is number => t !== null);
  return set.length ? Math.min(...set) : null;
}
