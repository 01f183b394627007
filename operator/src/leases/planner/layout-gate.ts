import { LedgerEntryState } from "../../../../contract/lease-record.ts";
import {
  describeSpaceLayout,
  sameSpaceLayout,
  successionStart,
} from "../../../../contract/id-space-layout.ts";
import { highWaterId } from "./high-water.ts";
import type { LedgerDraft } from "./ledger-draft.ts";
import type { PlannerInput } from "./planner-input.ts";
import type { WriteLedgerAction } from "./plan.ts";
import type { SnapshotView } from "./snapshot-view.ts";

/** What the id space's layout allows this fleet. */
export interface LayoutGate {
  /** Why this fleet gets no worker id because another layout owns the space (or a succession is refused), or null. */
  layoutConflict: string | null;
  /** A declared succession still waiting for the old layout's holders, or null. */
  successionWaiting: string | null;
  /** The ledger write that performs a succession now: the whole plan; null otherwise. */
  succession: WriteLedgerAction | null;
  /** Plan again after this long (a waiting succession); null: no timer needed. */
  wakeAfterMs: number | null;
}

/**
 * One id space, one layout: a fleet of another layout gets no worker id, unless it declared
 * itself the successor and no holder of the old layout can issue any more.
 */
export function gateLayout(input: PlannerInput, view: SnapshotView, draft: LedgerDraft): LayoutGate {
  const read = input.ledger.ledger;
  const open: LayoutGate = {
    layoutConflict: null,
    successionWaiting: null,
    succession: null,
    wakeAfterMs: null,
  };
  const ledgerExists = input.ledger.resourceVersion !== null;
  if (!ledgerExists || !read.layout || sameSpaceLayout(read.layout, input.layout)) return open;
  const theirs = describeSpaceLayout(read.layout);
  const ours = describeSpaceLayout(input.layout);
  const holders = [...read.entries.values()].filter((e) => e.state !== LedgerEntryState.Free).length;
  if (!input.layoutSuccession) {
    return {
      ...open,
      layoutConflict: `id space ${input.idSpace} issues IDs with layout ${theirs}; this fleet's layout is ${ours}, and IDs of two layouts in one space can repeat each other. Use the space's layout, or another idSpace if these IDs go into other tables, or set idSpace.layoutSuccession: true to replace the space's layout once its holders are gone`,
    };
  }
  const leases = view.allLeases.length;
  if (holders > 0 || leases > 0) {
    return {
      ...open,
      successionWaiting: `layout succession of id space ${input.idSpace} from ${theirs} to ${ours} waits until no holder of the old layout can issue: ${holders} worker id(s) still leased or retiring, ${leases} lease(s) left; scale the fleets of the old layout to zero or delete them`,
      // Other fleets' holders going away changes nothing this fleet watches: look again on a timer.
      wakeAfterMs: Math.max(1000, input.reclaimGraceMs),
    };
  }
  const mark = highWaterId(draft, view, read.highWaterId);
  const start = successionStart(mark, input.layout, input.nowMs);
  if (!start.ok) return { ...open, layoutConflict: `layout succession refused: ${start.message}` };
  const reason = `layout of id space ${input.idSpace} succeeded from ${theirs} to ${ours}: first ID above ${mark}, issued from ${new Date(start.firstTickStartMs).toISOString()}`;
  return {
    ...open,
    succession: {
      kind: "write-ledger",
      resourceVersion: input.ledger.resourceVersion,
      ledger: {
        nextAssignment: draft.nextAssignment,
        baseFloor: start.floorTick,
        layout: input.layout,
        highWaterId: mark,
        formerLayouts: [
          ...(read.formerLayouts ?? []),
          { layout: read.layout, highWaterId: mark.toString(), until: input.nowWall },
        ],
        // Old entries count ticks of the old layout: the base floor now bounds every id.
        entries: new Map(),
      },
      reasons: [reason],
    },
  };
}

/** The layout withholds worker ids from this fleet (a conflict, or a succession still waiting). */
export function idsWithheld(gate: LayoutGate): boolean {
  return gate.layoutConflict !== null || gate.successionWaiting !== null;
}
