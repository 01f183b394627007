import { z } from "zod";
import { CLOCK_DEFAULTS, LEASE_DEFAULTS } from "./fleet-defaults.ts";
import { layoutExpiryProblem, layoutMath, type IdLayout } from "./id-layout-math.ts";
import { formatIssues, parseIdLayout } from "./id-layout.ts";
import { DEFAULT_SEQUENCE_START, SEQUENCE_STARTS, SequenceStart } from "./sequence-start.ts";
import { marginFitsLease, renewsBeforeFencing } from "./lease-fencing.ts";
import { DEFAULT_DRAIN_SECONDS, MAX_DRAIN_SECONDS } from "./shutdown-timing.ts";

/**
 * The environment-variable contract between the operator (which renders a generator
 * pod's env) and the generator (which parses it). Both import the names from here and
 * nowhere else, so a rename cannot drift between the two halves.
 */
export const GeneratorEnv = {
  host: "IDGEN_HOST",
  port: "IDGEN_PORT",
  /** Set: standalone mode with this fixed worker id and no Kubernetes. Unset: lease mode. */
  workerId: "IDGEN_WORKER_ID",
  idSpace: "IDGEN_ID_SPACE",
  timestampBits: "IDGEN_TIMESTAMP_BITS",
  workerIdBits: "IDGEN_WORKER_ID_BITS",
  sequenceBits: "IDGEN_SEQUENCE_BITS",
  timeUnitMs: "IDGEN_TIME_UNIT_MS",
  epoch: "IDGEN_EPOCH",
  /** zero | rolling: where each tick's sequence starts (contract/sequence-start.ts). */
  sequenceStart: "IDGEN_SEQUENCE_START",
  ntpServers: "IDGEN_NTP_SERVERS",
  ntpPollSeconds: "IDGEN_NTP_POLL_SECONDS",
  maxDriftMs: "IDGEN_MAX_DRIFT_MS",
  maxBackwardWaitMs: "IDGEN_MAX_BACKWARD_WAIT_MS",
  maxBatch: "IDGEN_MAX_BATCH",
  podName: "POD_NAME",
  podUid: "POD_UID",
  podNamespace: "POD_NAMESPACE",
  fleet: "IDGEN_FLEET",
  /** Namespace of the id space's worker-id ledger (the operator's); default: the pod's own. */
  ledgerNamespace: "IDGEN_LEDGER_NAMESPACE",
  leaseDurationSeconds: "IDGEN_LEASE_DURATION_SECONDS",
  renewIntervalSeconds: "IDGEN_RENEW_INTERVAL_SECONDS",
  safetyMarginSeconds: "IDGEN_SAFETY_MARGIN_SECONDS",
  reserveAheadMs: "IDGEN_RESERVE_AHEAD_MS",
  releaseOnShutdown: "IDGEN_RELEASE_ON_SHUTDOWN",
  /** Seconds to keep answering after SIGTERM while unready (docs/serving.md). */
  drainSeconds: "IDGEN_DRAIN_SECONDS",
} as const;
export type GeneratorEnvName = (typeof GeneratorEnv)[keyof typeof GeneratorEnv];

/** Defaults applied when a variable is unset or empty. */
export const GENERATOR_ENV_DEFAULTS = {
  host: "0.0.0.0",
  port: 8080,
  idSpace: "default",
  ntpPollSeconds: 16,
  maxDriftMs: CLOCK_DEFAULTS.maxDriftMs,
  maxBackwardWaitMs: CLOCK_DEFAULTS.maxBackwardWaitMs,
  maxBatch: 10_000,
  leaseDurationSeconds: LEASE_DEFAULTS.durationSeconds,
  renewIntervalSeconds: LEASE_DEFAULTS.renewIntervalSeconds,
  safetyMarginSeconds: LEASE_DEFAULTS.safetyMarginSeconds,
  reserveAheadMs: LEASE_DEFAULTS.reserveAheadMs,
  releaseOnShutdown: true,
  drainSeconds: DEFAULT_DRAIN_SECONDS,
} as const;

/** Upper bound for IDGEN_MAX_BATCH: one /v1/ids response never carries more IDs than this. */
export const MAX_BATCH_HARD_CAP = 100_000;

/** The standard NTP port, used when an IDGEN_NTP_SERVERS entry names none. */
export const NTP_DEFAULT_PORT = 123;

/** Pod fields the operator exposes through the downward API (names from GeneratorEnv). */
export const GENERATOR_DOWNWARD_API = [
  { name: GeneratorEnv.podName, fieldPath: "metadata.name" },
  { name: GeneratorEnv.podUid, fieldPath: "metadata.uid" },
  { name: GeneratorEnv.podNamespace, fieldPath: "metadata.namespace" },
] as const;

