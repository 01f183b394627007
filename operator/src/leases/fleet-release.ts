import { LedgerEntryState, type LeaseData, type Ledger } from "../../../contract/lease-record.ts";

/**
 * The deletion fence of a fleet (lease-protocol.md "Deletion"): the highest tick any of
 * its holders may have issued, from its leases and from every ledger entry that may
 * still carry one of its floors. -1 when there is none. Pure.
 */
export function fleetFenceTick(fleet: string, leases: readonly LeaseData[], ledger: Ledger): number {
  let fence = -1;
  for (const l of leases) fence = Math.max(fence, l.reservedUntil, l.handoverAfter);
  for (const entry of ledger.entries.values()) {
    if (entry.state === LedgerEntryState.Leased && entry.fleet === fleet)
      fence = Math.max(fence, entry.floor);
    if (entry.state === LedgerEntryState.Retiring && entry.fleet === fleet)
      fence = Math.max(fence, entry.reservedUntil);
  }
  return fence;
}

/**
 * Whether the fleet still holds worker ids: a lease ConfigMap of it exists, or the ledger
 * has a claim or a retirement of it. A deleted fleet keeps its finalizer until this is
 * false, i.e. until every lease was revoked with a resourceVersion precondition (so no
 * holder can renew it any more) and every id was reclaimed the conservative way. Pure.
 */
export function fleetHoldsWorkerIds(fleet: string, leases: readonly LeaseData[], ledger: Ledger): boolean {
  if (leases.length > 0) return true;
  for (const entry of ledger.entries.values()) {
    if (entry.state !== LedgerEntryState.Free && entry.fleet === fleet) return true;
  }
  return false;
}
