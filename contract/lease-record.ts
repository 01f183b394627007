import { z } from "zod";
import type { SpaceLayout } from "./id-space-layout.ts";

/**
 * The worker-id lease as stored in a ConfigMap's `data` (all values are strings there).
 * One lease ConfigMap exists per generator pod; see docs/lease-protocol.md for who
 * writes which field and when. Both the operator and the generator import this module;
 * neither has its own copy of these names.
 */

/** API group of the fleet resource; also the prefix of every label and annotation idfleet sets. */
export const API_GROUP = "idfleet.dev";

/** Labels on lease ConfigMaps (and on everything else the operator owns). */
export const LeaseLabel = {
  fleet: `${API_GROUP}/fleet`,
  workerId: `${API_GROUP}/worker-id`,
  idSpace: `${API_GROUP}/id-space`,
  component: "app.kubernetes.io/component",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/** Value of `app.kubernetes.io/component` on lease ConfigMaps. */
export const LEASE_COMPONENT = "worker-lease";

/** Lifecycle of one lease. */
export const LeaseState = {
  /** The operator bound a worker id to a pod (name + UID); the pod has not confirmed yet. */
  Assigned: "Assigned",
  /** The holder confirmed and renews; it may issue IDs up to `reservedUntil`. */
  Active: "Active",
  /** The holder stopped issuing for good (SIGTERM) and will never write again. */
  Released: "Released",
} as const;
export type LeaseState = (typeof LeaseState)[keyof typeof LeaseState];

/**
 * How a ledger names a fleet: `namespace/name`. Id spaces span namespaces, and two fleets
 * of one name in two namespaces are two fleets.
 */
export function fleetKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Name of the lease ConfigMap for a pod. Deterministic, so the generator finds its own. */
export function leaseNameForPod(podName: string): string {
  return `${podName}-lease`;
}

const intString = (what: string) =>
  z
    .string()
    .regex(/^-?\d+$/, { error: `${what} must be an integer` })
    .transform(Number);

const floatString = (what: string) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, { error: `${what} must be a number` })
    .transform(Number);

/** Schema of a lease ConfigMap's data. Unknown keys are ignored so newer writers stay readable. */
export const leaseDataSchema = z.object({
  workerId: intString("workerId"),
  idSpace: z.string().min(1),
  state: z.enum([LeaseState.Assigned, LeaseState.Active, LeaseState.Released]),
  holderPod: z.string().min(1),
  holderUid: z.string().min(1),
  /**
   * Bumped by the operator on every (re)assignment. A generator that sees a different
   * value than the one it acquired lost that assignment and must re-acquire from scratch.
   */
  assignment: intString("assignment"),
  /** Ticks (ID time domain): the holder may only issue timestamps strictly greater than this. */
  handoverAfter: intString("handoverAfter"),
  /** Ticks (ID time domain): the highest timestamp the holder may issue. Only ever rises. */
  reservedUntil: intString("reservedUntil"),
  leaseDurationSeconds: intString("leaseDurationSeconds"),
  /** Bumped by the generator on every successful renewal; the operator watches it for liveness. */
  renewCount: intString("renewCount"),
  /** Holder's wall-clock time of the last renewal (RFC 3339), for humans; liveness never trusts it. */
  renewTime: z.string().default(""),
  /** Holder's last measured clock offset against NTP, ms (positive: local clock ahead). */
  clockOffsetMs: floatString("clockOffsetMs").optional(),
  /** Whether the holder's clock sync was healthy at the last renewal. */
  clockHealthy: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  /** Holder's sequence utilization over its last renewal interval, 0..1. */
  sequenceUtilization: floatString("sequenceUtilization").optional(),
  /** Holder's sequence exhaustion count since it started. */
  sequenceExhaustions: intString("sequenceExhaustions").optional(),
  /** Why the holder is not serving, if it is not (for status and `kubectl describe`). */
  holderMessage: z.string().optional(),
});

/** A parsed lease. */
export type LeaseData = z.output<typeof leaseDataSchema>;

/** Parses ConfigMap data into a lease; throws an error naming the bad key. */
export function parseLeaseData(data: Record<string, string> | undefined): LeaseData {
  const parsed = leaseDataSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ");
    throw new Error(`malformed lease data: ${detail}`);
  }
  return parsed.data;
}

/** Serializes a lease into ConfigMap data. Inverse of parseLeaseData. */
export function serializeLeaseData(lease: LeaseData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(lease)) {
    if (value === undefined) continue;
    out[key] = String(value);
  }
  return out;
}

