import type { FleetSpecInput } from "./fleet-spec.ts";

/**
 * Specs the API server must refuse, each with a fragment of the message it must give.
 * Shared by the unit test (zod says the same) and the integration test (the real API
 * server says it), so both halves of the validation are held to one list.
 */
export const badFleetSpecs: readonly { name: string; spec: Record<string, unknown>; message: string }[] = [
  {
    name: "layout-bits-sum",
    spec: { layout: { timestampBits: 40, workerIdBits: 10, sequenceBits: 12 } },
    message: "timestampBits + workerIdBits + sequenceBits must be",
  },
  {
    name: "range-reversed",
    spec: { replicas: 0, idSpace: { workerIdRange: { min: 5, max: 2 } } },
    message: "workerIdRange.min must not exceed max",
  },
  {
    name: "range-beyond-bits",
    spec: { idSpace: { workerIdRange: { min: 0, max: 1024 } } },
    message: "workerIdRange.max must be below 2^layout.workerIdBits",
  },
  {
    name: "replicas-above-ids",
    spec: { replicas: 3, idSpace: { workerIdRange: { min: 10, max: 11 } } },
    message: "replicas exceeds the worker ids available",
  },
  {
    name: "autoscaling-min-above-max",
    spec: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } },
    message: "autoscaling.minReplicas must not exceed maxReplicas",
  },
  {
    name: "autoscaling-max-above-ids",
    spec: {
      layout: { timestampBits: 49, workerIdBits: 2, sequenceBits: 12 },
      autoscaling: { enabled: true, maxReplicas: 5 },
    },
    message: "autoscaling.maxReplicas exceeds the worker ids available",
  },
  { name: "image-empty", spec: { image: "" }, message: "image must be a non-empty image reference" },
  {
    name: "image-malformed",
    spec: { image: "Not An Image" },
    message: "image must be a non-empty image reference",
  },
  {
    name: "renew-too-slow",
    spec: {
      leases: {
        durationSeconds: 15,
        renewIntervalSeconds: 13,
        safetyMarginSeconds: 3,
        reserveAheadMs: 20_000,
      },
    },
    message: "renewIntervalSeconds must be below durationSeconds - safetyMarginSeconds",
  },
  {
    name: "clock-rate-intolerant",
    spec: { leases: { durationSeconds: 300, safetyMarginSeconds: 1, reclaimGraceSeconds: 0 } },
    message: "reclaimGraceSeconds + safetyMarginSeconds must be at least 1%",
  },
  {
    name: "reserve-too-short",
    spec: { leases: { renewIntervalSeconds: 5, reserveAheadMs: 4000 } },
    message: "reserveAheadMs must exceed renewIntervalSeconds * 1000",
  },
  {
    name: "grace-below-drain",
    // 20 s drain + 5 s in flight + 2 * 5 s release + 5 s margin = 40 s needed.
    spec: { shutdown: { drainSeconds: 20, terminationGracePeriodSeconds: 39 } },
    message: "shutdown.terminationGracePeriodSeconds must cover drainSeconds",
  },
  { name: "drain-too-long", spec: { shutdown: { drainSeconds: 301 } }, message: "drainSeconds" },
  { name: "replicas-negative", spec: { replicas: -1 }, message: "replicas" },
  { name: "time-unit-too-long", spec: { layout: { timeUnitMs: 5000 } }, message: "timeUnitMs" },
  { name: "sequence-start-unknown", spec: { sequence: { start: "random" } }, message: "sequence.start" },
];

/** A valid spec that uses every section, for round-trip tests. */
export const fullFleetSpec: FleetSpecInput = {
  replicas: 2,
  layout: {
    timestampBits: 41,
    workerIdBits: 10,
    sequenceBits: 12,
    timeUnitMs: 1,
    epoch: "2024-01-01T00:00:00Z",
  },
  sequence: { start: "rolling" },
  idSpace: { name: "orders", workerIdRange: { min: 0, max: 511 } },
  leases: {
    durationSeconds: 15,
    renewIntervalSeconds: 5,
    reclaimGraceSeconds: 10,
    safetyMarginSeconds: 3,
    reserveAheadMs: 10_000,
  },
  clock: { ntpServers: ["ntp.internal:123"], maxDriftMs: 50, maxBackwardWaitMs: 5 },
  autoscaling: {
    enabled: true,
    minReplicas: 2,
    maxReplicas: 8,
    targetCPUUtilizationPercentage: 60,
    targetSequenceUtilization: 0.5,
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
  image: "idfleet/generator:dev",
  imagePullPolicy: "IfNotPresent",
  resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  nodeSelector: { "kubernetes.io/os": "linux" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "ids", effect: "NoSchedule" }],
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" },
  ],
  priorityClassName: "high",
  podAnnotations: { "example.com/team": "payments" },
  podLabels: { team: "payments" },
  service: { type: "ClusterIP", port: 8080 },
  shutdown: { drainSeconds: 10, terminationGracePeriodSeconds: 60 },
};
