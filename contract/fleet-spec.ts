import { z } from "zod";
import { API_GROUP } from "./lease-record.ts";
import { DEFAULT_SEQUENCE_START, SequenceStart } from "./sequence-start.ts";
import { DEFAULT_LAYOUT, ID_PAYLOAD_BITS } from "./id-layout-math.ts";
import { formatIssues, idLayoutSchema } from "./id-layout.ts";

/**
 * The IdGeneratorFleet resource: one zod schema is the TypeScript type, the operator's
 * runtime validation and (through scripts/generate-crd.ts) the CRD's OpenAPI schema.
 * Rules that span fields are written once in `fleetSpecRules`, as a CEL expression the
 * API server enforces and a TypeScript predicate the operator re-checks, side by side
 * so they cannot drift apart.
 */

/** API coordinates of the fleet resource. */
export const FleetResource = {
  group: API_GROUP,
  version: "v1alpha1",
  apiVersion: `${API_GROUP}/v1alpha1`,
  kind: "IdGeneratorFleet",
  listKind: "IdGeneratorFleetList",
  plural: "idgeneratorfleets",
  singular: "idgeneratorfleet",
  shortNames: ["idfleet", "idfleets"],
  categories: ["idfleet", "all"],
} as const;

// Worker id bits are capped at 31 (id-layout.ts), so 2^bits for every legal value fits
// in a CEL int list literal; CEL in Kubernetes has no shift or pow operator.
const POW2_CEL = `[${Array.from({ length: 32 }, (_, i) => 2 ** i).join(", ")}]`;

/** A CEL rule paired with the TypeScript predicate that means the same thing. */
export interface FleetSpecRule {
  /** CEL evaluated by the API server with `self` = spec (and `oldSelf` for transition rules). */
  readonly rule: string;
  /** What to change, shown by the API server when the rule fails. */
  readonly message: string;
  /** The field to blame, as a JSONPath relative to spec (Kubernetes fieldPath). */
  readonly fieldPath: string;
  /** True when the spec satisfies the rule (or the rule does not apply). */
  readonly holds: (spec: FleetSpec, old?: FleetSpec) => boolean;
  /** Transition rules compare with the stored object and only run on update. */
  readonly transition?: boolean;
}

const rangeSizeCel =
  `(has(self.idSpace) && has(self.idSpace.workerIdRange) ? ` +
  `self.idSpace.workerIdRange.max - self.idSpace.workerIdRange.min + 1 : ` +
  `${POW2_CEL}[self.layout.workerIdBits])`;

/** Worker ids this fleet may lease: the size of its range, or the whole worker-id space. */
export function workerIdCapacity(spec: FleetSpec): number {
  const range = spec.idSpace?.workerIdRange;
  return range ? range.max - range.min + 1 : 2 ** spec.layout.workerIdBits;
}

/** The fleet's worker-id range, resolved against its layout. */
export function workerIdRangeOf(spec: FleetSpec): { min: number; max: number } {
  return spec.idSpace?.workerIdRange ?? { min: 0, max: 2 ** spec.layout.workerIdBits - 1 };
}

/** The id space a fleet writes into: spec.idSpace.name, defaulting to the fleet's name. */
export function idSpaceNameOf(fleetName: string, spec: FleetSpec): string {
  return spec.idSpace?.name ?? fleetName;
}

