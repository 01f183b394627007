import { describe, expect, it } from "vitest";
import { type LeaseData, LeaseState } from "../../../contract/lease-record.ts";
import { everything, parseLabelSelector } from "./label-selector.ts";
import type { LeaseReport } from "./lease-reports.ts";
import { CustomMetricsVersion, sequenceUtilizationList } from "./metric-value-list.ts";

const base: LeaseData = {
  workerId: 1,
  idSpace: "orders",
  state: LeaseState.Active,
  holderPod: "ids-0",
  holderUid: "u0",
  assignment: 1,
  handoverAfter: 0,
  reservedUntil: 100,
  leaseDurationSeconds: 15,
  renewCount: 3,
  renewTime: "2026-11-21T10:00:00.250Z",
};

function report(podName: string, extra: Partial<LeaseData>): LeaseReport {
  return { namespace: "team-a", podName, lease: { ...base, holderPod: podName, ...extra } };
}

const nowMs = Date.parse("2026-11-21T10:00:07.900Z");

describe("sequenceUtilizationList", () => {
  const reports = [
    report("ids-0", { sequenceUtilization: 0.25 }),
    report("ids-1", { sequenceUtilization: 0.8, renewTime: "" }),
    report("ids-2", {}), // no report yet
    report("ids-3", { sequenceUtilization: 0.9, state: LeaseState.Assigned }),
    report("ids-4", { sequenceUtilization: 0.9, state: LeaseState.Released }),
  ];

  it("writes the v1beta2 list the HPA controller reads", () => {
    const list = sequenceUtilizationList(reports, {
      version: CustomMetricsVersion.v1beta2,
      metricSelector: everything,
      nowMs,
      windowSeconds: 5,
    });
    expect(list).toEqual({
      kind: "MetricValueList",
      apiVersion: "custom.metrics.k8s.io/v1beta2",
      metadata: {},
      items: [
        {
          describedObject: { kind: "Pod", namespace: "team-a", name: "ids-0", apiVersion: "v1" },
          metric: { name: "idgen_sequence_utilization" },
          timestamp: "2026-11-21T10:00:00Z",
          windowSeconds: 5,
          value: "250m",
        },
        {
          describedObject: { kind: "Pod", namespace: "team-a", name: "ids-1", apiVersion: "v1" },
          metric: { name: "idgen_sequence_utilization" },
          timestamp: "2026-11-21T10:00:07Z",
          windowSeconds: 5,
          value: "800m",
        },
      ],
    });
  });

  it("writes v1beta1 items with metricName and the metric selector", () => {
    const list = sequenceUtilizationList(reports.slice(0, 1), {
      version: CustomMetricsVersion.v1beta1,
      metricSelector: parseLabelSelector("!shard"),
      nowMs,
      windowSeconds: 5,
    });
    expect(list.apiVersion).toBe("custom.metrics.k8s.io/v1beta1");
    expect(list.items).toEqual([
      {
        describedObject: { kind: "Pod", namespace: "team-a", name: "ids-0", apiVersion: "v1" },
        metricName: "idgen_sequence_utilization",
        timestamp: "2026-11-21T10:00:00Z",
        windowSeconds: 5,
        value: "250m",
        selector: { matchExpressions: [{ key: "shard", operator: "DoesNotExist" }] },
      },
    ]);
  });

  it("has no series for a metric selector that needs labels the metric does not have", () => {
    const list = sequenceUtilizationList(reports, {
      version: CustomMetricsVersion.v1beta2,
      metricSelector: parseLabelSelector("shard=a"),
      nowMs,
      windowSeconds: 5,
    });
    expect(list.items).toEqual([]);
  });
});
