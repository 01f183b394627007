/**
 * The decisions of leader election on a coordination.k8s.io/v1 Lease, without I/O (the
 * runner in leader-election.ts does the API calls). Like client-go, a candidate never
 * trusts the timestamps written in the Lease: it takes a record as expired only after
 * it has itself watched that record stay unchanged for leaseDuration on its own
 * monotonic clock.
 */

/** The fields of a Lease spec that election reads and writes. */
export interface LeaderRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date;
  renewTime: Date;
  leaseTransitions: number;
}

/** What a candidate remembers between attempts. */
export interface ObservedLease {
  /** resourceVersion of the Lease when last read. */
  resourceVersion: string;
  holderIdentity: string;
  /** renewTime as written, only used to notice that the holder renewed. */
  renewTimeMs: number;
  /** Monotonic ms when this candidate first saw the record in its current form. */
  observedAtMono: number;
}

/** What to do after reading the Lease. */
export type LeaderDecision =
  | { action: "create"; record: LeaderRecord }
  | { action: "update"; record: LeaderRecord; resourceVersion: string }
  | { action: "wait"; holder: string };

/** Updates what a candidate remembers after a read; the observation time only moves when the record changed. */
export function observe(
  previous: ObservedLease | undefined,
  current: { resourceVersion: string; holderIdentity: string; renewTimeMs: number },
  nowMono: number,
): ObservedLease {
  if (
    previous &&
    previous.holderIdentity === current.holderIdentity &&
    previous.renewTimeMs === current.renewTimeMs &&
    previous.resourceVersion === current.resourceVersion
  ) {
    return previous;
  }
  return { ...current, observedAtMono: nowMono };
}

/**
 * Decides whether `identity` takes or keeps the lease.
 * `current` is the Lease as just read (undefined if it does not exist), `observed` what
 * observe() returned for it, `nowMono` a monotonic clock and `nowWall` the wall clock
 * (only written into the record, for humans and kubectl).
 */
export function decide(input: {
  identity: string;
  leaseDurationSeconds: number;
  current: (LeaderRecord & { resourceVersion: string }) | undefined;
  observed: ObservedLease | undefined;
  nowMono: number;
  nowWall: Date;
}): LeaderDecision {
  const { identity, leaseDurationSeconds, current, observed, nowMono, nowWall } = input;
  if (!current) {
    return {
      action: "create",
      record: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: nowWall,
        renewTime: nowWall,
        leaseTransitions: 0,
      },
    };
  }
  const heldByMe = current.holderIdentity === identity;
  const vacant = current.holderIdentity === "";
  const expired =
    observed !== undefined && nowMono >= observed.observedAtMono + current.leaseDurationSeconds * 1000;
  if (!heldByMe && !vacant && !expired) return { action: "wait", holder: current.holderIdentity };
  return {
    action: "update",
    resourceVersion: current.resourceVersion,
    record: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: heldByMe ? current.acquireTime : nowWall,
      renewTime: nowWall,
      leaseTransitions: heldByMe ? current.leaseTransitions : current.leaseTransitions + 1,
    },
  };
}
