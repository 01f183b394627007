import { LedgerEntryState } from "../../../../contract/lease-record.ts";
import type { LedgerDraft } from "./ledger-draft.ts";
import { lostClaimFloor } from "./reservation-record.ts";
import type { SnapshotView } from "./snapshot-view.ts";

/** How a worker id is taken back. */
export interface TakeBack {
  /** The holder may still issue: the id retires; otherwise it is free at once. */
  holderMayIssue: boolean;
  /** The former holder, for humans. */
  who: string;
  /** The id's claim (if any) is this holder's own: without that, a live claim is left alone. */
  ownClaim: boolean;
  /** The lease duration the holder fences itself by, in seconds (0: the fleet's). */
  holderLeaseDurationSeconds?: number;
  /** The claim's lease may be lost, and with it reservations nobody recorded. */
  leaseMayBeLost?: boolean;
}

/**
 * Takes `w` away from whoever may hold it: free when no holder can be issuing (released,
 * or a claim never confirmed), retiring otherwise. Never lowers a floor and never touches
 * another lease's live claim.
 */
export function takeBack(draft: LedgerDraft, view: SnapshotView, w: number, how: TakeBack): void {
  const current = draft.entry(w);
  if (current?.state === LedgerEntryState.Leased && !how.ownClaim) return;
  // A claim whose lease is gone may have had a holder reserving past anything recorded.
  const floor = how.leaseMayBeLost
    ? Math.max(floorOf(draft, view, w), lostClaimFloor(current, view))
    : floorOf(draft, view, w);
  if (!how.holderMayIssue && current?.state !== LedgerEntryState.Retiring) {
    draft.free(w, floor, how.who);
    return;
  }
  draft.retire(w, floor, how.who, how.holderLeaseDurationSeconds ?? 0);
}

/** Highest tick anyone may have issued for `w` as far as this snapshot knows. */
export function floorOf(draft: LedgerDraft, view: SnapshotView, w: number): number {
  let floor = draft.handoverFloor(w);
  for (const l of view.namedByLease.get(w) ?? []) {
    floor = Math.max(floor, l.lease.handoverAfter, l.lease.reservedUntil);
  }
  return floor;
}
