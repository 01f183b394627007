import { FleetResource, parseFleetSpec, type IdGeneratorFleet } from "../../contract/fleet-spec.ts";

/** A fleet object as the informer would hand it over, with a validated, defaulted spec. */
export function fleetFixture(
  spec: Record<string, unknown> = {},
  name = "ids",
  namespace = "team-a",
): IdGeneratorFleet {
  return {
    apiVersion: FleetResource.apiVersion,
    kind: FleetResource.kind,
    metadata: { name, namespace, uid: "11111111-2222-3333-4444-555555555555", generation: 1 },
    spec: parseFleetSpec(spec),
  };
}
