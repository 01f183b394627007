import { resourceVersionWentBack } from "../../../contract/lease-rules.ts";

/**
 * How far a ledger has been seen to get. Both only rise while etcd keeps its history; an
 * etcd restore from a snapshot (or a hand edit) takes them back, and with them every floor
 * and claim written since: the operator then trusts nothing it remembers about that ledger.
 */
export interface LedgerHighs {
  nextAssignment: number;
  resourceVersion: string;
}

/**
 * Whether `now` is behind `highs`: a lower nextAssignment, or a lower resourceVersion.
 * Kubernetes calls resourceVersions opaque; etcd-backed ones are its revision numbers, so
 * they are compared only when both are decimal integers. Pure.
 */
export function ledgerWentBack(highs: LedgerHighs, now: LedgerHighs): boolean {
  return (
    now.nextAssignment < highs.nextAssignment ||
    resourceVersionWentBack(highs.resourceVersion, now.resourceVersion)
  );
}

/** The higher of two observations, field by field. Pure. */
export function maxHighs(a: LedgerHighs, b: LedgerHighs): LedgerHighs {
  return {
    nextAssignment: Math.max(a.nextAssignment, b.nextAssignment),
    resourceVersion: ledgerWentBack(a, {
      nextAssignment: a.nextAssignment,
      resourceVersion: b.resourceVersion,
    })
      ? a.resourceVersion
      : b.resourceVersion,
  };
}
