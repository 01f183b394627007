import { idSpaceNameOf, workerIdRangeOf, type FleetSpec } from "../../../contract/fleet-spec.ts";

/** One fleet as seen by the overlap check. */
export interface FleetInSpace {
  namespace: string;
  name: string;
  spec: FleetSpec;
}

/**
 * The fleets in `others` (by name in the fleet's own namespace, else as `namespace/name`) that share `fleet`'s id space (in any
 * namespace: an id-space name is cluster-wide) and whose worker-id ranges overlap its own. The shared ledger keeps their ids disjoint anyway; the overlap
 * is reported (WorkerIdConflict) because it silently shrinks both fleets. Pure.
 */
export function findRangeOverlaps(fleet: FleetInSpace, others: readonly FleetInSpace[]): string[] {
  const space = idSpaceNameOf(fleet.name, fleet.spec);
  const range = workerIdRangeOf(fleet.spec);
  return (
    others
      .filter((o) => {
        if (
          (o.namespace === fleet.namespace && o.name === fleet.name) ||
          idSpaceNameOf(o.name, o.spec) !== space
        )
          return false;
        const r = workerIdRangeOf(o.spec);
        return r.min <= range.max && range.min <= r.max;
      })
      // Named as a user would: a fleet of the same namespace by its name, any other as namespace/name.
      .map((o) => (o.namespace === fleet.namespace ? o.name : `${o.namespace}/${o.name}`))
      .sort()
  );
}
