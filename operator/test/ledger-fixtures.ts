import type { Ledger, LedgerEntry } from "../../contract/lease-record.ts";

/** A ledger entry leased to one pod of `fleet`. */
export const leasedEntry = (fleet: string): LedgerEntry => ({
  state: "leased",
  fleet,
  lease: `${fleet}-0-lease`,
  podName: `${fleet}-0`,
  podUid: "uid",
  assignment: 1,
  floor: 0,
  since: "2026-11-21T00:00:00Z",
});

/** A ledger entry `fleet` is retiring. */
export const retiringEntry = (fleet: string): LedgerEntry => ({
  state: "retiring",
  fleet,
  reservedUntil: 10,
  since: "2026-11-21T00:00:00Z",
});

/** A ledger holding `entries` by worker id. */
export const ledgerOf = (entries: [number, LedgerEntry][]): Ledger => ({
  nextAssignment: 9,
  entries: new Map(entries),
});
