import type { V1TopologySpreadConstraint } from "@kubernetes/client-node";

/**
 * How a fleet's pods spread when its spec says nothing: evenly over nodes and over zones,
 * so one node or zone going away takes at most its share of worker ids and capacity.
 * ScheduleAnyway: a preference, so a single-node or single-zone cluster still runs the fleet.
 * A fleet overrides both with spec.topologySpreadConstraints (an empty list turns them off).
 */
export function defaultTopologySpread(selector: Record<string, string>): V1TopologySpreadConstraint[] {
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  }));
}
