import type { FleetPod } from "./planner-input.ts";

/** Whether a pod should hold a worker id in this plan. */
export type WantsId = (pod: FleetPod | undefined) => pod is FleetPod;

/** A pod wants an id when it exists, is not terminating, is within replicas, and the layout allows ids. */
export function wantsIdFor(idsWithheld: boolean, desiredReplicas: number): WantsId {
  return (pod): pod is FleetPod =>
    !idsWithheld && pod !== undefined && !pod.terminating && pod.ordinal < desiredReplicas;
}