/**
 * The worker-id ledger: one ConfigMap per id space, in the operator's namespace (an id-space
 * name means the same space in every namespace of the cluster), written only by the
 * operator, always with a resourceVersion precondition. It is the allocation table: every
 * worker id of the space that is in use, or was used and still constrains reuse, has an
 * entry. Because every allocation is a conditional write of this one object, two allocators
 * (a stale cache, an old leader that has not noticed it lost, two fleets sharing the space)
 * can never both claim one id; see docs/lease-protocol.md. It also records the space's one
 * layout and the highest ID the space may have issued, and it outlives the fleets using it.
 */
export const LedgerEntryState = {
  /** Claimed for one lease (fleet, lease ConfigMap, pod UID, assignment). */
  Leased: "leased",
  /** Taken from a holder that may still be alive; reusable only after the reclaim rule holds. */
  Retiring: "retiring",
  /** Reusable; the next holder must issue only ticks greater than `reservedUntil`. */
  Free: "free",
} as const;
export type LedgerEntryState = (typeof LedgerEntryState)[keyof typeof LedgerEntryState];

const tick = z.number().int().min(0);

/** One ledger entry (stored as JSON under the key `w-<workerId>`). */
export const ledgerEntrySchema = z.discriminatedUnion("state", [
  z.object({
    state: z.literal(LedgerEntryState.Leased),
    /** The fleet as `namespace/name` (fleetKey): id spaces span namespaces. */
    fleet: z.string().min(1),
    /** Name of the lease ConfigMap this id is claimed for. */
    lease: z.string().min(1),
    podName: z.string().min(1),
    podUid: z.string().min(1),
    /** The lease's `assignment`; unique within the ledger (taken from `nextAssignment`). */
    assignment: z.number().int().min(1),
    /** The `handoverAfter` given to that lease: the previous holder's last reservedUntil. */
    floor: tick,
    /**
     * The highest `reservedUntil` the operator has seen in that lease (recorded when it rises
     * by more than a few renewals): if the lease is lost, its reservation is not.
     */
    seenReservedUntil: tick.optional(),
    since: z.string(),
  }),
  z.object({
    state: z.literal(LedgerEntryState.Retiring),
    /** The fleet as `namespace/name` (fleetKey). */
    fleet: z.string().min(1),
    /** Upper bound of every tick the retired holder may have issued. */
    reservedUntil: tick,
    /** Wall time of the transition, for humans; the reclaim timer runs on the operator's monotonic clock. */
    since: z.string(),
    /** Former holder, for humans. */
    formerHolder: z.string().optional(),
    /**
     * The lease duration the retired holder fences itself by (its lease's), when longer than
     * the fleet's current one (the spec was shortened meanwhile): reclaim waits for it.
     */
    holderLeaseDurationSeconds: z.number().int().min(1).optional(),
  }),
  z.object({
    state: z.literal(LedgerEntryState.Free),
    /** The next holder issues only ticks greater than this. */
    reservedUntil: tick,
    since: z.string(),
  }),
]);

/** A parsed ledger entry. */
export type LedgerEntry = z.output<typeof ledgerEntrySchema>;

/** The layout every holder of an id space issues with (see contract/id-space-layout.ts). */
export const spaceLayoutSchema = z.object({
  timestampBits: z.number().int().min(1),
  workerIdBits: z.number().int().min(1),
  sequenceBits: z.number().int().min(1),
  timeUnitMs: z.number().int().min(1),
  epochMs: z.number().int(),
});

/** A layout the id space used before a succession, for humans reading the ledger. */
const formerLayoutSchema = z.object({
  layout: spaceLayoutSchema,
  /** The highest ID it may have issued (decimal). */
  highWaterId: z.string().regex(/^\d+$/),
  /** When the successor took over (RFC 3339). */
  until: z.string(),
});

/** A parsed ledger. */
export interface Ledger {
  /** Next value of a lease's `assignment`; only ever rises, so an assignment number is never reused. */
  nextAssignment: number;
  /**
   * Floor (ticks) for ids that have no entry: set when the ledger is created to a tick the
   * operator's clock has not reached yet, so a ledger that was lost and recreated cannot
   * hand out an id below a reservation it forgot. Absent means 0. Writers that rebuild a
   * ledger must carry it over (spread the ledger they read).
   */
  baseFloor?: number;
  /**
   * The layout of every ID of the space (absent only in a ledger no fleet has written yet).
   * A fleet of another layout gets no worker id; changing it is a succession.
   */
  layout?: SpaceLayout;
  /**
   * The largest ID any holder of the space may have issued, as far as the operator has seen
   * (every floor, reservation and base floor, at the last sequence of the highest worker id).
   * Only rises; a succession starts above it.
   */
  highWaterId?: bigint;
  /** Layouts the space used before, oldest first. */
  formerLayouts?: readonly FormerLayout[];
  /** Entries by worker id. */
  entries: ReadonlyMap<number, LedgerEntry>;
}

