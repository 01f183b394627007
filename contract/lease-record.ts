import { z } from "zod";

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
