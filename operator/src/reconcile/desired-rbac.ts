import type { V1Role, V1RoleBinding, V1ServiceAccount } from "@kubernetes/client-node";
import { idSpaceNameOf, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { leaseNameForPod, ledgerNameForIdSpace } from "../../../contract/lease-record.ts";
import { fleetObjectNames, ownedMetadata } from "./fleet-naming.ts";

/** Name of the StatefulSet pod with `ordinal`. */
export function podNameForOrdinal(fleetName: string, ordinal: number): string {
  return `${fleetName}-${ordinal}`;
}

/**
 * How many pod ordinals the generator Role must cover: every pod the fleet may run
 * (replicas, or the autoscaler's maximum) and every pod that still exists, so a pod
 * being scaled away can still write `Released` into its lease.
 */
export function ordinalsToCover(fleet: IdGeneratorFleet, existingPodOrdinals: readonly number[]): number {
  const { replicas, autoscaling } = fleet.spec;
  const planned = Math.max(replicas, autoscaling.enabled ? autoscaling.maxReplicas : 0);
  const existing = existingPodOrdinals.length ? Math.max(...existingPodOrdinals) + 1 : 0;
  return Math.max(planned, existing);
}

/** The generator pods' ServiceAccount. Pure. */
export function desiredServiceAccount(fleet: IdGeneratorFleet): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: ownedMetadata(fleet, fleetObjectNames(fleet.metadata.name).serviceAccount),
  };
}

/**
 * The generator Role: read and write its own lease ConfigMaps, by name, and, when the
 * ledger lives in the fleet's own namespace, read its id space's ledger (a generator serves
 * only while the ledger backs its lease; elsewhere desired-ledger-access.ts grants it);
 * nothing else (no list, no create, no other fleet's leases). Pure.
 */
export function desiredRole(fleet: IdGeneratorFleet, ordinals: number, ledgerNamespace: string): V1Role {
  const fleetName = fleet.metadata.name;
  const leaseNames = Array.from({ length: ordinals }, (_, i) =>
    leaseNameForPod(podNameForOrdinal(fleetName, i)),
  );
  const ledger = ledgerNameForIdSpace(idSpaceNameOf(fleetName, fleet.spec));
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: ownedMetadata(fleet, fleetObjectNames(fleetName).role),
    rules: [
      // An empty resourceNames list would grant every ConfigMap; with no pods there are no leases to grant.
      ...(leaseNames.length
        ? [
            {
              apiGroups: [""],
              resources: ["configmaps"],
              resourceNames: leaseNames,
              verbs: ["get", "update", "patch"],
            },
          ]
        : []),
      ...(ledgerNamespace === fleet.metadata.namespace
        ? [{ apiGroups: [""], resources: ["configmaps"], resourceNames: [ledger], verbs: ["get"] }]
        : []),
    ],
  };
}

/** Binds the generator Role to the generator ServiceAccount. Pure. */
export function desiredRoleBinding(fleet: IdGeneratorFleet): V1RoleBinding {
  const names = fleetObjectNames(fleet.metadata.name);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: ownedMetadata(fleet, names.roleBinding),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.role },
    subjects: [{ kind: "ServiceAccount", name: names.serviceAccount, namespace: fleet.metadata.namespace }],
  };
}
