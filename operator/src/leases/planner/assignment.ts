import {
  LeaseState,
  LedgerEntryState,
  leaseNameForPod,
  type LeaseData,
} from "../../../../contract/lease-record.ts";
import { tickAt } from "../../../../contract/id-layout-math.ts";
import type { LedgerDraft } from "./ledger-draft.ts";
import type { LeaseReview } from "./lease-review.ts";
import type { PendingClaim } from "./pending-claims.ts";
import type { PlannerInput } from "./planner-input.ts";
import type { CreateLeaseAction, DeleteLeaseAction, ReplaceLeaseAction, WaitingPod } from "./plan.ts";
import { lostClaimFloor } from "./reservation-record.ts";
import type { SnapshotView } from "./snapshot-view.ts";
import { takeBack } from "./take-back.ts";
import type { WantsId } from "./wants-id.ts";

/** What step 3 writes and who is left waiting. */
export interface Assignment {
  /** Lease creates and replaces, one per pod served. */
  writes: (CreateLeaseAction | ReplaceLeaseAction)[];
  /** Old holders' leases revoked for pods that found no free id. */
  deletes: DeleteLeaseAction[];
  waitingPods: WaitingPod[];
  /** A free id was passed over because the ledger is not settled yet (LedgerSight.settled). */
  waitedToSettle: boolean;
}

/**
 * Step 3. Pods without a lease for their current UID get one: their pending claim, else the
 * lowest free id whose floor has passed (else the lowest free id). Pending claims no pod took
 * are abandoned.
 */
export function assignIds(
  input: PlannerInput,
  view: SnapshotView,
  draft: LedgerDraft,
  review: LeaseReview,
  pending: ReadonlyMap<string, PendingClaim>,
  wantsId: WantsId,
  settled: boolean,
): Assignment {
  const { range } = input;
  const served = new Set(review.served);
  const result: Assignment = { writes: [], deletes: [], waitingPods: [], waitedToSettle: false };
  const claimedThisPlan = new Set<number>();
  // Free and unrecorded ids of a ledger this operator cannot vouch for wait until it is settled
  // (a forgotten holder may still be issuing on one; the wait outlasts its self-fence).
  const isClaimable = (w: number) => {
    if (view.namedByLease.has(w) || claimedThisPlan.has(w)) return false;
    const entry = input.ledger.ledger.entries.get(w);
    if (entry !== undefined && entry.state !== LedgerEntryState.Free) return false;
    if (!settled) {
      result.waitedToSettle = true;
      return false;
    }
    return true;
  };
  // Prefer an id its new holder can issue from at once: one whose floor the clock has passed.
  // The id a pod just released carries that pod's reservation (reserveAhead into the future), so
  // handing it straight to the replacement of a rolling update would keep the new pod unready
  // for up to reserveAhead; any older free id serves at once.
  const nowTick = tickAt(view.math, input.nowMs);
  const pickFree = (): number | null => {
    let firstClaimable: number | null = null;
    for (let w = range.min; w <= range.max; w++) {
      if (!isClaimable(w)) continue;
      if (draft.handoverFloor(w) < nowTick) return w;
      firstClaimable ??= w;
    }
    return firstClaimable;
  };

  for (const pod of [...input.pods].sort((a, b) => a.ordinal - b.ordinal)) {
    if (!wantsId(pod) || served.has(pod.name)) continue;
    const leaseName = leaseNameForPod(pod.name);
    if (view.malformed.has(leaseName)) continue;
    const existing = view.leasesByName.get(leaseName) ?? null;
    if (existing && !review.needingLease.has(pod.name) && !review.touched.has(leaseName)) {
      // A backed lease for an older UID would have been handled in step 1; reaching here
      // means the lease names this pod's UID but is backed and live: nothing to do.
      continue;
    }
    const claim = pending.get(pod.name);
    let workerId: number;
    let given: { assignment: number; floor: number };
    if (claim) {
      // The claim has no lease: never written, or lost after its holder reserved ticks nobody
      // recorded. Either way its lease starts past every reservation the holder can have made.
      workerId = claim.workerId;
      const floor = Math.max(draft.baseFloor, lostClaimFloor(claim.entry, view));
      given = { assignment: claim.entry.assignment, floor };
      if (floor > claim.entry.floor) {
        draft.record(
          workerId,
          { ...claim.entry, floor },
          `claim of ${pod.name} has no lease: its lease is written to issue only after tick ${floor}`,
        );
      }
    } else {
      const free = pickFree();
      if (free === null) {
        result.waitingPods.push({
          pod: pod.name,
          message: "no free worker id in the fleet's range right now",
        });
        // Revoke the old holder's lease anyway, or it could keep its id (and this pod waiting) forever.
        if (existing) {
          result.deletes.push({
            kind: "delete-lease",
            configMapName: leaseName,
            resourceVersion: existing.resourceVersion,
            reason: `worker id ${existing.lease.workerId} taken back from ${existing.lease.holderPod} (uid ${existing.lease.holderUid})`,
          });
        }
        continue;
      }
      workerId = free;
      const floor = draft.handoverFloor(free);
      given = { assignment: draft.takeAssignment(), floor };
      claimedThisPlan.add(free);
      draft.claim(
        free,
        {
          lease: leaseName,
          podName: pod.name,
          podUid: pod.uid,
          assignment: given.assignment,
          floor,
        },
        `claimed for ${pod.name} (uid ${pod.uid}, assignment ${given.assignment}, after tick ${floor})`,
      );
    }
    const lease: LeaseData = {
      workerId,
      idSpace: input.idSpace,
      state: LeaseState.Assigned,
      holderPod: pod.name,
      holderUid: pod.uid,
      assignment: given.assignment,
      handoverAfter: given.floor,
      reservedUntil: given.floor,
      leaseDurationSeconds: Math.ceil(input.leaseDurationMs / 1000),
      renewCount: existing ? existing.lease.renewCount : 0,
      renewTime: "",
    };
    const reason = `worker id ${workerId} assigned to ${pod.name} (uid ${pod.uid}), issuing only after tick ${given.floor}`;
    if (existing) {
      result.writes.push({
        kind: "replace-lease",
        configMapName: leaseName,
        resourceVersion: existing.resourceVersion,
        lease,
        reason,
      });
    } else {
      result.writes.push({ kind: "create-lease", configMapName: leaseName, lease, reason });
    }
    served.add(pod.name);
  }
  // Pending claims whose pod did not take them (it was served another way) are abandoned.
  for (const [podName, claim] of pending) {
    const used = result.writes.some(
      (a) => a.lease.holderPod === podName && a.lease.workerId === claim.workerId,
    );
    if (!used) {
      takeBack(draft, view, claim.workerId, {
        holderMayIssue: true,
        who: `unused claim for ${podName}`,
        ownClaim: true,
        leaseMayBeLost: true,
      });
    }
  }
  return result;
}
