import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { idSpaceNameOf, parseFleetSpec, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { spaceLayoutOf } from "../../../contract/id-space-layout.ts";
import {
  LEASE_COMPONENT,
  LEDGER_COMPONENT,
  fleetKey,
  LeaseLabel,
  ledgerNameForIdSpace,
  serializeLeaseData,
  serializeLedgerData,
} from "../../../contract/lease-record.ts";
import { isNotFound } from "../kube/api-errors.ts";
import type { FleetCaches } from "../kube/fleet-caches.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { fleetOwnerReference, MANAGED_BY } from "../reconcile/fleet-naming.ts";
import type { IdSpaceObjects, LeaseStore } from "./lease-store.ts";
import type { PlanAction } from "./worker-id-planner.ts";

/** Where lease sync finds what it reads. */
export interface LeaseSyncScope {
  /** The operator's namespace: every id space's ledger lives here, outliving its fleets. */
  ledgerNamespace: string;
  /** Only this namespace's leases are seen (namespace-scoped installs); all when undefined. */
  watchNamespace?: string;
}

/** The LeaseStore of a running operator: the API server, and its informer caches for the first read. */
export function kubeLeaseStore(
  core: CoreV1Api,
  caches: FleetCaches,
  metrics: OperatorMetrics,
  scope: LeaseSyncScope,
): LeaseStore {
  const count = (verb: string) => metrics.apiWrites.inc({ kind: "ConfigMap", verb });
  const idSpaceOf = (fleet: IdGeneratorFleet) => idSpaceNameOf(fleet.metadata.name, fleet.spec);
  return {
    cached(fleet): IdSpaceObjects | undefined {
      const idSpace = idSpaceOf(fleet);
      const ledger = caches.configMaps.get(ledgerNameForIdSpace(idSpace), scope.ledgerNamespace);
      if (!ledger) return undefined;
      return { leases: caches.configMaps.list().filter((cm) => isLeaseIn(cm, idSpace)), ledger };
    },

    async read(fleet): Promise<IdSpaceObjects> {
      const idSpace = idSpaceOf(fleet);
      // Every lease of the id space, in every namespace: the fleet's own, and other fleets' (their ids are not claimable).
      const labelSelector = `${LeaseLabel.idSpace}=${idSpace},${LeaseLabel.component}=${LEASE_COMPONENT}`;
      const list = scope.watchNamespace
        ? await core.listNamespacedConfigMap({ namespace: scope.watchNamespace, labelSelector })
        : await core.listConfigMapForAllNamespaces({ labelSelector });
      let ledger: V1ConfigMap | undefined;
      try {
        ledger = await core.readNamespacedConfigMap({
          namespace: scope.ledgerNamespace,
          name: ledgerNameForIdSpace(idSpace),
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return { leases: list.items, ledger };
    },

    async apply(fleet, action: PlanAction) {
      const { namespace } = fleet.metadata;
      const idSpace = idSpaceOf(fleet);
      switch (action.kind) {
        case "write-ledger": {
          const name = ledgerNameForIdSpace(idSpace);
          const body: V1ConfigMap = {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name,
              namespace: scope.ledgerNamespace,
              labels: {
                [LeaseLabel.idSpace]: idSpace,
                [LeaseLabel.component]: LEDGER_COMPONENT,
                [LeaseLabel.managedBy]: MANAGED_BY,
              },
              // No owner: the ledger remembers what the space minted after its last fleet is gone.
              ...(action.resourceVersion === null ? {} : { resourceVersion: action.resourceVersion }),
            },
            data: serializeLedgerData(action.ledger),
          };
          if (action.resourceVersion === null) {
            const created = await core.createNamespacedConfigMap({ namespace: scope.ledgerNamespace, body });
            count("create");
            return {
              ...(created.metadata?.uid ? { createdUid: created.metadata.uid } : {}),
              ...(created.metadata?.resourceVersion
                ? { resourceVersion: created.metadata.resourceVersion }
                : {}),
            };
          }
          const replaced = await core.replaceNamespacedConfigMap({
            namespace: scope.ledgerNamespace,
            name,
            body,
          });
          count("replace");
          return replaced.metadata?.resourceVersion
            ? { resourceVersion: replaced.metadata.resourceVersion }
            : {};
        }
        case "create-lease":
        case "replace-lease": {
          const body: V1ConfigMap = {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name: action.configMapName,
              namespace,
              labels: {
                [LeaseLabel.fleet]: fleet.metadata.name,
                [LeaseLabel.workerId]: String(action.lease.workerId),
                [LeaseLabel.idSpace]: idSpace,
                [LeaseLabel.component]: LEASE_COMPONENT,
                [LeaseLabel.managedBy]: MANAGED_BY,
              },
              ownerReferences: [fleetOwnerReference(fleet)],
              ...(action.kind === "replace-lease" ? { resourceVersion: action.resourceVersion } : {}),
            },
            data: serializeLeaseData(action.lease),
          };
          if (action.kind === "create-lease") {
            await core.createNamespacedConfigMap({ namespace, body });
            count("create");
          } else {
            await core.replaceNamespacedConfigMap({ namespace, name: action.configMapName, body });
            count("replace");
          }
          return {};
        }
        case "delete-lease":
          await core.deleteNamespacedConfigMap({
            namespace,
            name: action.configMapName,
            body: { preconditions: { resourceVersion: action.resourceVersion } },
          });
          count("delete");
          return {};
      }
    },

    otherFleetsOfIdSpace(fleet) {
      const idSpace = idSpaceOf(fleet);
      const self = fleetKey(fleet.metadata.namespace, fleet.metadata.name);
      return caches.fleets.list().flatMap((raw) => {
        const key = fleetKey(raw.metadata?.namespace ?? "", raw.metadata?.name ?? "");
        try {
          const spec = parseFleetSpec(raw.spec);
          if (key === self || idSpaceNameOf(raw.metadata?.name ?? "", spec) !== idSpace) return [];
          return [
            {
              key,
              layout: spaceLayoutOf(spec.layout),
              layoutSuccession: spec.idSpace?.layoutSuccession === true,
            },
          ];
        } catch {
          // A spec that does not parse is that fleet's problem (it gets no worker id either).
          return [];
        }
      });
    },

    idSpaceHadHolders(fleet) {
      const idSpace = idSpaceOf(fleet);
      return caches.fleets.list().some((raw) => {
        if (raw.status?.observedGeneration === undefined) return false;
        try {
          return idSpaceNameOf(raw.metadata?.name ?? "", parseFleetSpec(raw.spec)) === idSpace;
        } catch {
          return false;
        }
      });
    },
  };
}

function isLeaseIn(cm: V1ConfigMap, idSpace: string): boolean {
  const labels = cm.metadata?.labels ?? {};
  return labels[LeaseLabel.idSpace] === idSpace && labels[LeaseLabel.component] === LEASE_COMPONENT;
}