/** A layout the id space used before a succession. */
export type FormerLayout = z.output<typeof formerLayoutSchema>;

/** An empty ledger, as the operator creates it. */
export const EMPTY_LEDGER: Ledger = Object.freeze({ nextAssignment: 1, entries: new Map() });

/** ConfigMap name of the ledger of an id space (in the operator's namespace). */
export function ledgerNameForIdSpace(idSpace: string): string {
  return `${idSpace}-worker-ids`;
}

/** Value of `app.kubernetes.io/component` on ledger ConfigMaps. */
export const LEDGER_COMPONENT = "worker-id-ledger";

const LEDGER_NEXT_ASSIGNMENT_KEY = "nextAssignment";
const LEDGER_BASE_FLOOR_KEY = "baseFloor";
const LEDGER_LAYOUT_KEY = "layout";
const LEDGER_HIGH_WATER_KEY = "highWaterId";
const LEDGER_FORMER_LAYOUTS_KEY = "formerLayouts";
const LEDGER_ENTRY_KEY = /^w-(\d+)$/;

/** ConfigMap data key of a worker id's ledger entry. */
export function ledgerKey(workerId: number): string {
  return `w-${workerId}`;
}

/** Parses a ledger ConfigMap's data; throws an error naming the bad key. */
export function parseLedgerData(data: Record<string, string> | undefined): Ledger {
  const entries = new Map<number, LedgerEntry>();
  let nextAssignment = 1;
  let baseFloor = 0;
  const extra: Pick<Ledger, "layout" | "highWaterId" | "formerLayouts"> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    if (key === LEDGER_LAYOUT_KEY) {
      extra.layout = parseJsonKey(key, value, spaceLayoutSchema);
      continue;
    }
    if (key === LEDGER_HIGH_WATER_KEY) {
      if (!/^\d+$/.test(value)) {
        throw new Error(`malformed worker-id ledger: ${key} must be a decimal ID, got "${value}"`);
      }
      extra.highWaterId = BigInt(value);
      continue;
    }
    if (key === LEDGER_FORMER_LAYOUTS_KEY) {
      extra.formerLayouts = parseJsonKey(key, value, z.array(formerLayoutSchema));
      continue;
    }
    if (key === LEDGER_NEXT_ASSIGNMENT_KEY) {
      if (!/^\d+$/.test(value) || Number(value) < 1) {
        throw new Error(`malformed worker-id ledger: ${key} must be a positive integer, got "${value}"`);
      }
      nextAssignment = Number(value);
      continue;
    }
    if (key === LEDGER_BASE_FLOOR_KEY) {
      if (!/^\d+$/.test(value)) {
        throw new Error(`malformed worker-id ledger: ${key} must be a non-negative integer, got "${value}"`);
      }
      baseFloor = Number(value);
      continue;
    }
    const match = LEDGER_ENTRY_KEY.exec(key);
    if (!match) continue;
    entries.set(Number(match[1]), parseJsonKey(key, value, ledgerEntrySchema));
  }
  return { nextAssignment, ...(baseFloor ? { baseFloor } : {}), ...extra, entries };
}

function parseJsonKey<T extends z.ZodType>(key: string, value: string, schema: T): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new Error(`malformed worker-id ledger: ${key} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ");
    throw new Error(`malformed worker-id ledger: ${key}: ${detail}`);
  }
  return parsed.data;
}

/** Serializes a ledger into ConfigMap data. Inverse of parseLedgerData. */
export function serializeLedgerData(ledger: Ledger): Record<string, string> {
  const out: Record<string, string> = { [LEDGER_NEXT_ASSIGNMENT_KEY]: String(ledger.nextAssignment) };
  if (ledger.baseFloor) out[LEDGER_BASE_FLOOR_KEY] = String(ledger.baseFloor);
  if (ledger.layout) out[LEDGER_LAYOUT_KEY] = JSON.stringify(ledger.layout);
  if (ledger.highWaterId !== undefined) out[LEDGER_HIGH_WATER_KEY] = ledger.highWaterId.toString();
  if (ledger.formerLayouts?.length) out[LEDGER_FORMER_LAYOUTS_KEY] = JSON.stringify(ledger.formerLayouts);
  for (const workerId of [...ledger.entries.keys()].sort((a, b) => a - b)) {
    out[ledgerKey(workerId)] = JSON.stringify(ledger.entries.get(workerId));
  }
  return out;
}
