import type { V1OwnerReference } from "@kubernetes/client-node";
import { FleetResource, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { LeaseLabel } from "../../../contract/lease-record.ts";

/** Value of app.kubernetes.io/managed-by on everything the operator creates. */
export const MANAGED_BY = "idfleet";

/** The one field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = "idfleet-operator";

/** Finalizer that holds a fleet until its worker ids can no longer be reused too early. */
export const FLEET_FINALIZER = `${FleetResource.group}/worker-id-fence`;

/** Names of the objects a fleet owns, derived from the fleet's name in one place. */
export function fleetObjectNames(fleetName: string) {
  return {
    statefulSet: fleetName,
    headlessService: `${fleetName}-headless`,
    clientService: fleetName,
    hpa: fleetName,
    pdb: fleetName,
    serviceAccount: `${fleetName}-generator`,
    role: `${fleetName}-generator`,
    roleBinding: `${fleetName}-generator`,
  } as const;
}

/** Labels that select a fleet's pods (the StatefulSet selector; immutable once created). */
export function fleetSelectorLabels(fleetName: string): Record<string, string> {
  return { "app.kubernetes.io/name": "idfleet-generator", [LeaseLabel.fleet]: fleetName };
}

/** Labels on every object a fleet owns. */
export function fleetLabels(fleetName: string): Record<string, string> {
  return {
    ...fleetSelectorLabels(fleetName),
    "app.kubernetes.io/instance": fleetName,
    [LeaseLabel.managedBy]: MANAGED_BY,
  };
}

/** The selector string for status.selector (and thus the scale subresource and the HPA). */
export function fleetSelectorString(fleetName: string): string {
  return Object.entries(fleetSelectorLabels(fleetName))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Controller owner reference to the fleet, so garbage collection removes what it owns. */
export function fleetOwnerReference(fleet: IdGeneratorFleet): V1OwnerReference {
  return {
    apiVersion: FleetResource.apiVersion,
    kind: FleetResource.kind,
    name: fleet.metadata.name,
    uid: fleet.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata every owned object starts from. */
export function ownedMetadata(fleet: IdGeneratorFleet, name: string) {
  return {
    name,
    namespace: fleet.metadata.namespace,
    labels: fleetLabels(fleet.metadata.name),
    ownerReferences: [fleetOwnerReference(fleet)],
  };
}
