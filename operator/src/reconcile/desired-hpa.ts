import type { V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import { FleetResource, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { SEQUENCE_UTILIZATION_METRIC } from "../../../contract/metric-names.ts";
import { formatQuantity } from "../custom-metrics/quantity.ts";
import { fleetObjectNames, ownedMetadata } from "./fleet-naming.ts";

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
        target: { type: "AverageValue", averageValue: formatQuantity(a.targetSequenceUtilization) },
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
