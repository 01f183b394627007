import type { V1Role, V1RoleBinding } from "@kubernetes/client-node";
import { API_GROUP, LeaseLabel, ledgerNameForIdSpace } from "../../../contract/lease-record.ts";
import { idSpaceNameOf, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { fleetObjectNames, MANAGED_BY } from "./fleet-naming.ts";

/*
 * A generator serves only while its id space's ledger backs its lease, so it reads that one
 * ConfigMap. The ledger lives in the operator's namespace (an id space spans namespaces and
 * outlives its fleets), so the read permission is a Role there, bound to the fleet's
 * ServiceAccount: `get` on the one ledger by name, nothing else. Owner references cannot
 * cross namespaces, so the operator deletes both when the fleet goes (finalizeDeletion).
 */

/** Label on the ledger-access objects naming the fleet as `namespace.name` (labels allow no slash). */
export const LEDGER_ACCESS_FOR = `${API_GROUP}/ledger-access-for`;

/** Name of the Role and RoleBinding that let a fleet's generators read their ledger. */
export function ledgerAccessName(fleet: IdGeneratorFleet): string {
  return `idfleet-ledger-${fleet.metadata.namespace}.${fleet.metadata.name}`;
}

function metadata(fleet: IdGeneratorFleet, ledgerNamespace: string) {
  return {
    name: ledgerAccessName(fleet),
    namespace: ledgerNamespace,
    labels: {
      [LeaseLabel.managedBy]: MANAGED_BY,
      [LEDGER_ACCESS_FOR]: `${fleet.metadata.namespace}.${fleet.metadata.name}`,
    },
  };
}

/** `get` on the fleet's id-space ledger, in the ledger namespace. Pure. */
export function desiredLedgerReaderRole(fleet: IdGeneratorFleet, ledgerNamespace: string): V1Role {
  const ledger = ledgerNameForIdSpace(idSpaceNameOf(fleet.metadata.name, fleet.spec));
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: metadata(fleet, ledgerNamespace),
    rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: [ledger], verbs: ["get"] }],
  };
}

/** Binds the ledger reader Role to the fleet's generator ServiceAccount (in the fleet's namespace). Pure. */
export function desiredLedgerReaderBinding(fleet: IdGeneratorFleet, ledgerNamespace: string): V1RoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: metadata(fleet, ledgerNamespace),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: ledgerAccessName(fleet) },
    subjects: [
      {
        kind: "ServiceAccount",
        name: fleetObjectNames(fleet.metadata.name).serviceAccount,
        namespace: fleet.metadata.namespace,
      },
    ],
  };
}
