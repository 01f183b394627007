import {
  LedgerEntryState,
  type LeaseData,
  type Ledger,
  type LedgerEntry,
} from "../../../contract/lease-record.ts";

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
 * The ledger once a deleted fleet is past its fence: its claims and retirements become
 * `free`, keeping their floors (raised to `fence`), so fleets sharing the id space can
 * use the ids again and never below a tick this fleet issued. Returns null when the
 * ledger names nothing of the fleet. Pure.
 */
export function releaseFleetFromLedger(
  fleet: string,
  ledger: Ledger,
  fence: number,
  nowWall: string,
): Ledger | null {
  let changed = false;
  const entries = new Map<number, LedgerEntry>();
  for (const [w, entry] of ledger.entries) {
    if (entry.state !== LedgerEntryState.Free && entry.fleet === fleet) {
      const floor = entry.state === LedgerEntryState.Leased ? entry.floor : entry.reservedUntil;
      entries.set(w, { state: LedgerEntryState.Free, reservedUntil: Math.max(floor, fence), since: nowWall });
      changed = true;
    } else {
      entries.set(w, entry);
    }
  }
  return changed ? { nextAssignment: ledger.nextAssignment, entries } : null;
}
