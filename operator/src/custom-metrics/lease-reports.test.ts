import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  LEASE_COMPONENT,
  LeaseLabel,
  type LeaseData,
  LeaseState,
  serializeLeaseData,
} from "../../../contract/lease-record.ts";
import { everything, parseLabelSelector } from "./label-selector.ts";
import { joinLeaseReports, leaseReportSourceFromCaches } from "./lease-reports.ts";

const ns = "team-a";

function lease(pod: string, uid: string, extra: Partial<LeaseData> = {}): LeaseData {
  return {
    workerId: 1,
    idSpace: "orders",
    state: LeaseState.Active,
    holderPod: pod,
    holderUid: uid,
    assignment: 1,
    handoverAfter: 0,
    reservedUntil: 100,
    leaseDurationSeconds: 15,
    renewCount: 3,
    renewTime: "2026-11-21T10:00:00Z",
    sequenceUtilization: 0.25,
    ...extra,
  };
}

function leaseConfigMap(data: LeaseData | Record<string, string>, namespace = ns): V1ConfigMap {
  const d =
    "holderPod" in data && typeof data.workerId === "number" ? serializeLeaseData(data as LeaseData) : data;
  return {
    metadata: {
      name: `${String(d.holderPod)}-lease`,
      namespace,
      labels: { [LeaseLabel.component]: LEASE_COMPONENT, [LeaseLabel.fleet]: "ids" },
    },
    data: d as Record<string, string>,
  };
}

function pod(name: string, uid: string, labels: Record<string, string>, namespace = ns): V1Pod {
  return { metadata: { name, namespace, uid, labels } };
}

const fleetPods = { "idfleet.dev/fleet": "ids" };

describe("joinLeaseReports", () => {
  it("reports each lease whose holder pod exists with the same UID and matches the selector", () => {
    const reports = joinLeaseReports(
      [
        leaseConfigMap(lease("ids-1", "u1", { sequenceUtilization: 0.5 })),
        leaseConfigMap(lease("ids-0", "u0")),
        leaseConfigMap(lease("ids-2", "old-uid")), // pod was replaced: the lease describes nobody
        leaseConfigMap(lease("ids-3", "u3")), // pod is gone
        leaseConfigMap(lease("other-0", "o0")), // pod does not match the selector
        leaseConfigMap(lease("ids-4", "u4"), "elsewhere"), // another namespace
        { metadata: { name: "settings", namespace: ns }, data: { holderPod: "ids-0" } }, // not a lease
        leaseConfigMap({ ...serializeLeaseData(lease("ids-5", "u5")), workerId: "five" }), // malformed
      ],
      [
        pod("ids-0", "u0", fleetPods),
        pod("ids-1", "u1", fleetPods),
        pod("ids-2", "u2", fleetPods),
        pod("other-0", "o0", { "idfleet.dev/fleet": "other" }),
        pod("ids-4", "u4", fleetPods, "elsewhere"),
        pod("ids-5", "u5", fleetPods),
      ],
      ns,
      parseLabelSelector("idfleet.dev/fleet=ids"),
    );
    expect(reports.map((r) => [r.podName, r.lease.sequenceUtilization])).toEqual([
      ["ids-0", 0.25],
      ["ids-1", 0.5],
    ]);
    expect(reports.every((r) => r.namespace === ns)).toBe(true);
  });

  it("backs a source with informer-like caches", () => {
    const source = leaseReportSourceFromCaches({
      configMaps: {
        list: (namespace) =>
          [leaseConfigMap(lease("ids-0", "u0"))].filter((c) => c.metadata?.namespace === namespace),
      },
      pods: { list: () => [pod("ids-0", "u0", fleetPods)] },
    });
    expect(source.listLeaseReports(ns, everything)).toHaveLength(1);
    expect(source.listLeaseReports("nobody", everything)).toHaveLength(0);
  });
});
