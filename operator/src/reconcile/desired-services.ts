import type { V1Service } from "@kubernetes/client-node";
import type { IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { fleetObjectNames, fleetSelectorLabels, ownedMetadata } from "./fleet-naming.ts";
import { GENERATOR_PORT_NAME } from "./desired-statefulset.ts";
import { GENERATOR_ENV_DEFAULTS } from "../../../contract/generator-env.ts";

/** The headless Service behind the StatefulSet: stable DNS names for every pod, ready or not. Pure. */
export function desiredHeadlessService(fleet: IdGeneratorFleet): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(fleet, fleetObjectNames(fleet.metadata.name).headlessService),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: fleetSelectorLabels(fleet.metadata.name),
      ports: [
        {
          name: GENERATOR_PORT_NAME,
          port: GENERATOR_ENV_DEFAULTS.port,
          targetPort: GENERATOR_PORT_NAME,
          protocol: "TCP",
        },
      ],
    },
  };
}

/** The client Service `<fleet>` that spreads ID requests over the ready pods. Pure. */
export function desiredClientService(fleet: IdGeneratorFleet): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(fleet, fleetObjectNames(fleet.metadata.name).clientService),
    spec: {
      type: fleet.spec.service.type,
      selector: fleetSelectorLabels(fleet.metadata.name),
      ports: [
        {
          name: GENERATOR_PORT_NAME,
          port: fleet.spec.service.port,
          targetPort: GENERATOR_PORT_NAME,
          protocol: "TCP",
        },
      ],
    },
  };
}
