import { LedgerEntryState, type Ledger } from "../../../contract/lease-record.ts";

/** How many worker ids a fleet's range holds and how many of them no one holds right now. */
export interface WorkerIdAvailability {
  /** Size of the fleet's worker-id range (idfleet_worker_ids_capacity). */
  capacity: number;
  /** Ids in the range neither leased nor retiring, by any fleet of the id space (idfleet_worker_ids_available). */
  available: number;
}

/**
 * Counts the free worker ids of a range in an id space's ledger. Retiring ids count as taken:
 * they cannot be handed out until their reservation has passed. Pure.
 */
export function workerIdAvailability(
  range: { min: number; max: number },
  ledger: Ledger,
): WorkerIdAvailability {
  const capacity = range.max - range.min + 1;
  let taken = 0;
  for (const [workerId, entry] of ledger.entries) {
    if (workerId >= range.min && workerId <= range.max && entry.state !== LedgerEntryState.Free) taken++;
  }
  return { capacity, available: capacity - taken };
}
