import { LedgerEntryState } from "../../../../contract/lease-record.ts";
import { tickAt } from "../../../../contract/id-layout-math.ts";
import {
  describeSpaceLayout,
  highWaterIdAt,
  sameSpaceLayout,
  spaceLayoutMath,
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
  /** The ledger is missing and this fleet must not be the one to create it (a lost ledger). */
  mayNotCreateLedger: boolean;
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
    mayNotCreateLedger: false,
  };
  const ledgerExists = input.ledger.resourceVersion !== null;
  if (!ledgerExists) return gateLostLedger(input, open);
  if (!read.layout || sameSpaceLayout(read.layout, input.layout)) return open;
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
  const mark = maxId(highWaterId(draft, view, read.highWaterId), ownIssuedBound(input));
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

/**
 * A lost ledger (missing although a fleet of the space has reported status) took the space's
 * layout and high-water mark with it, and whoever recreates it records its own layout. So only
 * a fleet whose layout the lost ledger recorded may: one whose holders were serving under it
 * (leases of its own), one whose layout this operator last read from the ledger (its memory),
 * or, with no memory, one that is not a declared successor while every fleet of another layout
 * is one and none of them has leases. A fleet refused for its layout, or a successor still
 * waiting, would otherwise take the space over without a succession, and its IDs could repeat
 * the old layout's (found by the simulation). A successor with neither leases nor memory never
 * recreates a lost ledger: the old layout's high-water mark is gone, and no clock bounds the IDs
 * of a layout it does not know.
 */
function gateLostLedger(input: PlannerInput, open: LayoutGate): LayoutGate {
  if (input.newLedgerBaseFloor === undefined || input.leases.length > 0) return open;
  const why = whyNotRecreate(input);
  if (why === null) return open;
  return {
    ...open,
    layoutConflict: `the worker-id ledger of id space ${input.idSpace} is missing (deleted or lost) and this fleet may not recreate it: ${why}. A fleet of the space's layout recreates it; if none is left and no table holds IDs of the old layout, remove layoutSuccession (or the fleets of other layouts) to start the space afresh`,
    mayNotCreateLedger: true,
  };
}

/** Why this fleet (without leases of its own) may not recreate the lost ledger; null when it may. */
function whyNotRecreate(input: PlannerInput): string | null {
  const others = (input.otherFleets ?? []).filter((f) => !sameSpaceLayout(f.layout, input.layout));
  const theirs = others.map((f) => describeSpaceLayout(f.layout)).join("; ");
  if (others.some((f) => f.holdsLeases))
    return `a fleet of another layout (${theirs}) has leases, so the lost ledger recorded its layout`;
  const seen = input.lastSeenLayout;
  if (seen !== undefined)
    return sameSpaceLayout(seen, input.layout)
      ? null
      : `the lost ledger recorded layout ${describeSpaceLayout(seen)}`;
  if (input.layoutSuccession)
    return `this fleet waits to succeed the space's layout with ${describeSpaceLayout(input.layout)}, and the lost ledger held the old layout's high-water mark`;
  if (!others.every((f) => f.layoutSuccession))
    return `fleets of other layouts (${theirs}) share the space, and the lost ledger recorded which layout it has`;
  return null;
}

/**
 * What this fleet's own layout may already have issued, when the ledger may have gone back: a
 * ledger this operator cannot vouch for may be an etcd restore from before an earlier succession
 * to this very layout, whose holders issued up to their clocks + the lost-state margin (found by
 * the simulation). 0 for a ledger this process created: it saw its whole past.
 */
function ownIssuedBound(input: PlannerInput): bigint {
  if (input.ledgerCreatedHere) return 0n;
  const math = spaceLayoutMath(input.layout);
  return highWaterIdAt(math, tickAt(math, input.nowMs + input.lostStateMarginMs));
}

function maxId(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The layout withholds worker ids from this fleet (a conflict, or a succession still waiting). */
export function idsWithheld(gate: LayoutGate): boolean {
  return gate.layoutConflict !== null || gate.successionWaiting !== null;
}
