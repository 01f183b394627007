import { LeaseState } from "../../../../contract/lease-record.ts";
import type { LeaseObservation, PlannerInput } from "./planner-input.ts";

/** What step 5 saw of the fleet's leases. */
export interface LeaseSightings {
  /** By lease ConfigMap name: the next plan's memory. */
  leases: Record<string, LeaseObservation>;
  /** Live holders not seen renewing for a lease duration. */
  staleLeases: string[];
}

/**
 * Step 5. Renewal observations of live leases (for status only: a lease of a live pod is
 * never reclaimed). `touched`: leases this plan already writes or deletes.
 */
export function observeLeases(input: PlannerInput, touched: ReadonlySet<string>): LeaseSightings {
  const { nowMonoMs, leaseDurationMs } = input;
  const leases: Record<string, LeaseObservation> = {};
  const staleLeases: string[] = [];
  for (const { configMapName, lease } of input.leases) {
    const previous = input.observations.leases[configMapName];
    const unchanged =
      previous !== undefined &&
      previous.holderUid === lease.holderUid &&
      previous.assignment === lease.assignment &&
      previous.renewCount === lease.renewCount &&
      previous.state === lease.state;
    const changedAtMonoMs = unchanged ? previous.changedAtMonoMs : nowMonoMs;
    leases[configMapName] = {
      holderUid: lease.holderUid,
      assignment: lease.assignment,
      renewCount: lease.renewCount,
      state: lease.state,
      changedAtMonoMs,
    };
    if (
      lease.state !== LeaseState.Released &&
      !touched.has(configMapName) &&
      nowMonoMs - changedAtMonoMs >= leaseDurationMs
    ) {
      staleLeases.push(configMapName);
    }
  }
  return { leases, staleLeases };
}
