import {
  LeaseState,
  LedgerEntryState,
  leaseNameForPod,
  type LedgerEntry,
} from "../../../../contract/lease-record.ts";
import { claimMatches } from "../../../../contract/lease-rules.ts";
import type { LedgerDraft } from "./ledger-draft.ts";
import type { FleetPod, ObservedLease, PlannerInput } from "./planner-input.ts";
import type { DeleteLeaseAction, PlanConflict } from "./plan.ts";
import { recordReservations } from "./reservation-record.ts";
import type { SnapshotView } from "./snapshot-view.ts";
import { takeBack } from "./take-back.ts";
import type { WantsId } from "./wants-id.ts";

/** What step 1 found and decided about the fleet's leases. */
export interface LeaseReview {
  /** Pods that hold a lease matching their current UID (later steps add the pods they serve). */
  served: Set<string>;
  /** Leases whose ConfigMap this plan already writes or deletes. */
  touched: Set<string>;
  /** Pods that need a lease; the value is the lease ConfigMap to replace, if one exists. */
  needingLease: Map<string, ObservedLease | null>;
  /** Leases confirmed by their live holder pod. */
  leasedWorkers: number;
  /** Leases taken back whose pod wants no id. */
  deletes: DeleteLeaseAction[];
  conflicts: PlanConflict[];
}

/** A review of no leases. */
export function emptyReview(): LeaseReview {
  return {
    served: new Set(),
    touched: new Set(),
    needingLease: new Map(),
    leasedWorkers: 0,
    deletes: [],
    conflicts: [],
  };
}

/**
 * Step 1. Each lease: keep it, or take its id back (ledger first, the lease write comes later).
 * Then the kept leases' reservations are recorded into their claims.
 */
export function reviewLeases(
  input: PlannerInput,
  view: SnapshotView,
  draft: LedgerDraft,
  wantsId: WantsId,
  idsWithheld: boolean,
): LeaseReview {
  const { fleet, range } = input;
  const review = emptyReview();
  /** Reservations of this fleet's live, backed leases, recorded into their claims after step 1. */
  const liveReservations = new Map<number, number>();

  for (const observed of [...input.leases].sort((a, b) => a.configMapName.localeCompare(b.configMapName))) {
    const { configMapName: name, lease } = observed;
    const w = lease.workerId;
    const pod = view.podsByName.get(lease.holderPod);
    const holderLive = pod !== undefined && pod.uid === lease.holderUid;
    const backed = claimMatches(draft.entry(w), {
      fleet,
      lease: name,
      podUid: lease.holderUid,
      assignment: lease.assignment,
    });
    const who = `${lease.holderPod} (uid ${lease.holderUid}, assignment ${lease.assignment})`;
    const ownerPod = view.podsByName.get(podNameOfLease(name, input.pods) ?? "");

    if (w < range.min || w > range.max) {
      review.conflicts.push({
        kind: "out-of-range",
        workerId: w,
        message: `lease ${name} holds worker id ${w}, outside the fleet's range ${range.min}-${range.max}`,
      });
    }

    if (backed && holderLive && lease.state !== LeaseState.Released && !idsWithheld) {
      review.served.add(pod.name);
      if (lease.state === LeaseState.Active) review.leasedWorkers++;
      liveReservations.set(w, lease.reservedUntil);
      continue;
    }

    const entry = draft.entry(w);
    if (!backed && (entry === undefined || entry.state === LedgerEntryState.Leased)) {
      // (A lease whose id the ledger already marks retiring or free is a revocation in progress.)
      review.conflicts.push({
        kind: "unbacked-lease",
        workerId: w,
        message: `lease ${name} names worker id ${w} for ${who} but the ledger ${describeEntry(entry)}; revoking it`,
      });
    }
    // Released means the holder will never issue again; an unconfirmed Assigned lease may be
    // confirmed any moment, so it is treated like an active one.
    takeBack(draft, view, w, {
      holderMayIssue: lease.state !== LeaseState.Released,
      who,
      ownClaim: backed,
      holderLeaseDurationSeconds: lease.leaseDurationSeconds,
    });
    review.touched.add(name);
    if (wantsId(ownerPod) && !view.malformed.has(name)) {
      review.needingLease.set(ownerPod.name, observed);
    } else {
      review.deletes.push({
        kind: "delete-lease",
        configMapName: name,
        resourceVersion: observed.resourceVersion,
        reason: `worker id ${w} taken back from ${who}: ${holderLive ? "released" : "pod gone or replaced"}`,
      });
    }
  }

  recordReservations(draft, liveReservations, view.record);
  return review;
}

function describeEntry(entry: LedgerEntry | undefined): string {
  if (entry === undefined) return "has no entry for it";
  if (entry.state === LedgerEntryState.Leased)
    return `claims it for ${entry.lease} (uid ${entry.podUid}, assignment ${entry.assignment})`;
  return `says it is ${entry.state}`;
}

/** The pod a lease ConfigMap belongs to, by name (leaseNameForPod is the only naming rule). */
function podNameOfLease(leaseName: string, pods: readonly FleetPod[]): string | undefined {
  return pods.find((p) => leaseNameForPod(p.name) === leaseName)?.name;
}
