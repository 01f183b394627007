import type { FleetCondition, FleetConditionType } from "../../../contract/fleet-spec.ts";

/** A condition as computed by a reconcile, before transition bookkeeping. */
export interface ConditionUpdate {
  type: FleetConditionType;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/**
 * Merges freshly computed conditions into the existing ones: lastTransitionTime moves
 * only when a condition's status changes (Kubernetes convention), every condition gets
 * the generation it was computed from, and conditions not recomputed are kept.
 */
export function mergeConditions(
  existing: readonly FleetCondition[] | undefined,
  updates: readonly ConditionUpdate[],
  observedGeneration: number,
  now: Date,
): FleetCondition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  for (const u of updates) {
    const before = byType.get(u.type);
    byType.set(u.type, {
      ...u,
      observedGeneration,
      lastTransitionTime:
        before && before.status === u.status
          ? before.lastTransitionTime
          : now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
  }
  return [...byType.values()];
}
