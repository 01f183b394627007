import { idSpaceNameOf, workerIdRangeOf, type FleetSpec } from "../../../contract/fleet-spec.ts";

/** One fleet as seen by the conflict check. */
export interface FleetInSpace {
  name: string;
  createdAt: number;
  spec: FleetSpec;
}

/**
 * Fleets in the same namespace and id space whose worker-id ranges overlap `fleet`'s
 * (DESIGN invariant 7). `yields` is true when `fleet` is the later one of a conflict
 * (newer creation, name as tie-break): it must allocate nothing until fixed. Pure.
 */
export function findIdSpaceConflicts(
  fleet: FleetInSpace,
  others: readonly FleetInSpace[],
): { conflictsWith: string[]; yields: boolean } {
  const space = idSpaceNameOf(fleet.name, fleet.spec);
  const range = workerIdRangeOf(fleet.spec);
  const conflicting = others.filter((o) => {
    if (o.name === fleet.name || idSpaceNameOf(o.name, o.spec) !== space) return false;
    const r = workerIdRangeOf(o.spec);
    return r.min <= range.max && range.min <= r.max;
  });
  const older = (a: FleetInSpace, b: FleetInSpace) =>
    a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.name < b.name);
  return {
    conflictsWith: conflicting.map((o) => o.name).sort(),
    yields: conflicting.some((o) => older(o, fleet)),
  };
}
