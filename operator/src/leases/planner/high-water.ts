import { highWaterIdAt } from "../../../../contract/id-space-layout.ts";
import type { LedgerDraft } from "./ledger-draft.ts";
import type { SnapshotView } from "./snapshot-view.ts";

/**
 * The largest ID any holder of the space may have issued: the ledger's record, or what
 * this snapshot's floors and reservations imply, whichever is higher (it only rises).
 */
export function highWaterId(draft: LedgerDraft, view: SnapshotView, recorded: bigint | undefined): bigint {
  /** Highest tick any holder of the space may have issued or reserved, as far as this snapshot knows. */
  const highWaterTick = Math.max(
    draft.highestFloor(),
    ...view.allLeases.map((l) => Math.max(l.lease.handoverAfter, l.lease.reservedUntil)),
  );
  const seen = highWaterIdAt(view.math, highWaterTick);
  const floor = recorded ?? 0n;
  return seen > floor ? seen : floor;
}
