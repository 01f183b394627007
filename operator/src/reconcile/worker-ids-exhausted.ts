import { idSpaceNameOf, workerIdRangeOf, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";

/** What the reconcile knows when a fleet wants more pods than it can lease worker ids for. */
export interface WorkerIdShortage {
  /** Worker ids this fleet can hold (the planner's allocatable replicas): the pods that run. */
  free: number;
  /** Fleets of the same id space whose ranges overlap this one's (the likely holders of the rest). */
  overlappingFleets: readonly string[];
}

const ids = (n: number) => `${n} worker id${n === 1 ? "" : "s"}`;
const pods = (n: number) => `${n} pod${n === 1 ? " runs" : "s run"}`;

/**
 * The WorkerIdsExhausted message (also its Warning event): what is short and why, then the
 * change that fixes it, once. With autoscaling on, the HPA sets spec.replicas, so the knob to
 * lower is the autoscaling bound. Pure.
 */
export function workerIdsExhaustedMessage(fleet: IdGeneratorFleet, shortage: WorkerIdShortage): string {
  const { spec } = fleet;
  const { free, overlappingFleets } = shortage;
  const range = workerIdRangeOf(spec);
  const size = range.max - range.min + 1;
  const held = size - free;
  const space = idSpaceNameOf(fleet.metadata.name, spec);
  const holders = overlappingFleets.length ? ` (${overlappingFleets.join(", ")})` : "";
  const why =
    held > 0
      ? `other fleets of id space ${space}${holders} hold ${held} of the ${size} in its range ${range.min}-${range.max}`
      : `its spec.idSpace.workerIdRange ${range.min}-${range.max} has no more`;
  const { autoscaling } = spec;
  const lower = !autoscaling.enabled
    ? `spec.replicas`
    : autoscaling.minReplicas > free
      ? `spec.autoscaling.minReplicas and maxReplicas`
      : `spec.autoscaling.maxReplicas`;
  const widen =
    held > 0
      ? `give this fleet a spec.idSpace.workerIdRange with at least ${spec.replicas} ids no other fleet of id space ${space} uses`
      : `widen spec.idSpace.workerIdRange to at least ${spec.replicas} ids`;
  return (
    `spec.replicas is ${spec.replicas} but only ${ids(free)} ${free === 1 ? "is" : "are"} free for this fleet: ` +
    `${why}, so ${pods(free)}. To fix, lower ${lower} to ${free} or ${widen}.`
  );
}
