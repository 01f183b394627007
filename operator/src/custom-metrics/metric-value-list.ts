import { LeaseState } from "../../../contract/lease-record.ts";
import { SEQUENCE_UTILIZATION_METRIC } from "../../../contract/metric-names.ts";
import type { LabelSelector, SelectorRequirement } from "./label-selector.ts";
import type { LeaseReport } from "./lease-reports.ts";
import { formatQuantity } from "./quantity.ts";

/** The API group the operator serves metrics in. */
export const CUSTOM_METRICS_GROUP = "custom.metrics.k8s.io";

/** Versions served; the HPA controller prefers v1beta2 and falls back to v1beta1. */
export const CustomMetricsVersion = { v1beta2: "v1beta2", v1beta1: "v1beta1" } as const;
export type CustomMetricsVersion = (typeof CustomMetricsVersion)[keyof typeof CustomMetricsVersion];

/** metav1.LabelSelector, as MetricIdentifier.selector carries it. */
export interface KubeLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface DescribedObject {
  kind: "Pod";
  namespace: string;
  name: string;
  apiVersion: "v1";
}

/** custom.metrics.k8s.io/v1beta2 MetricValue. */
export interface MetricValueV1beta2 {
  describedObject: DescribedObject;
  metric: { name: string; selector?: KubeLabelSelector };
  timestamp: string;
  windowSeconds: number;
  value: string;
}

/** custom.metrics.k8s.io/v1beta1 MetricValue. */
export interface MetricValueV1beta1 {
  describedObject: DescribedObject;
  metricName: string;
  timestamp: string;
  windowSeconds: number;
  value: string;
  selector?: KubeLabelSelector;
}

/** A MetricValueList in either version. */
export interface MetricValueList {
  kind: "MetricValueList";
  apiVersion: string;
  metadata: Record<string, never>;
  items: (MetricValueV1beta2 | MetricValueV1beta1)[];
}

const OPERATOR_BY_REQUIREMENT: Partial<Record<SelectorRequirement["operator"], string>> = {
  "=": "In",
  in: "In",
  "!=": "NotIn",
  notin: "NotIn",
  exists: "Exists",
  "!": "DoesNotExist",
};

/** The metric selector as metav1.LabelSelector (numeric comparisons have no such form and are left out). */
export function toKubeLabelSelector(selector: LabelSelector): KubeLabelSelector | undefined {
  if (selector.requirements.length === 0) return undefined;
  const matchExpressions = selector.requirements.flatMap((r) => {
    const operator = OPERATOR_BY_REQUIREMENT[r.operator];
    if (operator === undefined) return [];
    return [r.values.length > 0 ? { key: r.key, operator, values: [...r.values] } : { key: r.key, operator }];
  });
  return { matchExpressions };
}

/** RFC 3339 at second precision, the form metav1.Time writes. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export interface MetricValueOptions {
  readonly version: CustomMetricsVersion;
  /** Selector on the metric's own labels (the `metricSelector` query parameter). */
  readonly metricSelector: LabelSelector;
  /** Wall-clock now, ms since the Unix epoch; stamps reports without a readable renewTime. */
  readonly nowMs: number;
  /** The window the reported utilization covers: the generators' renewal interval. */
  readonly windowSeconds: number;
}

/**
 * Builds the MetricValueList the HPA controller reads for a Pods metric. A pod gets an item only
 * while its lease is Active and carries a utilization report; the HPA treats pods without one as
 * missing (0 when scaling up, 100% when scaling down), which is the conservative reading. The
 * metric has no labels of its own, so a metric selector is matched against an empty label set.
 */
export function sequenceUtilizationList(
  reports: readonly LeaseReport[],
  options: MetricValueOptions,
): MetricValueList {
  const apiVersion = `${CUSTOM_METRICS_GROUP}/${options.version}`;
  if (!options.metricSelector.matches({}))
    return { kind: "MetricValueList", apiVersion, metadata: {}, items: [] };
  const selector = toKubeLabelSelector(options.metricSelector);
  const items = reports.flatMap((report): (MetricValueV1beta2 | MetricValueV1beta1)[] => {
    const utilization = report.lease.sequenceUtilization;
    if (
      report.lease.state !== LeaseState.Active ||
      utilization === undefined ||
      !Number.isFinite(utilization)
    ) {
      return [];
    }
    const renewed = Date.parse(report.lease.renewTime);
    const common = {
      describedObject: {
        kind: "Pod",
        namespace: report.namespace,
        name: report.podName,
        apiVersion: "v1",
      } as const,
      timestamp: rfc3339(Number.isNaN(renewed) ? options.nowMs : renewed),
      windowSeconds: options.windowSeconds,
      value: formatQuantity(utilization),
    };
    if (options.version === CustomMetricsVersion.v1beta1) {
      return [{ ...common, metricName: SEQUENCE_UTILIZATION_METRIC, ...(selector ? { selector } : {}) }];
    }
    return [{ ...common, metric: { name: SEQUENCE_UTILIZATION_METRIC, ...(selector ? { selector } : {}) } }];
  });
  return { kind: "MetricValueList", apiVersion, metadata: {}, items };
}