/** Rules the API server enforces on spec (x-kubernetes-validations) and the operator re-checks. */
export const fleetSpecRules: readonly FleetSpecRule[] = [
  {
    rule: `self.layout.timestampBits + self.layout.workerIdBits + self.layout.sequenceBits == ${ID_PAYLOAD_BITS}`,
    message:
      "layout: timestampBits + workerIdBits + sequenceBits must be exactly 63; change one of them (default 41 + 10 + 12)",
    fieldPath: ".layout",
    holds: (s) => s.layout.timestampBits + s.layout.workerIdBits + s.layout.sequenceBits === ID_PAYLOAD_BITS,
  },
  {
    rule: `!has(self.idSpace) || !has(self.idSpace.workerIdRange) || self.idSpace.workerIdRange.max < ${POW2_CEL}[self.layout.workerIdBits]`,
    message:
      "idSpace.workerIdRange.max must be below 2^layout.workerIdBits (1023 for 10 bits); lower max or use more workerIdBits",
    fieldPath: ".idSpace.workerIdRange.max",
    holds: (s) => !s.idSpace?.workerIdRange || s.idSpace.workerIdRange.max < 2 ** s.layout.workerIdBits,
  },
  {
    rule: `self.replicas <= ${rangeSizeCel}`,
    message:
      "replicas exceeds the worker ids available to this fleet (idSpace.workerIdRange max-min+1, or 2^layout.workerIdBits); lower replicas or widen the range",
    fieldPath: ".replicas",
    holds: (s) => s.replicas <= workerIdCapacity(s),
  },
  {
    rule: `!has(self.autoscaling) || !self.autoscaling.enabled || self.autoscaling.maxReplicas <= ${rangeSizeCel}`,
    message:
      "autoscaling.maxReplicas exceeds the worker ids available to this fleet (idSpace.workerIdRange max-min+1, or 2^layout.workerIdBits); lower maxReplicas or widen the range",
    fieldPath: ".autoscaling.maxReplicas",
    holds: (s) => !s.autoscaling.enabled || s.autoscaling.maxReplicas <= workerIdCapacity(s),
  },
  {
    rule:
      `(has(self.idSpace) && has(self.idSpace.name) ? self.idSpace.name : '') == ` +
      `(has(oldSelf.idSpace) && has(oldSelf.idSpace.name) ? oldSelf.idSpace.name : '')`,
    message:
      "idSpace.name is immutable: moving running workers into another id space can mint duplicate IDs; create a new fleet instead",
    fieldPath: ".idSpace.name",
    holds: (s, old) => old === undefined || s.idSpace?.name === old.idSpace?.name,
    transition: true,
  },
];

const int = (what: string) =>
  z.number({ error: `${what} must be a whole number` }).int({ error: `${what} must be a whole number` });

/** A Kubernetes object passed through to the pod template as is (validated by Kubernetes there). */
const passthroughObject = (description: string) =>
  z
    .record(z.string(), z.unknown())
    .meta({ "x-kubernetes-preserve-unknown-fields": true })
    .describe(description);

const stringMap = (description: string) => z.record(z.string(), z.string()).describe(description);

/** A rule on one object: CEL for the API server, a predicate for the operator, one message. */
interface ObjectRule<T> {
  rule: string;
  message: string;
  holds: (value: T) => boolean;
}

/** Attaches rules to an object schema both as x-kubernetes-validations and as zod checks. */
function withRules<S extends z.ZodType>(schema: S, rules: ObjectRule<z.output<S>>[]) {
  return schema
    .check((ctx) => {
      for (const r of rules) {
        if (!r.holds(ctx.value as z.output<S>))
          ctx.issues.push({ code: "custom", input: ctx.value, message: r.message });
      }
    })
    .meta({ "x-kubernetes-validations": rules.map(({ rule, message }) => ({ rule, message })) });
}

// OCI image reference: [registry[:port]/]path[:tag][@digest]; RE2-compatible (the API server
// evaluates the same pattern).
const IMAGE_PATTERN =
  "^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?" +
  "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*" +
  "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$";

const IMAGE_RE = new RegExp(IMAGE_PATTERN);
const IMAGE_MESSAGE =
  "image must be a non-empty image reference such as registry.example.com/idfleet/generator:1.0 (lower-case path, optional :tag and @sha256:digest)";

const layoutSchema = idLayoutSchema
  .default({ ...DEFAULT_LAYOUT })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self == oldSelf",
        message:
          "layout is immutable: changing bits, timeUnitMs or epoch of a running fleet can mint duplicate IDs; create a new fleet with a new idSpace instead",
      },
    ],
  })
  .describe("ID bit layout (DESIGN.md section 1). Immutable once the fleet exists.");

const sequenceSchema = z
  .object({
    start: z
      .enum(SequenceStart, { error: "sequence.start must be zero or rolling" })
      .default(DEFAULT_SEQUENCE_START)
      .describe(
        "Where each tick's sequence starts. zero: at 0 (at low traffic most IDs end in sequence 0, so id % N piles into one shard). rolling: after the previous tick's last sequence, so the low bits cycle and id % N spreads over shards; a tick never wraps, so under full load it may hold fewer IDs. Safe to change at any time.",
      ),
  })
  .default({ start: DEFAULT_SEQUENCE_START })
  .describe("How the per-tick sequence is numbered.");

const rangeOrderMessage = "idSpace.workerIdRange.min must not exceed max; swap them or widen the range";
const workerIdRangeSchema = withRules(
  z.object({
    min: int("workerIdRange.min")
      .min(0, { error: "workerIdRange.min must be at least 0" })
      .describe("Lowest worker id this fleet may lease."),
    max: int("workerIdRange.max")
      .min(0, { error: "workerIdRange.max must be at least 0" })
      .describe("Highest worker id this fleet may lease; below 2^layout.workerIdBits."),
  }),
  [{ rule: "self.min <= self.max", message: rangeOrderMessage, holds: (r) => r.min <= r.max }],
).describe(
  "Worker ids this fleet may lease, inclusive. Fleets sharing an idSpace need disjoint ranges. Default: the whole space 0..2^workerIdBits-1.",
);

const idSpaceSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
        error: "idSpace.name must be a DNS label: lower-case letters, digits and '-'",
      })
      .optional()
      .describe(
        "Name of the id space (the set of tables these IDs go into). Fleets in one namespace with the same name keep their worker ids disjoint. Default: the fleet's name. Immutable.",
      ),
    workerIdRange: workerIdRangeSchema.optional(),
  })
  .describe("Which worker ids this fleet leases, and from which id space.");

const leasesSchema = withRules(
  z.object({
    durationSeconds: int("leases.durationSeconds")
      .min(2)
      .max(3600)
      .default(15)
      .describe(
        "A holder that has not renewed for this long loses its worker id (after reclaimGraceSeconds).",
      ),
    renewIntervalSeconds: int("leases.renewIntervalSeconds")
      .min(1)
      .max(3600)
      .default(5)
      .describe("How often a generator renews its lease."),
    reclaimGraceSeconds: int("leases.reclaimGraceSeconds")
      .min(0)
      .max(3600)
      .default(10)
      .describe("Extra time past durationSeconds before the operator reuses a silent holder's worker id."),
    safetyMarginSeconds: int("leases.safetyMarginSeconds")
      .min(1)
      .max(3600)
      .default(3)
      .describe("A generator stops issuing this long before its lease would expire."),
    reserveAheadMs: int("leases.reserveAheadMs")
      .min(1)
      .max(3_600_000)
      .default(10_000)
      .describe("How far ahead of now a renewal raises reservedUntil; must cover a renew interval."),
  }),
  [
    {
      rule: "self.renewIntervalSeconds < self.durationSeconds - self.safetyMarginSeconds",
      message:
        "leases.renewIntervalSeconds must be below durationSeconds - safetyMarginSeconds, or a holder fences itself between renewals; renew more often or lengthen the lease",
      holds: (l) => l.renewIntervalSeconds < l.durationSeconds - l.safetyMarginSeconds,
    },
    {
      rule: "self.reserveAheadMs > self.renewIntervalSeconds * 1000",
      message:
        "leases.reserveAheadMs must exceed renewIntervalSeconds * 1000, or generators stall between renewals; raise reserveAheadMs",
      holds: (l) => l.reserveAheadMs > l.renewIntervalSeconds * 1000,
    },
  ],
)
  .default({
    durationSeconds: 15,
    renewIntervalSeconds: 5,
    reclaimGraceSeconds: 10,
    safetyMarginSeconds: 3,
    reserveAheadMs: 10_000,
  })
  .describe("Worker-id lease timing (docs/lease-protocol.md).");

const clockSchema = z
  .object({
    ntpServers: z
      .array(
        z
          .string()
          .min(1)
          .max(261)
          .regex(/^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$/, {
            error: "clock.ntpServers entries must be host or host:port",
          }),
      )
      .max(8)
      .default([])
      .describe(
        "SNTP servers (host or host:port) the generators measure their clock offset against. Empty: no NTP check.",
      ),
    maxDriftMs: int("clock.maxDriftMs")
      .min(1)
      .max(60_000)
      .default(100)
      .describe("A generator whose |offset| exceeds this turns unready; the fleet raises ClockDrift."),
    maxBackwardWaitMs: int("clock.maxBackwardWaitMs")
      .min(0)
      .max(10_000)
      .default(5)
      .describe(
        "Clock steps back up to this long are waited out; longer ones stop issuing until the clock catches up.",
      ),
  })
  .default({ ntpServers: [], maxDriftMs: 100, maxBackwardWaitMs: 5 })
  .describe("Clock policy of the generators.");

