import { LedgerEntryState } from "../../../../contract/lease-record.ts";
import type { LeasedEntry, LedgerDraft } from "./ledger-draft.ts";
import type { SnapshotView } from "./snapshot-view.ts";
import { takeBack } from "./take-back.ts";
import type { WantsId } from "./wants-id.ts";

/** A claim of the ledger that its pod can still complete with a lease. */
export interface PendingClaim {
  workerId: number;
  entry: LeasedEntry;
}

/**
 * Step 2. Claims of this fleet that no lease matches yet: complete them (returned by pod
 * name, for step 3), or abandon them. `served`: pods that already hold a matching lease.
 */
export function pendingClaims(
  fleet: string,
  view: SnapshotView,
  draft: LedgerDraft,
  served: ReadonlySet<string>,
  wantsId: WantsId,
): Map<string, PendingClaim> {
  const pending = new Map<string, PendingClaim>();
  for (const [w, entry] of [...draft.entries].sort(([a], [b]) => a - b)) {
    if (entry.state !== LedgerEntryState.Leased || entry.fleet !== fleet) continue;
    const l = view.leasesByName.get(entry.lease);
    if (
      l &&
      l.lease.workerId === w &&
      l.lease.holderUid === entry.podUid &&
      l.lease.assignment === entry.assignment
    ) {
      continue;
    }
    const pod = view.podsByName.get(entry.podName);
    if (wantsId(pod) && pod.uid === entry.podUid && !served.has(pod.name) && !pending.has(pod.name)) {
      pending.set(pod.name, { workerId: w, entry });
      continue;
    }
    // The claim's pod is gone (or got another id). A lease write for it may still be in
    // flight from an earlier plan, so the id retires instead of becoming free at once.
    takeBack(draft, view, w, {
      holderMayIssue: true,
      who: `unfinished claim for ${entry.podName} (uid ${entry.podUid})`,
      ownClaim: true,
      leaseMayBeLost: true,
    });
  }
  return pending;
}