const V = GeneratorEnv;

const intVar = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: `${name} must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `${name} must be between ${min} and ${max}` })
        .max(max, { error: `${name} must be between ${min} and ${max}` }),
    );

const boolVar = (name: string) =>
  z.enum(["true", "false"], { error: `${name} must be "true" or "false"` }).transform((v) => v === "true");

const nonEmpty = (name: string, what: string) =>
  z
    .string({ error: `${name} must be set (${what})` })
    .min(1, { error: `${name} must not be empty (${what})` });

/** One NTP server to poll. */
export interface NtpServer {
  host: string;
  port: number;
}

const ntpServersVar = z.string().transform((text, ctx): NtpServer[] => {
  const servers: NtpServer[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const match = /^(\[[^\]]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = match?.[2] === undefined ? NTP_DEFAULT_PORT : Number(match[2]);
    if (!match?.[1] || port < 1 || port > 65535) {
      ctx.issues.push({
        code: "custom",
        input: text,
        message: `${V.ntpServers} entry "${entry}" must be host or host:port (port 1..65535), comma separated`,
      });
      continue;
    }
    servers.push({ host: match[1].replace(/^\[|\]$/g, ""), port });
  }
  return servers;
});

const dnsLabel = (name: string) =>
  z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
    error: `${name} must be a DNS label: lowercase letters, digits and '-', at most 63 characters`,
  });

/** Raw variables, each validated on its own; cross-field rules are checked afterwards. */
const rawEnvSchema = z.object({
  [V.host]: z.string().default(GENERATOR_ENV_DEFAULTS.host),
  [V.port]: intVar(V.port, 1, 65535).default(GENERATOR_ENV_DEFAULTS.port),
  [V.workerId]: intVar(V.workerId, 0, 2 ** 31 - 1).optional(),
  [V.idSpace]: dnsLabel(V.idSpace).default(GENERATOR_ENV_DEFAULTS.idSpace),
  [V.timestampBits]: intVar(V.timestampBits, 1, 61).optional(),
  [V.workerIdBits]: intVar(V.workerIdBits, 1, 31).optional(),
  [V.sequenceBits]: intVar(V.sequenceBits, 1, 31).optional(),
  [V.timeUnitMs]: intVar(V.timeUnitMs, 1, 1000).optional(),
  [V.epoch]: z.string().optional(),
  [V.sequenceStart]: z
    .enum(SequenceStart, { error: `${V.sequenceStart} must be one of ${SEQUENCE_STARTS.join(", ")}` })
    .default(DEFAULT_SEQUENCE_START),
  [V.ntpServers]: ntpServersVar.default([]),
  [V.ntpPollSeconds]: intVar(V.ntpPollSeconds, 1, 86_400).default(GENERATOR_ENV_DEFAULTS.ntpPollSeconds),
  [V.maxDriftMs]: intVar(V.maxDriftMs, 1, 3_600_000).default(GENERATOR_ENV_DEFAULTS.maxDriftMs),
  [V.maxBackwardWaitMs]: intVar(V.maxBackwardWaitMs, 0, 10_000).default(
    GENERATOR_ENV_DEFAULTS.maxBackwardWaitMs,
  ),
  [V.maxBatch]: intVar(V.maxBatch, 1, MAX_BATCH_HARD_CAP).default(GENERATOR_ENV_DEFAULTS.maxBatch),
  [V.podName]: z.string().optional(),
  [V.podUid]: z.string().optional(),
  [V.podNamespace]: z.string().optional(),
  [V.fleet]: z.string().optional(),
  [V.ledgerNamespace]: z.string().optional(),
  [V.leaseDurationSeconds]: intVar(V.leaseDurationSeconds, 2, 3600).default(
    GENERATOR_ENV_DEFAULTS.leaseDurationSeconds,
  ),
  [V.renewIntervalSeconds]: intVar(V.renewIntervalSeconds, 1, 3600).default(
    GENERATOR_ENV_DEFAULTS.renewIntervalSeconds,
  ),
  [V.safetyMarginSeconds]: intVar(V.safetyMarginSeconds, 1, 3600).default(
    GENERATOR_ENV_DEFAULTS.safetyMarginSeconds,
  ),
  [V.reserveAheadMs]: intVar(V.reserveAheadMs, 1, 3_600_000).default(GENERATOR_ENV_DEFAULTS.reserveAheadMs),
  [V.releaseOnShutdown]: boolVar(V.releaseOnShutdown).default(GENERATOR_ENV_DEFAULTS.releaseOnShutdown),
  [V.drainSeconds]: intVar(V.drainSeconds, 0, MAX_DRAIN_SECONDS).default(GENERATOR_ENV_DEFAULTS.drainSeconds),
});

/** Standalone mode: a fixed worker id, no Kubernetes; the fence advances in memory. */
export interface StandaloneMode {
  kind: "standalone";
  workerId: number;
}

/** Lease mode: the worker id and fence come from the pod's lease ConfigMap. */
export interface LeaseMode {
  kind: "lease";
  podName: string;
  podUid: string;
  podNamespace: string;
  fleet: string;
  /** Where the id space's ledger lives (the operator's namespace). */
  ledgerNamespace: string;
  leaseDurationSeconds: number;
  renewIntervalSeconds: number;
  safetyMarginSeconds: number;
  reserveAheadMs: number;
  releaseOnShutdown: boolean;
}

/** Everything the generator reads from its environment, typed and validated. */
export interface GeneratorConfig {
  host: string;
  port: number;
  idSpace: string;
  layout: IdLayout;
  sequenceStart: SequenceStart;
  ntpServers: NtpServer[];
  ntpPollSeconds: number;
  maxDriftMs: number;
  maxBackwardWaitMs: number;
  maxBatch: number;
  /** After SIGTERM: seconds of answering while unready before listening stops. */
  drainSeconds: number;
  mode: StandaloneMode | LeaseMode;
}

/**
 * Parses an environment (usually `process.env`) into a generator config. Empty values
 * count as unset. Throws one Error listing every bad variable by name and what it allows.
 */
export function parseGeneratorEnv(
  env: Record<string, string | undefined>,
  now: Date = new Date(),
): GeneratorConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = rawEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new Error(`invalid generator environment: ${formatIssues(parsed.error.issues)}`);
  }
  const raw = parsed.data;
  const problems: string[] = [];
  const layoutVariables = `${V.timestampBits}, ${V.workerIdBits}, ${V.sequenceBits}, ${V.timeUnitMs}, ${V.epoch}`;

  let layout: IdLayout | undefined;
  try {
    layout = parseIdLayout(
      {
        timestampBits: raw[V.timestampBits],
        workerIdBits: raw[V.workerIdBits],
        sequenceBits: raw[V.sequenceBits],
        timeUnitMs: raw[V.timeUnitMs],
        epoch: raw[V.epoch],
      },
      now,
    );
  } catch (error) {
    problems.push(`${(error as Error).message} (set by ${layoutVariables})`);
  }
  const expired = layout ? layoutExpiryProblem(layoutMath(layout), now.getTime()) : null;
  if (expired) problems.push(`invalid ID layout: ${expired} (set by ${layoutVariables})`);

  let mode: StandaloneMode | LeaseMode | undefined;
  const workerId = raw[V.workerId];
  if (workerId !== undefined) {
    const maxWorkerId = layout ? layoutMath(layout).maxWorkerId : undefined;
    if (maxWorkerId !== undefined && workerId > maxWorkerId) {
      problems.push(
        `${V.workerId}: ${workerId} does not fit in ${V.workerIdBits}=${layout?.workerIdBits} bits; use 0..${maxWorkerId}`,
      );
    } else {
      mode = { kind: "standalone", workerId };
    }
  } else {
    const required = (name: string) => {
      const value = raw[name as keyof typeof raw] as string | undefined;
      const checked = nonEmpty(name, `lease mode; set ${V.workerId} for standalone mode`).safeParse(value);
      if (!checked.success) problems.push(formatIssues(checked.error.issues));
      return checked.data ?? "";
    };
    const lease: LeaseMode = {
      kind: "lease",
      podName: required(V.podName),
      podUid: required(V.podUid),
      podNamespace: required(V.podNamespace),
      fleet: required(V.fleet),
      ledgerNamespace: raw[V.ledgerNamespace] ?? raw[V.podNamespace] ?? "",
      leaseDurationSeconds: raw[V.leaseDurationSeconds],
      renewIntervalSeconds: raw[V.renewIntervalSeconds],
      safetyMarginSeconds: raw[V.safetyMarginSeconds],
      reserveAheadMs: raw[V.reserveAheadMs],
      releaseOnShutdown: raw[V.releaseOnShutdown],
    };
    const timing = {
      duration: lease.leaseDurationSeconds,
      renewInterval: lease.renewIntervalSeconds,
      safetyMargin: lease.safetyMarginSeconds,
    };
    if (!marginFitsLease(timing)) {
      problems.push(
        `${V.safetyMarginSeconds} (${lease.safetyMarginSeconds}) must be less than ${V.leaseDurationSeconds} (${lease.leaseDurationSeconds})`,
      );
    } else if (!renewsBeforeFencing(timing)) {
      problems.push(
        `${V.renewIntervalSeconds} (${lease.renewIntervalSeconds}) must be less than ${V.leaseDurationSeconds} - ${V.safetyMarginSeconds} (${lease.leaseDurationSeconds - lease.safetyMarginSeconds}), or the lease self-fences between renewals`,
      );
    }
    mode = lease;
  }

  if (problems.length || !layout || !mode) {
    throw new Error(`invalid generator environment: ${problems.join("; ")}`);
  }
  return {
    host: raw[V.host],
    port: raw[V.port],
    idSpace: raw[V.idSpace],
    layout,
    sequenceStart: raw[V.sequenceStart],
    ntpServers: raw[V.ntpServers],
    ntpPollSeconds: raw[V.ntpPollSeconds],
    maxDriftMs: raw[V.maxDriftMs],
    maxBackwardWaitMs: raw[V.maxBackwardWaitMs],
    maxBatch: raw[V.maxBatch],
    drainSeconds: raw[V.drainSeconds],
    mode,
  };
}

/** Values the operator sets on a generator pod (the pod fields come from the downward API). */
export interface GeneratorEnvValues {
  port?: number;
  host?: string;
  /** Only for standalone pods; fleet pods lease their worker id. */
  workerId?: number;
  idSpace?: string;
  layout?: Partial<IdLayout>;
  sequenceStart?: SequenceStart;
  ntpServers?: readonly (NtpServer | string)[];
  ntpPollSeconds?: number;
  maxDriftMs?: number;
  maxBackwardWaitMs?: number;
  maxBatch?: number;
  fleet?: string;
  ledgerNamespace?: string;
  leaseDurationSeconds?: number;
  renewIntervalSeconds?: number;
  safetyMarginSeconds?: number;
  reserveAheadMs?: number;
  releaseOnShutdown?: boolean;
  drainSeconds?: number;
  /** Add POD_NAME, POD_UID, POD_NAMESPACE from the downward API (default: when fleet is set). */
  downwardApi?: boolean;
}

/** A container env entry, structurally compatible with Kubernetes' V1EnvVar. */
export type RenderedEnvVar =
  | { name: GeneratorEnvName; value: string }
  | { name: GeneratorEnvName; valueFrom: { fieldRef: { fieldPath: string } } };

/**
 * Renders typed values into container env entries, so the operator never retypes a
 * variable name. Unset values are left out (the generator then applies its default).
 * The output is in a stable order, so server-side apply sees no spurious changes.
 */
export function renderGeneratorEnv(values: GeneratorEnvValues): RenderedEnvVar[] {
  const out: RenderedEnvVar[] = [];
  const put = (name: GeneratorEnvName, value: string | number | boolean | undefined) => {
    if (value !== undefined) out.push({ name, value: String(value) });
  };
  put(V.host, values.host);
  put(V.port, values.port);
  put(V.workerId, values.workerId);
  put(V.idSpace, values.idSpace);
  put(V.timestampBits, values.layout?.timestampBits);
  put(V.workerIdBits, values.layout?.workerIdBits);
  put(V.sequenceBits, values.layout?.sequenceBits);
  put(V.timeUnitMs, values.layout?.timeUnitMs);
  put(V.epoch, values.layout?.epoch);
  put(V.sequenceStart, values.sequenceStart);
  put(
    V.ntpServers,
    values.ntpServers
      ?.map((s) =>
        typeof s === "string" ? s : s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`,
      )
      .join(","),
  );
  put(V.ntpPollSeconds, values.ntpPollSeconds);
  put(V.maxDriftMs, values.maxDriftMs);
  put(V.maxBackwardWaitMs, values.maxBackwardWaitMs);
  put(V.maxBatch, values.maxBatch);
  put(V.fleet, values.fleet);
  put(V.ledgerNamespace, values.ledgerNamespace);
  put(V.leaseDurationSeconds, values.leaseDurationSeconds);
  put(V.renewIntervalSeconds, values.renewIntervalSeconds);
  put(V.safetyMarginSeconds, values.safetyMarginSeconds);
  put(V.reserveAheadMs, values.reserveAheadMs);
  put(V.releaseOnShutdown, values.releaseOnShutdown);
  put(V.drainSeconds, values.drainSeconds);
  if (values.downwardApi ?? values.fleet !== undefined) {
    for (const { name, fieldPath } of GENERATOR_DOWNWARD_API) {
      out.push({ name, valueFrom: { fieldRef: { fieldPath } } });
    }
  }
  return out;
}
