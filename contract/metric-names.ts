/**
 * Metric names more than one component uses. The generator exports the sequence
 * utilization gauge; the operator serves the same name through the custom metrics API and
 * puts it into the fleet's HorizontalPodAutoscaler, so an HPA spec works unchanged with
 * prometheus-adapter; the monitoring kit alerts and graphs on it.
 */

/** Prefix of every generator metric (the operator's are `idfleet_`). */
export const GENERATOR_METRIC_PREFIX = "idgen_";

/** Generator metric names without the prefix, for those the other components name too. */
export const GeneratorMetric = {
  /** IDs issued per tick over 2^S, 0..1, over the telemetry window. */
  sequenceUtilization: "sequence_utilization",
} as const;

/** The autoscaling signal, per generator pod: `idgen_sequence_utilization`. */
export const SEQUENCE_UTILIZATION_METRIC = `${GENERATOR_METRIC_PREFIX}${GeneratorMetric.sequenceUtilization}`;