const autoscalingSchema = withRules(
  z.object({
    enabled: z.boolean().default(false).describe("Create a HorizontalPodAutoscaler that scales this fleet."),
    minReplicas: int("autoscaling.minReplicas").min(1).default(1).describe("Lower bound for the autoscaler."),
    maxReplicas: int("autoscaling.maxReplicas")
      .min(1)
      .default(10)
      .describe("Upper bound for the autoscaler; at most the worker ids available to the fleet."),
    targetCPUUtilizationPercentage: int("autoscaling.targetCPUUtilizationPercentage")
      .min(1)
      .max(1000)
      .default(70)
      .describe("Average CPU utilization (percent of requests) the autoscaler aims for."),
    targetSequenceUtilization: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe(
        "Average sequence utilization (fraction 0..1 of 2^sequenceBits IDs per tick, metric idgen_sequence_utilization) the autoscaler aims for. Unset: CPU only.",
      ),
    behavior: passthroughObject(
      "autoscaling/v2 HorizontalPodAutoscalerBehavior, passed to the HPA as is.",
    ).optional(),
  }),
  [
    {
      rule: "self.minReplicas <= self.maxReplicas",
      message: "autoscaling.minReplicas must not exceed maxReplicas; lower minReplicas or raise maxReplicas",
      holds: (a) => a.minReplicas <= a.maxReplicas,
    },
  ],
)
  .default({ enabled: false, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 70 })
  .describe("Horizontal autoscaling on CPU and, optionally, sequence utilization.");

const serviceSchema = z
  .object({
    type: z
      .enum(["ClusterIP", "NodePort", "LoadBalancer"])
      .default("ClusterIP")
      .describe("Type of the client Service `<fleet>`."),
    port: int("service.port").min(1).max(65535).default(80).describe("Port of the client Service."),
  })
  .default({ type: "ClusterIP", port: 80 })
  .describe("The client Service that spreads ID requests over the fleet's pods.");

/** Spec of an IdGeneratorFleet. */
export const fleetSpecSchema = z
  .object({
    replicas: int("replicas")
      .min(0)
      .default(1)
      .describe("Number of generator pods. Each holds one worker id; at most the worker ids available."),
    layout: layoutSchema,
    sequence: sequenceSchema,
    idSpace: idSpaceSchema.optional(),
    leases: leasesSchema,
    clock: clockSchema,
    autoscaling: autoscalingSchema,
    image: z
      .string()
      .max(512)
      .refine((v) => IMAGE_RE.test(v), { error: IMAGE_MESSAGE })
      .meta({
        "x-kubernetes-validations": [
          { rule: `self.matches('${IMAGE_PATTERN.replaceAll("\\", "\\\\")}')`, message: IMAGE_MESSAGE },
        ],
      })
      .optional()
      .describe("Generator container image. Default: the generator image the operator was released with."),
    imagePullPolicy: z
      .enum(["Always", "IfNotPresent", "Never"])
      .optional()
      .describe("Pull policy of the generator container."),
    resources: passthroughObject(
      "Compute resources of the generator container (core/v1 ResourceRequirements).",
    ).optional(),
    nodeSelector: stringMap("Node labels the generator pods must match.").optional(),
    tolerations: z
      .array(passthroughObject("A core/v1 Toleration."))
      .optional()
      .describe("Tolerations of the generator pods."),
    topologySpreadConstraints: z
      .array(
        passthroughObject("A core/v1 TopologySpreadConstraint; labelSelector defaults to this fleet's pods."),
      )
      .optional()
      .describe("How generator pods spread over zones and nodes."),
    affinity: passthroughObject("core/v1 Affinity of the generator pods.").optional(),
    priorityClassName: z.string().max(253).optional().describe("PriorityClass of the generator pods."),
    podAnnotations: stringMap("Extra annotations on the generator pods.").optional(),
    podLabels: stringMap("Extra labels on the generator pods (idfleet's own labels win).").optional(),
    service: serviceSchema,
  })
  .meta({
    "x-kubernetes-validations": fleetSpecRules.map(({ rule, message, fieldPath }) => ({
      rule,
      message,
      fieldPath,
    })),
  })
  .check((ctx) => {
    for (const r of fleetSpecRules) {
      if (!r.transition && !r.holds(ctx.value)) {
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          path: r.fieldPath.slice(1).split("."),
          message: r.message,
        });
      }
    }
  })
  .describe("Desired state of an IdGeneratorFleet.");

/** A validated, defaulted fleet spec. */
export type FleetSpec = z.output<typeof fleetSpecSchema>;
/** A fleet spec as a user may write it (defaults optional). */
export type FleetSpecInput = z.input<typeof fleetSpecSchema>;

/** Condition types on a fleet. */
export const FleetConditionType = {
  Ready: "Ready",
  Progressing: "Progressing",
  Degraded: "Degraded",
  WorkerIdsExhausted: "WorkerIdsExhausted",
  WorkerIdConflict: "WorkerIdConflict",
  ClockDrift: "ClockDrift",
} as const;
export type FleetConditionType = (typeof FleetConditionType)[keyof typeof FleetConditionType];

const conditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .describe(
        "Condition type: Ready, Progressing, Degraded, WorkerIdsExhausted, WorkerIdConflict or ClockDrift.",
      ),
    status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
    observedGeneration: int("observedGeneration")
      .min(0)
      .optional()
      .describe("The spec generation this condition was computed from."),
    lastTransitionTime: z.string().describe("When status last changed (RFC 3339)."),
    reason: z.string().min(1).max(1024).describe("CamelCase reason, for tools."),
    message: z.string().max(32768).describe("What is going on and what to do, for humans."),
  })
  .describe("A Kubernetes-style status condition.");

/** One status condition. */
export type FleetCondition = z.output<typeof conditionSchema>;

/** Observed state of an IdGeneratorFleet, written by the operator through the status subresource. */
export const fleetStatusSchema = z
  .object({
    observedGeneration: int("observedGeneration")
      .min(0)
      .optional()
      .describe("The spec generation the operator last acted on."),
    replicas: int("replicas").min(0).optional().describe("Generator pods that exist."),
    readyReplicas: int("readyReplicas")
      .min(0)
      .optional()
      .describe("Generator pods that are ready to issue IDs."),
    selector: z
      .string()
      .optional()
      .describe("Label selector of the fleet's pods (for the scale subresource and the HPA)."),
    leasedWorkers: int("leasedWorkers")
      .min(0)
      .optional()
      .describe("Worker ids currently held by a live lease."),
    capacityIdsPerSecond: int("capacityIdsPerSecond")
      .min(0)
      .optional()
      .describe("IDs per second the ready pods can issue at full sequence use."),
    layoutExhaustsAt: z
      .string()
      .optional()
      .describe("When the timestamp bits run out (RFC 3339). Plan a new layout before then."),
    idsPassSafeIntegerAt: z
      .string()
      .optional()
      .describe(
        "When IDs first exceed 2^53 - 1, the largest integer a JavaScript number holds exactly (RFC 3339).",
      ),
    workerIds: z
      .object({
        inRange: int("inRange").min(0).describe("Size of the fleet's worker-id range."),
        freeInRange: int("freeInRange").min(0).describe("Ids of the range no fleet holds or is retiring."),
        heldByFleet: int("heldByFleet")
          .min(0)
          .describe("Ids of the range this fleet holds (leased or retiring)."),
        inIdSpace: int("inIdSpace").min(0).describe("Worker ids of the whole id space (2^workerIdBits)."),
        freeInIdSpace: int("freeInIdSpace")
          .min(0)
          .describe("Ids of the whole id space no fleet holds or is retiring."),
        maxReplicas: int("maxReplicas")
          .min(0)
          .describe(
            "The most pods the fleet may ask for (autoscaling.maxReplicas when autoscaling, else replicas).",
          ),
      })
      .optional()
      .describe("Worker ids left, in the fleet's range and in its id space."),
    capacityForecast: z
      .string()
      .optional()
      .describe(
        "Worker ids, timestamp bits and the 2^53 date in words: what runs out, when, and what to change.",
      ),
    clock: z
      .object({
        maxOffsetMs: z.number().optional().describe("Largest |clock offset| reported by a holder, ms."),
        meanOffsetMs: z.number().optional().describe("Mean clock offset reported by holders, ms."),
        podsOutOfTolerance: int("podsOutOfTolerance")
          .min(0)
          .optional()
          .describe("Holders whose |offset| exceeds spec.clock.maxDriftMs."),
      })
      .optional()
      .describe("Clock roll-up from the holders' lease reports."),
    sequenceUtilization: z
      .object({
        max: z.number().optional().describe("Highest sequence utilization reported by a holder (0..1)."),
        mean: z.number().optional().describe("Mean sequence utilization of the holders (0..1)."),
      })
      .optional()
      .describe("Sequence utilization roll-up from the holders' lease reports."),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .describe("Ready, Progressing, Degraded, WorkerIdsExhausted, WorkerIdConflict, ClockDrift."),
  })
  .describe("Observed state of an IdGeneratorFleet.");

/** Fleet status as the operator writes it. */
export type FleetStatus = z.output<typeof fleetStatusSchema>;

/** An IdGeneratorFleet object as read from the API (spec validated and defaulted). */
export interface IdGeneratorFleet {
  apiVersion: typeof FleetResource.apiVersion;
  kind: typeof FleetResource.kind;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: FleetSpec;
  status?: FleetStatus;
}

/** Validates and defaults a raw spec (transition rules excluded); throws an error naming each bad field. */
export function parseFleetSpec(input: unknown): FleetSpec {
  const parsed = fleetSpecSchema.safeParse(input ?? {});
  if (!parsed.success) throw new Error(`invalid IdGeneratorFleet spec: ${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}
