import type { IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { layoutMath } from "../../../contract/id-layout-math.ts";
import type { Ledger } from "../../../contract/lease-record.ts";
import { capacityForecast } from "../reconcile/capacity-forecast.ts";
import type { OperatorMetrics } from "./operator-metrics.ts";

type FleetLabels = { namespace: string; fleet: string };

/**
 * Exports a fleet's capacity forecast for the alerts (config/monitoring/prometheus-rules.yaml):
 * worker ids it can reach against the most replicas it may ask for, and when its layout ends.
 */
export function recordCapacityMetrics(
  metrics: OperatorMetrics,
  labels: FleetLabels,
  fleet: IdGeneratorFleet,
  ledger: Ledger,
  nowMs: number,
): void {
  const forecast = capacityForecast(fleet, ledger, nowMs);
  if (forecast.workerIds) {
    const { heldByFleet, freeInRange, maxReplicas } = forecast.workerIds;
    metrics.workerIdsReachable.set(labels, heldByFleet + freeInRange);
    metrics.replicasMax.set(labels, maxReplicas);
  }
  const exhaustsAt = layoutMath(fleet.spec.layout).exhaustsAt;
  if (exhaustsAt) {
    metrics.layoutExhaustion.set(labels, exhaustsAt.getTime() / 1000);
  } else {
    metrics.layoutExhaustion.remove(labels);
  }
}

/** Drops a deleted fleet's capacity series. */
export function forgetCapacityMetrics(metrics: OperatorMetrics, labels: FleetLabels): void {
  metrics.workerIdsReachable.remove(labels);
  metrics.replicasMax.remove(labels);
  metrics.layoutExhaustion.remove(labels);
}
