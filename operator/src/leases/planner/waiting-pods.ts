import type { WaitingPod } from "./plan.ts";

/**
 * Tells waiting pods when they may get an id: `settlesInMs` when free ids wait for a ledger
 * this operator did not watch before, `requeueAfterMs` when the plan's next timer fires.
 */
export function explainWaits(
  waitingPods: WaitingPod[],
  settlesInMs: number | null,
  requeueAfterMs: number | null,
): void {
  if (settlesInMs !== null) {
    for (const waiting of waitingPods) {
      waiting.message = `the operator hands out free worker ids of this ledger in about ${Math.ceil(settlesInMs / 1000)} s (it did not watch the ledger before: restart, recreation or restore)`;
    }
  }
  if (waitingPods.length > 0 && requeueAfterMs !== null) {
    for (const waiting of waitingPods)
      waiting.message += `; a retiring id becomes reusable in about ${Math.ceil(requeueAfterMs / 1000)} s`;
  }
}
