import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1ConfigMap,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1Role,
  type V1RoleBinding,
  type V1Service,
  type V1ServiceAccount,
  type V1StatefulSet,
  type V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { FleetResource } from "../../../contract/fleet-spec.ts";
import { LeaseLabel } from "../../../contract/lease-record.ts";
import { MANAGED_BY } from "../reconcile/fleet-naming.ts";
import { startResilientInformer, type ResilientInformer } from "./resilient-informer.ts";
import type { OperatorLog } from "../log/operator-log.ts";

/** A fleet as stored (spec not yet validated by the operator). */
export type RawFleet = KubernetesObject & { spec?: unknown; status?: Record<string, unknown> };

/** Informer caches of fleets and of everything the operator owns, all namespaces. */
export interface FleetCaches {
  fleets: ObjectCache<RawFleet>;
  statefulSets: ObjectCache<V1StatefulSet>;
  services: ObjectCache<V1Service>;
  hpas: ObjectCache<V2HorizontalPodAutoscaler>;
  pdbs: ObjectCache<V1PodDisruptionBudget>;
  configMaps: ObjectCache<V1ConfigMap>;
  pods: ObjectCache<V1Pod>;
  serviceAccounts: ObjectCache<V1ServiceAccount>;
  roles: ObjectCache<V1Role>;
  roleBindings: ObjectCache<V1RoleBinding>;
  /** True once every informer listed successfully. */
  synced: () => boolean;
  /** Resolves once every informer listed successfully. */
  waitForSync: () => Promise<void>;
  stop: () => Promise<void>;
}

/** The fleet (namespace/name key) an owned object belongs to, or undefined. */
export function owningFleetKey(obj: KubernetesObject): string | undefined {
  const ns = obj.metadata?.namespace;
  if (!ns) return undefined;
  const owner = obj.metadata?.ownerReferences?.find(
    (r) => r.kind === FleetResource.kind && r.apiVersion.startsWith(`${FleetResource.group}/`),
  );
  const name = owner?.name ?? obj.metadata?.labels?.[LeaseLabel.fleet];
  return name ? `${ns}/${name}` : undefined;
}

/**
 * Starts the informers. `onFleet` is called with a fleet key whenever a fleet or one of
 * its objects changes.
 */
export function startFleetCaches(
  kubeConfig: KubeConfig,
  onFleet: (key: string) => void,
  log: OperatorLog,
  /** Watch only this namespace (namespace-scoped installs, tests); all namespaces when undefined. */
  namespace?: string,
): FleetCaches {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
  const policy = kubeConfig.makeApiClient(PolicyV1Api);
  const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const managed = `${LeaseLabel.managedBy}=${MANAGED_BY}`;
  const informers: ResilientInformer<KubernetesObject>[] = [];

  const start = <T extends KubernetesObject>(
    what: string,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    labelSelector: string | undefined,
    keyOf: (o: T) => string | undefined,
  ) => {
    const informer = startResilientInformer<T>({
      kubeConfig,
      what,
      path,
      list,
      ...(labelSelector ? { labelSelector } : {}),
      onChange: (obj) => {
        const key = keyOf(obj);
        if (key) onFleet(key);
      },
      log,
    });
    informers.push(informer as unknown as ResilientInformer<KubernetesObject>);
    return informer.cache;
  };

  const fleetKey = (o: KubernetesObject) =>
    o.metadata?.namespace && o.metadata.name ? `${o.metadata.namespace}/${o.metadata.name}` : undefined;
  const { group, version, plural } = FleetResource;
  const ns = namespace;
  const path = (prefix: string, resource: string) =>
    ns ? `${prefix}/namespaces/${ns}/${resource}` : `${prefix}/${resource}`;
  const sel = { labelSelector: managed };
  return {
    fleets: start<RawFleet>(
      "fleets",
      path(`/apis/${group}/${version}`, plural),
      () =>
        (ns
          ? custom.listNamespacedCustomObject({ group, version, plural, namespace: ns })
          : custom.listClusterCustomObject({ group, version, plural })) as Promise<
          KubernetesListObject<RawFleet>
        >,
      undefined,
      fleetKey,
    ),
    statefulSets: start(
      "statefulsets",
      path("/apis/apps/v1", "statefulsets"),
      () =>
        ns
          ? apps.listNamespacedStatefulSet({ namespace: ns, ...sel })
          : apps.listStatefulSetForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    services: start(
      "services",
      path("/api/v1", "services"),
      () =>
        ns ? core.listNamespacedService({ namespace: ns, ...sel }) : core.listServiceForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    hpas: start(
      "hpas",
      path("/apis/autoscaling/v2", "horizontalpodautoscalers"),
      () =>
        ns
          ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns, ...sel })
          : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    pdbs: start(
      "pdbs",
      path("/apis/policy/v1", "poddisruptionbudgets"),
      () =>
        ns
          ? policy.listNamespacedPodDisruptionBudget({ namespace: ns, ...sel })
          : policy.listPodDisruptionBudgetForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    configMaps: start(
      "configmaps",
      path("/api/v1", "configmaps"),
      () =>
        ns
          ? core.listNamespacedConfigMap({ namespace: ns, ...sel })
          : core.listConfigMapForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    pods: start(
      "pods",
      path("/api/v1", "pods"),
      () =>
        ns
          ? core.listNamespacedPod({ namespace: ns, labelSelector: LeaseLabel.fleet })
          : core.listPodForAllNamespaces({ labelSelector: LeaseLabel.fleet }),
      LeaseLabel.fleet,
      owningFleetKey,
    ),
    serviceAccounts: start(
      "serviceaccounts",
      path("/api/v1", "serviceaccounts"),
      () =>
        ns
          ? core.listNamespacedServiceAccount({ namespace: ns, ...sel })
          : core.listServiceAccountForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    roles: start(
      "roles",
      path("/apis/rbac.authorization.k8s.io/v1", "roles"),
      () => (ns ? rbac.listNamespacedRole({ namespace: ns, ...sel }) : rbac.listRoleForAllNamespaces(sel)),
      managed,
      owningFleetKey,
    ),
    roleBindings: start(
      "rolebindings",
      path("/apis/rbac.authorization.k8s.io/v1", "rolebindings"),
      () =>
        ns
          ? rbac.listNamespacedRoleBinding({ namespace: ns, ...sel })
          : rbac.listRoleBindingForAllNamespaces(sel),
      managed,
      owningFleetKey,
    ),
    synced: () => informers.every((i) => i.hasSynced()),
    waitForSync: async () => {
      await Promise.all(informers.map((i) => i.synced));
    },
    stop: async () => {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
