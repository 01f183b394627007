import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { fleetObjectNames, fleetSelectorLabels, ownedMetadata } from "./fleet-naming.ts";

/** At most one generator pod evicted at a time (drains, upgrades). Pure. */
export function desiredPdb(fleet: IdGeneratorFleet): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMetadata(fleet, fleetObjectNames(fleet.metadata.name).pdb),
    spec: { maxUnavailable: 1, selector: { matchLabels: fleetSelectorLabels(fleet.metadata.name) } },
  };
}
