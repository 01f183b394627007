import type { V1StatefulSet, V1TopologySpreadConstraint } from "@kubernetes/client-node";
import { GENERATOR_ENV_DEFAULTS, renderGeneratorEnv } from "../../../contract/generator-env.ts";
import { DEFAULT_SEQUENCE_START } from "../../../contract/sequence-start.ts";
import { idSpaceNameOf, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { derivedGracePeriodSeconds } from "../../../contract/shutdown-timing.ts";
import { defaultTopologySpread } from "./default-topology-spread.ts";
import { generatorProbes } from "./generator-probes.ts";
import { fleetLabels, fleetObjectNames, fleetSelectorLabels, ownedMetadata } from "./fleet-naming.ts";

/** Name of the generator's HTTP port on the pod and the Services. */
export const GENERATOR_PORT_NAME = "http";

/** Container resources when the fleet sets none: CPU requests are what the HPA's CPU target is relative to. */
export const DEFAULT_GENERATOR_RESOURCES = {
  // Memory: a generator peaks at ~80-85 MiB resident from start to ready (npm run bench:startup)
  // and stays below ~130 MiB under batch load; the limit leaves room for a burst of large batches.
  requests: { cpu: "100m", memory: "96Mi" },
  limits: { memory: "256Mi" },
} as const;

// The user Dockerfile.generator runs as; numeric so the kubelet can check runAsNonRoot.
const GENERATOR_UID = 65532;

/** Inputs beside the fleet: what the operator decided, not what the user wrote. */
export interface StatefulSetInputs {
  /** Image when the fleet names none. */
  defaultImage: string;
  /** Pods to run: spec.replicas, capped to the worker ids the fleet can lease. */
  replicas: number;
  /** Where the id space's ledger lives (the operator's namespace). */
  ledgerNamespace: string;
}

/** The StatefulSet that runs a fleet's generator pods. Pure. */
export function desiredStatefulSet(fleet: IdGeneratorFleet, inputs: StatefulSetInputs): V1StatefulSet {
  const { spec } = fleet;
  const name = fleet.metadata.name;
  const names = fleetObjectNames(name);
  const selector = fleetSelectorLabels(name);
  // After SIGTERM a pod drains, answers what is in flight and writes `Released` (contract/shutdown-timing.ts).
  const terminationGracePeriodSeconds =
    spec.shutdown.terminationGracePeriodSeconds ??
    derivedGracePeriodSeconds(spec.shutdown.drainSeconds, spec.leases.renewIntervalSeconds);
  const env = renderGeneratorEnv({
    port: GENERATOR_ENV_DEFAULTS.port,
    fleet: name,
    ledgerNamespace: inputs.ledgerNamespace,
    idSpace: idSpaceNameOf(name, spec),
    layout: spec.layout,
    // Only a non-default setting is rendered, so existing fleets' pod templates (and pods) stay as they are.
    ...(spec.sequence.start !== DEFAULT_SEQUENCE_START ? { sequenceStart: spec.sequence.start } : {}),
    // An empty value would be dropped by the API server and make every apply look like a change.
    ...(spec.clock.ntpServers.length ? { ntpServers: spec.clock.ntpServers } : {}),
    maxDriftMs: spec.clock.maxDriftMs,
    maxBackwardWaitMs: spec.clock.maxBackwardWaitMs,
    leaseDurationSeconds: spec.leases.durationSeconds,
    renewIntervalSeconds: spec.leases.renewIntervalSeconds,
    safetyMarginSeconds: spec.leases.safetyMarginSeconds,
    reserveAheadMs: spec.leases.reserveAheadMs,
    releaseOnShutdown: true,
    drainSeconds: spec.shutdown.drainSeconds,
    downwardApi: true,
  });
  const topologySpreadConstraints =
    spec.topologySpreadConstraints?.map(
      (c) => ({ labelSelector: { matchLabels: selector }, ...c }) as unknown as V1TopologySpreadConstraint,
    ) ?? defaultTopologySpread(selector);
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: ownedMetadata(fleet, names.statefulSet),
    spec: {
      replicas: inputs.replicas,
      serviceName: names.headlessService,
      // Pods do not wait for each other: worker ids come from leases, not ordinals.
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "RollingUpdate" },
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...spec.podLabels, ...fleetLabels(name) },
          ...(spec.podAnnotations ? { annotations: spec.podAnnotations } : {}),
        },
        spec: {
          serviceAccountName: names.serviceAccount,
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: GENERATOR_UID,
            runAsGroup: GENERATOR_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "generator",
              image: spec.image ?? inputs.defaultImage,
              ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
              ports: [
                { name: GENERATOR_PORT_NAME, containerPort: GENERATOR_ENV_DEFAULTS.port, protocol: "TCP" },
              ],
              env,
              ...generatorProbes(GENERATOR_PORT_NAME),
              resources: (spec.resources ?? DEFAULT_GENERATOR_RESOURCES) as object,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations as object[] } : {}),
          ...(spec.affinity ? { affinity: spec.affinity as object } : {}),
          ...(topologySpreadConstraints.length ? { topologySpreadConstraints } : {}),
          ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
        },
      },
    },
  };
}
