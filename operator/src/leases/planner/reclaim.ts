import { LedgerEntryState } from "../../../../contract/lease-record.ts";
import { isReclaimable, reclaimableAtMonoMs } from "../../../../contract/lease-rules.ts";
import type { LedgerDraft } from "./ledger-draft.ts";
import type { PlannerInput, RetiringObservation } from "./planner-input.ts";
import type { SnapshotView } from "./snapshot-view.ts";

/** What step 4 observed of the fleet's retiring ids. */
export interface Reclaim {
  /** Retiring ids still waiting, by worker id (decimal string): the next plan's memory. */
  retiring: Record<string, RetiringObservation>;
  /** Plan again after this long (the next retiring id becomes reusable); null: none waits. */
  wakeAfterMs: number | null;
}

/** Step 4. Retiring ids of this fleet become free once quiet for leaseDuration + grace on our clock. */
export function reclaimRetiring(input: PlannerInput, view: SnapshotView, draft: LedgerDraft): Reclaim {
  const { fleet, nowMonoMs, nowWall, leaseDurationMs, reclaimGraceMs } = input;
  const retiring: Record<string, RetiringObservation> = {};
  let wakeAfterMs: number | null = null;
  const wake = (ms: number) => {
    wakeAfterMs = wakeAfterMs === null ? ms : Math.min(wakeAfterMs, ms);
  };
  for (const [w, entry] of [...draft.entries].sort(([a], [b]) => a - b)) {
    if (entry.state !== LedgerEntryState.Retiring || entry.fleet !== fleet) continue;
    const previous = input.observations.retiring[String(w)];
    const samePhase =
      previous !== undefined &&
      previous.since === entry.since &&
      previous.reservedUntil === entry.reservedUntil;
    const quietSince = view.namedByLease.has(w) || !samePhase ? nowMonoMs : previous.quietSinceMonoMs;
    // An entry written in this very plan is not durable yet: observe it from the next plan on.
    // (Its lease may not even be revoked yet, so no timer starts here.)
    if (draft.writtenThisPlan(w)) {
      wake(leaseDurationMs + reclaimGraceMs);
      continue;
    }
    // The holder fences itself by its own lease's duration, which a shortened spec does not change.
    const holderDurationMs = Math.max(leaseDurationMs, (entry.holderLeaseDurationSeconds ?? 0) * 1000);
    if (!view.namedByLease.has(w) && isReclaimable(quietSince, nowMonoMs, holderDurationMs, reclaimGraceMs)) {
      draft.record(
        w,
        { state: LedgerEntryState.Free, reservedUntil: entry.reservedUntil, since: nowWall },
        "reclaimed: no renewal possible for lease duration + grace",
      );
      continue;
    }
    retiring[String(w)] = {
      since: entry.since,
      reservedUntil: entry.reservedUntil,
      quietSinceMonoMs: quietSince,
    };
    wake(Math.max(1, reclaimableAtMonoMs(quietSince, holderDurationMs, reclaimGraceMs) - nowMonoMs));
  }
  return { retiring, wakeAfterMs };
}
