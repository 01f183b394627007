import { LedgerEntryState, type LedgerEntry } from "../../../../contract/lease-record.ts";
import type { LeasedEntry, LedgerDraft } from "./ledger-draft.ts";
import type { SnapshotView } from "./snapshot-view.ts";

/*
 * Claims record their leases' reservations (`seenReservedUntil`), so a lost lease does not
 * lose its reservation (PlannerInput.reservationRecord says how closely).
 */

const recordedReservation = (entry: LeasedEntry) => Math.max(entry.floor, entry.seenReservedUntil ?? 0);

/**
 * Keeps every claim's record of its lease's reservation close behind the lease, so losing the
 * lease does not lose the reservation (a lease deleted by hand, or garbage-collected).
 * `liveReservations`: reservedUntil of this fleet's live, backed leases, by worker id.
 */
export function recordReservations(
  draft: LedgerDraft,
  liveReservations: ReadonlyMap<number, number>,
  record: SnapshotView["record"],
): void {
  const behind = [...liveReservations].flatMap(([w, reservedUntil]) => {
    const entry = draft.entry(w);
    return entry?.state === LedgerEntryState.Leased && reservedUntil > recordedReservation(entry)
      ? [{ w, entry, reservedUntil }]
      : [];
  });
  if (
    !behind.some(
      ({ entry, reservedUntil }) => reservedUntil > recordedReservation(entry) + record.rewriteAfterTicks,
    )
  )
    return;
  for (const { w, entry, reservedUntil } of behind)
    draft.record(w, { ...entry, seenReservedUntil: reservedUntil }, null);
}

/** The floor of a claim whose lease may be lost: past its recorded reservation (plus the record's lag) and our clock. */
export function lostClaimFloor(
  entry: LedgerEntry | undefined,
  view: Pick<SnapshotView, "lostStateFloor" | "record">,
): number {
  if (entry?.state !== LedgerEntryState.Leased) return view.lostStateFloor;
  const recorded = entry.seenReservedUntil === undefined ? 0 : entry.seenReservedUntil + view.record.lagTicks;
  return Math.max(entry.floor, recorded, view.lostStateFloor);
}
