import { tickAt, type LayoutMath } from "../../../../contract/id-layout-math.ts";
import { spaceLayoutMath, type SpaceLayout } from "../../../../contract/id-space-layout.ts";
import type { FleetPod, ObservedLease, PlannerInput } from "./planner-input.ts";
import type { PlanConflict } from "./plan.ts";

/** The planner's input, indexed once: the facts every phase looks up and none of them changes. */
export interface SnapshotView {
  /** The fleet's own leases, then the other fleets' of the id space. */
  allLeases: readonly ObservedLease[];
  /** Worker ids named by any lease in the snapshot: never claimable, whatever the ledger says. */
  namedByLease: ReadonlyMap<number, readonly ObservedLease[]>;
  podsByName: ReadonlyMap<string, FleetPod>;
  /** The fleet's own leases by ConfigMap name. */
  leasesByName: ReadonlyMap<string, ObservedLease>;
  /** Names of the fleet's lease ConfigMaps that did not parse. */
  malformed: ReadonlySet<string>;
  /** Ticks are in the id space's layout: the ledger's, or this fleet's for a ledger it creates now. */
  spaceLayout: SpaceLayout;
  math: LayoutMath;
  /** The lowest tick a holder whose reservation this operator has lost may not have issued yet. */
  lostStateFloor: number;
  /** How claims record their leases' reservations (PlannerInput.reservationRecord, defaulted). */
  record: { rewriteAfterTicks: number; lagTicks: number };
}

/** Indexes the planner's input. */
export function viewSnapshot(input: PlannerInput): SnapshotView {
  const allLeases = [...input.leases, ...(input.otherFleetsLeases ?? [])];
  const namedByLease = new Map<number, ObservedLease[]>();
  for (const l of allLeases) {
    const list = namedByLease.get(l.lease.workerId) ?? [];
    list.push(l);
    namedByLease.set(l.lease.workerId, list);
  }
  const spaceLayout = input.ledger.ledger.layout ?? input.layout;
  const math = spaceLayoutMath(spaceLayout);
  return {
    allLeases,
    namedByLease,
    podsByName: new Map(input.pods.map((p) => [p.name, p])),
    leasesByName: new Map(input.leases.map((l) => [l.configMapName, l])),
    malformed: new Set(input.malformedLeaseNames ?? []),
    spaceLayout,
    math,
    lostStateFloor: Math.max(0, tickAt(math, input.nowMs + input.lostStateMarginMs)),
    record: input.reservationRecord ?? { rewriteAfterTicks: 0, lagTicks: 0 },
  };
}

/** Lease ConfigMaps that do not parse, and worker ids named by more than one lease. */
export function snapshotConflicts(view: SnapshotView): PlanConflict[] {
  const conflicts: PlanConflict[] = [];
  for (const name of view.malformed) {
    conflicts.push({
      kind: "malformed-lease",
      message: `lease ConfigMap ${name} does not parse; fix or delete it`,
    });
  }
  for (const [w, list] of view.namedByLease) {
    if (list.length > 1) {
      conflicts.push({
        kind: "duplicate-lease",
        workerId: w,
        message: `worker id ${w} is named by leases ${list.map((l) => l.configMapName).join(", ")}; all but the ledger's claim are being revoked`,
      });
    }
  }
  return conflicts;
}
