import type { ObjectCache, V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import {
  LEASE_COMPONENT,
  LeaseLabel,
  type LeaseData,
  parseLeaseData,
} from "../../../contract/lease-record.ts";
import type { LabelSelector } from "./label-selector.ts";

/** One generator pod's latest report, as its lease ConfigMap carries it. */
export interface LeaseReport {
  readonly namespace: string;
  readonly podName: string;
  readonly lease: LeaseData;
}

/**
 * What the custom metrics server reads. The operator backs it with its informer caches
 * (see leaseReportSourceFromCaches); nothing here talks to the API server.
 */
export interface LeaseReportSource {
  /** Reports of the pods in `namespace` whose labels match `selector`: one per pod that holds a lease. */
  listLeaseReports(namespace: string, selector: LabelSelector): readonly LeaseReport[];
}

/**
 * Joins lease ConfigMaps with the pods they name. A lease counts only when its holder pod exists
 * with the UID the lease names (a lease left behind by a deleted pod describes nobody) and the
 * pod's labels match the selector, which is the pod selector the HPA sends.
 * Leases that do not parse are skipped: the operator core reports those; metrics must not fail for them.
 */
export function joinLeaseReports(
  configMaps: readonly V1ConfigMap[],
  pods: readonly V1Pod[],
  namespace: string,
  selector: LabelSelector,
): LeaseReport[] {
  const podsByName = new Map<string, V1Pod>();
  for (const pod of pods) {
    if (pod.metadata?.namespace === namespace && pod.metadata.name) podsByName.set(pod.metadata.name, pod);
  }
  const reports: LeaseReport[] = [];
  for (const cm of configMaps) {
    if (cm.metadata?.namespace !== namespace) continue;
    if (cm.metadata.labels?.[LeaseLabel.component] !== LEASE_COMPONENT) continue;
    let lease: LeaseData;
    try {
      lease = parseLeaseData(cm.data);
    } catch {
      continue;
    }
    const pod = podsByName.get(lease.holderPod);
    if (pod?.metadata?.uid !== lease.holderUid) continue;
    if (!selector.matches(pod.metadata.labels)) continue;
    reports.push({ namespace, podName: lease.holderPod, lease });
  }
  return reports.sort((a, b) => a.podName.localeCompare(b.podName));
}

/**
 * A LeaseReportSource over two informer caches (client-node `makeInformer` results, or anything
 * with `list(namespace)`): lease ConfigMaps and generator pods. The caches may hold more than
 * that (all ConfigMaps, all pods); only lease ConfigMaps and their holder pods are used.
 */
export function leaseReportSourceFromCaches(caches: {
  readonly configMaps: Pick<ObjectCache<V1ConfigMap>, "list">;
  readonly pods: Pick<ObjectCache<V1Pod>, "list">;
}): LeaseReportSource {
  return {
    listLeaseReports: (namespace, selector) =>
      joinLeaseReports(caches.configMaps.list(namespace), caches.pods.list(namespace), namespace, selector),
  };
}
