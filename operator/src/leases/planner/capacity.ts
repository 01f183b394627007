import { LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import type { PlannerInput } from "./planner-input.ts";
import type { PlanConflict } from "./plan.ts";

/** How many pods the fleet may run. */
export interface Capacity {
  /** min(desired, worker ids this fleet can ever hold); 0 when the layout withholds ids. */
  allocatableReplicas: number;
  /** Desired replicas exceed the worker ids available to the fleet. */
  exhausted: boolean;
  /** One per other fleet holding ids in this fleet's range. */
  conflicts: PlanConflict[];
}

/**
 * Step 6. Capacity: ids in range this fleet can ever hold (other fleets' claims and
 * retirements excluded). `entries`: the ledger as this plan leaves it.
 */
export function fleetCapacity(
  input: Pick<PlannerInput, "fleet" | "idSpace" | "range" | "desiredReplicas">,
  entries: ReadonlyMap<number, LedgerEntry>,
  idsWithheld: boolean,
): Capacity {
  const { fleet, range } = input;
  const blockers = new Map<string, number>();
  for (const [w, entry] of entries) {
    if (w < range.min || w > range.max || entry.state === LedgerEntryState.Free || entry.fleet === fleet)
      continue;
    blockers.set(entry.fleet, (blockers.get(entry.fleet) ?? 0) + 1);
  }
  const capacity = range.max - range.min + 1 - [...blockers.values()].reduce((a, b) => a + b, 0);
  const conflicts: PlanConflict[] = [];
  for (const [other, count] of blockers) {
    conflicts.push({
      kind: "overlap",
      message: `fleet ${other} shares id space ${input.idSpace} and holds ${count} worker id(s) in this fleet's range ${range.min}-${range.max}`,
    });
  }
  const allocatableReplicas = idsWithheld ? 0 : Math.min(input.desiredReplicas, capacity);
  const exhausted = !idsWithheld && allocatableReplicas < input.desiredReplicas;
  return { allocatableReplicas, exhausted, conflicts };
}
