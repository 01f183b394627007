import type { V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import { FleetResource, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { fleetObjectNames, ownedMetadata } from "./fleet-naming.ts";

/** The per-pod custom metric the HPA reads for sequence utilization (served through custom.metrics.k8s.io). */
export const SEQUENCE_UTILIZATION_METRIC = "idgen_sequence_utilization";

/** A fraction as a Kubernetes quantity in milli-units ("0.5" -> "500m"), exact for three decimals. */
export function fractionToQuantity(fraction: number): string {
  return `${Math.round(fraction * 1000)}m`;
}

/**
 * The HPA that scales the fleet itself through its scale subresource, or null when
 * autoscaling is off (the reconciler then deletes any HPA it made). Pure.
 */
export function desiredHpa(fleet: IdGeneratorFleet): V2HorizontalPodAutoscaler | null {
  const a = fleet.spec.autoscaling;
  if (!a.enabled) return null;
  const metrics: V2MetricSpec[] = [
    {
      type: "Resource",
      resource: {
        name: "cpu",
        target: { type: "Utilization", averageUtilization: a.targetCPUUtilizationPercentage },
      },
    },
  ];
  if (a.targetSequenceUtilization !== undefined) {
    metrics.push({
      type: "Pods",
      pods: {
        metric: { name: SEQUENCE_UTILIZATION_METRIC },
        target: { type: "AverageValue", averageValue: fractionToQuantity(a.targetSequenceUtilization) },
      },
    });
  }
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: ownedMetadata(fleet, fleetObjectNames(fleet.metadata.name).hpa),
    spec: {
      scaleTargetRef: {
        apiVersion: FleetResource.apiVersion,
        kind: FleetResource.kind,
        name: fleet.metadata.name,
      },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics,
      ...(a.behavior ? { behavior: a.behavior as object } : {}),
    },
  };
}
