import {
  LeaseState,
  LedgerEntryState,
  leaseNameForPod,
  type LeaseData,
  type Ledger,
  type LedgerEntry,
} from "../../../contract/lease-record.ts";
import { claimMatches, isReclaimable, reclaimableAtMonoMs } from "../../../contract/lease-rules.ts";
import { tickAt } from "../../../contract/id-layout.ts";
import {
  describeSpaceLayout,
  highWaterIdAt,
  sameSpaceLayout,
  spaceLayoutMath,
  successionStart,
  type SpaceLayout,
} from "../../../contract/id-space-layout.ts";

/*
 * The pure worker-id allocation planner (docs/lease-protocol.md, "Operator"). It reads a
 * snapshot (pods, leases, the id space's ledger, what the operator has observed on its own
 * monotonic clock) and returns the writes that move the world one step towards "every pod
 * of the fleet holds a unique worker id". The caller (lease-sync.ts) applies the actions in
 * order, each with its resourceVersion precondition, stops at the first failure and plans
 * again from fresh reads. Any prefix of the actions leaves the world safe.
 */

/** Inclusive range of worker ids the fleet may use. */
export interface WorkerIdRange {
  min: number;
  max: number;
}

/** A pod of the fleet as the planner needs it. */
export interface FleetPod {
  name: string;
  uid: string;
  /** StatefulSet ordinal. */
  ordinal: number;
  /** metadata.deletionTimestamp is set. */
  terminating: boolean;
}

/** A lease ConfigMap of the fleet, parsed. */
export interface ObservedLease {
  configMapName: string;
  resourceVersion: string;
  lease: LeaseData;
}

/** The id space's ledger ConfigMap as read; `resourceVersion: null` when it does not exist yet. */
export interface ObservedLedger {
  resourceVersion: string | null;
  /** metadata.uid (assigned by the API server, so a writer cannot forge it); absent when it does not exist. */
  uid?: string;
  ledger: Ledger;
}

/** What the operator saw of one lease, on its own monotonic clock. */
export interface LeaseObservation {
  holderUid: string;
  assignment: number;
  renewCount: number;
  state: LeaseData["state"];
  /** Operator monotonic ms when any of the fields above last changed (or were first seen). */
  changedAtMonoMs: number;
}

/** What the operator saw of one retiring ledger entry, on its own monotonic clock. */
export interface RetiringObservation {
  /** The entry's `since` and `reservedUntil`: a re-retired entry restarts the timer. */
  since: string;
  reservedUntil: number;
  /** Operator monotonic ms since when no lease in any snapshot has named this worker id. */
  quietSinceMonoMs: number;
}

/**
 * The operator's memory between plans. Never persisted: a restarted operator starts from
 * `EMPTY_OBSERVATIONS`, so everything counts as seen "now" and restarting only delays reuse.
 */
export interface Observations {
  /** By lease ConfigMap name. */
  leases: Readonly<Record<string, LeaseObservation>>;
  /** By worker id (decimal string). */
  retiring: Readonly<Record<string, RetiringObservation>>;
  /**
   * The ledger (by uid) this operator has been watching, since when (its monotonic ms), and the
   * base floor it owes it. A ledger the operator did not create itself in this process may have
   * lost or rolled back state while nobody watched (an operator restart, a recreated ledger, a
   * stale leader's delayed create, an etcd restore): its free and unrecorded ids wait out lease
   * duration + grace from first sight (a holder the ledger forgot may still be issuing), and its
   * base floor is raised past this operator's clock.
   */
  ledgerSight?: { uid: string; sinceMonoMs: number; floorTick: number };
}

/** Observations of an operator that has just started. */
export const EMPTY_OBSERVATIONS: Observations = Object.freeze({ leases: {}, retiring: {} });

/** Everything the planner looks at. */
export interface PlannerInput {
  /** The fleet as the ledger names it: `namespace/name` (fleetKey). */
  fleet: string;
  idSpace: string;
  /** The fleet's ID layout; the ledger's must be the same, or the fleet gets no worker id. */
  layout: SpaceLayout;
  /**
   * The fleet declares its layout the successor of the id space's current one: once no holder
   * of the old layout can issue, the ledger switches to this layout with a floor above every ID
   * the old one may have issued.
   */
  layoutSuccession?: boolean;
  range: WorkerIdRange;
  /** spec.replicas (what the user or the HPA asks for). */
  desiredReplicas: number;
  pods: readonly FleetPod[];
  /** The fleet's lease ConfigMaps that parsed. */
  leases: readonly ObservedLease[];
  /**
   * Leases of other fleets sharing the id space. Never touched here (their own fleet's plan
   * handles them), but an id any of them names is not claimable and its floor counts: after
   * a lost ledger, another fleet's holder may still be renewing an id the new ledger lacks.
   */
  otherFleetsLeases?: readonly ObservedLease[];
  /** Names of the fleet's lease ConfigMaps that did not parse; they are left alone and reported. */
  malformedLeaseNames?: readonly string[];
  ledger: ObservedLedger;
  observations: Observations;
  /** Operator monotonic clock now, ms. */
  nowMonoMs: number;
  /** Wall time now (RFC 3339), only stamped into `since` for humans. */
  nowWall: string;
  /**
   * Operator wall clock, ms. Assignment numbers never go below it (so a lost or rolled-back
   * ledger does not hand out an old number again), and lost state gets floors past it.
   */
  nowMs: number;
  /**
   * How far past the operator's clock a holder may have issued or reserved: reserveAhead +
   * max clock drift + max backward wait. A claim whose lease is gone, and a ledger this
   * operator cannot vouch for, get floors at least this far ahead.
   */
  lostStateMarginMs: number;
  /**
   * How claims record their leases' reservations (`seenReservedUntil`), so a lost lease does not
   * lose its reservation: once any lease of the fleet is `rewriteAfterTicks` ahead of its record,
   * every record is brought up to date in one ledger write (a few writes per lease duration,
   * not one per renewal); a record may then lag its lease by up to `lagTicks` (pass reserveAhead:
   * the rewrite threshold plus one renewal's step), which a lost claim's floor adds back.
   * Absent: every change is recorded and nothing is added.
   */
  reservationRecord?: { rewriteAfterTicks: number; lagTicks: number };
  /** This operator process created the ledger (uid) for a new id space: it knows its whole past. */
  ledgerCreatedHere?: boolean;
  leaseDurationMs: number;
  reclaimGraceMs: number;
  /**
   * Only used when the ledger does not exist yet: the `baseFloor` it is created with. Pass
   * the operator's current tick + reserveAhead + max clock drift, so ids of a lost ledger
   * cannot be handed out below a reservation it forgot.
   */
  newLedgerBaseFloor?: number;
}

/** Write the whole ledger (create it when `resourceVersion` is null), conditioned on `resourceVersion`. */
export interface WriteLedgerAction {
  kind: "write-ledger";
  resourceVersion: string | null;
  ledger: Ledger;
  /** One line per changed entry, for events and logs. */
  reasons: string[];
}

/** Create a lease ConfigMap (fails if it exists: someone else got there first). */
export interface CreateLeaseAction {
  kind: "create-lease";
  configMapName: string;
  lease: LeaseData;
  reason: string;
}

/** Replace a lease ConfigMap, conditioned on `resourceVersion`. */
export interface ReplaceLeaseAction {
  kind: "replace-lease";
  configMapName: string;
  resourceVersion: string;
  lease: LeaseData;
  reason: string;
}

/** Delete a lease ConfigMap, conditioned on `resourceVersion` (DeleteOptions.preconditions). */
export interface DeleteLeaseAction {
  kind: "delete-lease";
  configMapName: string;
  resourceVersion: string;
  reason: string;
}

/** One write. */
export type PlanAction = WriteLedgerAction | CreateLeaseAction | ReplaceLeaseAction | DeleteLeaseAction;

/** Something the fleet should report (condition WorkerIdConflict, events). */
export interface PlanConflict {
  kind: "overlap" | "unbacked-lease" | "duplicate-lease" | "out-of-range" | "malformed-lease";
  workerId?: number;
  message: string;
}

/** A pod that needs a worker id and has none yet. */
export interface WaitingPod {
  pod: string;
  message: string;
}

/** The planner's answer. */
export interface Plan {
  /**
   * Writes, in the order they must be applied: at most one ledger write first, then lease
   * creates/replaces, then lease deletes. Stop at the first failure and plan again.
   */
  actions: PlanAction[];
  /** Replicas the StatefulSet may be sized to: min(desired, worker ids this fleet can ever hold). */
  allocatableReplicas: number;
  /** Desired replicas exceed the worker ids available to the fleet (condition WorkerIdsExhausted). */
  exhausted: boolean;
  conflicts: PlanConflict[];
  /** Leases confirmed by their live holder pod (status.leasedWorkers). */
  leasedWorkers: number;
  /** Live holders not seen renewing for a lease duration (reported, never reclaimed while the pod exists). */
  staleLeases: string[];
  /** Pods waiting for an id, and why. */
  waitingPods: WaitingPod[];
  /**
   * Why this fleet gets no worker id because of its layout (another layout owns the id space,
   * or a declared succession is refused), or null.
   */
  layoutConflict: string | null;
  /** A declared layout succession still waiting for the old layout's holders, or null. */
  successionWaiting: string | null;
  /** Plan again after this long even if nothing changes (a retiring id becomes reusable); null: no timer needed. */
  requeueAfterMs: number | null;
  /** Pass to the next plan. */
  observations: Observations;
}

/** Computes the next step for one fleet. Pure: same input, same plan. */
export function planWorkerIds(input: PlannerInput): Plan {
  const { fleet, range, nowMonoMs, nowWall, leaseDurationMs, reclaimGraceMs } = input;
  const read = input.ledger.ledger;
  const ledgerExists = input.ledger.resourceVersion !== null;
  const entries = new Map<number, LedgerEntry>(read.entries);
  // Assignment numbers never go below the wall clock in ms: a lost or rolled-back ledger
  // (its nextAssignment forgotten or older) cannot hand out a number a live holder still has.
  let nextAssignment = Math.max(
    read.nextAssignment,
    Math.floor(input.nowMs),
    ...(ledgerExists
      ? []
      : [...input.leases, ...(input.otherFleetsLeases ?? [])].map((l) => l.lease.assignment + 1)),
  );
  // Ticks are in the id space's layout: the ledger's, or this fleet's for a ledger it creates now.
  const spaceLayout = read.layout ?? input.layout;
  const math = spaceLayoutMath(spaceLayout);
  /** The lowest tick a holder whose reservation this operator has lost may not have issued yet. */
  const lostStateFloor = Math.max(0, tickAt(math, input.nowMs + input.lostStateMarginMs));

  // A ledger this process did not create for a new id space may have lost or rolled back state
  // while nobody watched: its free and unrecorded ids wait out lease duration + grace from first
  // sight, and its base floor rises past this operator's clock (see Observations.ledgerSight).
  const previousSight = input.observations.ledgerSight;
  const uid = input.ledger.uid ?? "";
  const ledgerSight = !ledgerExists
    ? undefined
    : previousSight?.uid === uid
      ? previousSight
      : { uid, sinceMonoMs: nowMonoMs, floorTick: lostStateFloor };
  const vouchedFor = ledgerExists ? input.ledgerCreatedHere === true : input.newLedgerBaseFloor === undefined;
  const settled =
    vouchedFor ||
    (ledgerSight !== undefined &&
      isReclaimable(ledgerSight.sinceMonoMs, nowMonoMs, leaseDurationMs, reclaimGraceMs));
  let baseFloor = ledgerExists ? (read.baseFloor ?? 0) : (input.newLedgerBaseFloor ?? 0);
  let baseFloorReason: string | null = null;
  if (ledgerExists && !vouchedFor && ledgerSight && ledgerSight.floorTick > baseFloor) {
    baseFloor = ledgerSight.floorTick;
    baseFloorReason = `base floor raised to tick ${baseFloor}: this operator did not see what the ledger went through before (restart, recreation or restore)`;
  }
  /** The floor a handover from the ledger's record gives (a free entry's, or baseFloor for an id it never had). */
  const entryFloor = (entry: LedgerEntry | undefined): number => {
    if (entry === undefined) return baseFloor;
    if (entry.state === LedgerEntryState.Leased) return Math.max(entry.floor, entry.seenReservedUntil ?? 0);
    if (entry.state === LedgerEntryState.Free) return Math.max(entry.reservedUntil, baseFloor);
    return entry.reservedUntil;
  };
  const ledgerReasons: string[] = [];
  const leaseWrites: (CreateLeaseAction | ReplaceLeaseAction)[] = [];
  const leaseDeletes: DeleteLeaseAction[] = [];
  const conflicts: PlanConflict[] = [];
  const staleLeases: string[] = [];
  const waitingPods: WaitingPod[] = [];
  let leasedWorkers = 0;

  const inRange = (w: number) => w >= range.min && w <= range.max;
  const podsByName = new Map(input.pods.map((p) => [p.name, p]));
  const leasesByName = new Map(input.leases.map((l) => [l.configMapName, l]));
  const malformed = new Set(input.malformedLeaseNames ?? []);
  for (const name of malformed) {
    conflicts.push({
      kind: "malformed-lease",
      message: `lease ConfigMap ${name} does not parse; fix or delete it`,
    });
  }

  /** Worker ids named by any lease in the snapshot: never claimable, whatever the ledger says. */
  const namedByLease = new Map<number, ObservedLease[]>();
  for (const l of [...input.leases, ...(input.otherFleetsLeases ?? [])]) {
    const list = namedByLease.get(l.lease.workerId) ?? [];
    list.push(l);
    namedByLease.set(l.lease.workerId, list);
  }
  for (const [w, list] of namedByLease) {
    if (list.length > 1) {
      conflicts.push({
        kind: "duplicate-lease",
        workerId: w,
        message: `worker id ${w} is named by leases ${list.map((l) => l.configMapName).join(", ")}; all but the ledger's claim are being revoked`,
      });
    }
  }

  // One id space, one layout: a fleet of another layout gets no worker id, unless it declared
  // itself the successor and no holder of the old layout can issue any more.
  const allLeases = [...input.leases, ...(input.otherFleetsLeases ?? [])];
  /** Highest tick any holder of the space may have issued or reserved, as far as this snapshot knows. */
  const highWaterTick = (): number =>
    Math.max(
      baseFloor,
      ...[...entries.values()].map(entryFloor),
      ...allLeases.map((l) => Math.max(l.lease.handoverAfter, l.lease.reservedUntil)),
    );
  const highWaterId = (): bigint => {
    const recorded = read.highWaterId ?? 0n;
    const seen = highWaterIdAt(math, highWaterTick());
    return seen > recorded ? seen : recorded;
  };
  let layoutConflict: string | null = null;
  let successionWaiting: string | null = null;
  if (ledgerExists && read.layout && !sameSpaceLayout(read.layout, input.layout)) {
    const theirs = describeSpaceLayout(read.layout);
    const ours = describeSpaceLayout(input.layout);
    const holders = [...read.entries.values()].filter((e) => e.state !== LedgerEntryState.Free).length;
    if (!input.layoutSuccession) {
      layoutConflict = `id space ${input.idSpace} issues IDs with layout ${theirs}; this fleet's layout is ${ours}, and IDs of two layouts in one space can repeat each other. Use the space's layout, or another idSpace if these IDs go into other tables, or set idSpace.layoutSuccession: true to replace the space's layout once its holders are gone`;
    } else if (holders > 0 || allLeases.length > 0) {
      successionWaiting = `layout succession of id space ${input.idSpace} from ${theirs} to ${ours} waits until no holder of the old layout can issue: ${holders} worker id(s) still leased or retiring, ${allLeases.length} lease(s) left; scale the fleets of the old layout to zero or delete them`;
    } else {
      const mark = highWaterId();
      const start = successionStart(mark, input.layout, input.nowMs);
      if (!start.ok) {
        layoutConflict = `layout succession refused: ${start.message}`;
      } else {
        const reason = `layout of id space ${input.idSpace} succeeded from ${theirs} to ${ours}: first ID above ${mark}, issued from ${new Date(start.firstTickStartMs).toISOString()}`;
        return {
          ...emptyPlan(input.observations),
          actions: [
            {
              kind: "write-ledger",
              resourceVersion: input.ledger.resourceVersion,
              ledger: {
                nextAssignment,
                baseFloor: start.floorTick,
                layout: input.layout,
                highWaterId: mark,
                formerLayouts: [
                  ...(read.formerLayouts ?? []),
                  { layout: read.layout, highWaterId: mark.toString(), until: nowWall },
                ],
                // Old entries count ticks of the old layout: the base floor now bounds every id.
                entries: new Map(),
              },
              reasons: [reason],
            },
          ],
        };
      }
    }
  }
  const noIdsForLayout = layoutConflict !== null || successionWaiting !== null;

  let ledgerDirty = baseFloorReason !== null;
  if (baseFloorReason) ledgerReasons.push(baseFloorReason);
  /** Changes an entry; a null reason is bookkeeping nobody needs an event for. */
  const setEntry = (w: number, entry: LedgerEntry, reason: string | null) => {
    entries.set(w, entry);
    ledgerDirty = true;
    if (reason !== null) ledgerReasons.push(`worker id ${w}: ${reason}`);
  };

  /** Highest tick anyone may have issued for `w` as far as this snapshot knows. */
  const floorOf = (w: number): number => {
    let floor = entryFloor(entries.get(w));
    for (const l of namedByLease.get(w) ?? []) {
      floor = Math.max(floor, l.lease.handoverAfter, l.lease.reservedUntil);
    }
    return floor;
  };

  /**
   * Takes `w` away from whoever may hold it: free when no holder can be issuing (released,
   * or a claim never confirmed), retiring otherwise. Never lowers a floor and never touches
   * another lease's live claim.
   */
  const retire = (
    w: number,
    holderMayIssue: boolean,
    who: string,
    ownClaim: boolean,
    holderLeaseDurationSeconds = 0,
    leaseMayBeLost = false,
  ) => {
    const current = entries.get(w);
    if (current?.state === LedgerEntryState.Leased && !ownClaim) return;
    // A claim whose lease is gone may have had a holder reserving past anything recorded.
    const floor = leaseMayBeLost ? Math.max(floorOf(w), lostClaimFloor(current)) : floorOf(w);
    if (!holderMayIssue && current?.state !== LedgerEntryState.Retiring) {
      if (current?.state !== LedgerEntryState.Free || current.reservedUntil !== floor) {
        setEntry(
          w,
          { state: LedgerEntryState.Free, reservedUntil: floor, since: nowWall },
          `freed from ${who}`,
        );
      }
      return;
    }
    const longerLease =
      holderLeaseDurationSeconds * 1000 > leaseDurationMs ? { holderLeaseDurationSeconds } : {};
    if (
      current?.state === LedgerEntryState.Retiring &&
      current.reservedUntil >= floor &&
      (current.holderLeaseDurationSeconds ?? 0) >= holderLeaseDurationSeconds
    )
      return;
    setEntry(
      w,
      {
        state: LedgerEntryState.Retiring,
        fleet,
        reservedUntil: floor,
        since: nowWall,
        formerHolder: who,
        ...longerLease,
      },
      `retiring from ${who} (reserved until tick ${floor})`,
    );
  };

  /** Reservations of this fleet's live, backed leases, recorded into their claims after step 1. */
  const liveReservations = new Map<number, number>();
  const record = input.reservationRecord ?? { rewriteAfterTicks: 0, lagTicks: 0 };
  const recordedReservation = (entry: LedgerEntry & { state: "leased" }) =>
    Math.max(entry.floor, entry.seenReservedUntil ?? 0);
  /**
   * Keeps every claim's record of its lease's reservation close behind the lease, so losing the
   * lease does not lose the reservation (a lease deleted by hand, or garbage-collected).
   */
  const recordReservations = () => {
    const behind = [...liveReservations].flatMap(([w, reservedUntil]) => {
      const entry = entries.get(w);
      return entry?.state === LedgerEntryState.Leased && reservedUntil > recordedReservation(entry)
        ? [{ w, entry, reservedUntil }]
        : [];
    });
    if (
      !behind.some(
        ({ entry, reservedUntil }) => reservedUntil > recordedReservation(entry) + record.rewriteAfterTicks,
      )
    )
      return;
    for (const { w, entry, reservedUntil } of behind)
      setEntry(w, { ...entry, seenReservedUntil: reservedUntil }, null);
  };
  /** The floor of a claim whose lease may be lost: past its recorded reservation (plus the record's lag) and our clock. */
  const lostClaimFloor = (entry: LedgerEntry | undefined): number => {
    if (entry?.state !== LedgerEntryState.Leased) return lostStateFloor;
    const recorded = entry.seenReservedUntil === undefined ? 0 : entry.seenReservedUntil + record.lagTicks;
    return Math.max(entry.floor, recorded, lostStateFloor);
  };

  /** Pods that hold (or are given in this plan) a lease matching their current UID. */
  const podsServed = new Set<string>();
  /** Leases whose ConfigMap this plan already writes or deletes. */
  const leasesTouched = new Set<string>();
  /** Pods that need a lease; the value is the lease ConfigMap to replace, if one exists. */
  const podsNeedingLease = new Map<string, ObservedLease | null>();

  const wantsId = (pod: FleetPod | undefined): pod is FleetPod =>
    !noIdsForLayout && pod !== undefined && !pod.terminating && pod.ordinal < input.desiredReplicas;

  // 1. Each lease: keep it, or take its id back (ledger first, the lease write comes later).
  for (const observed of [...input.leases].sort((a, b) => a.configMapName.localeCompare(b.configMapName))) {
    const { configMapName: name, lease } = observed;
    const w = lease.workerId;
    const pod = podsByName.get(lease.holderPod);
    const holderLive = pod !== undefined && pod.uid === lease.holderUid;
    const backed = claimMatches(entries.get(w), {
      fleet,
      lease: name,
      podUid: lease.holderUid,
      assignment: lease.assignment,
    });
    const who = `${lease.holderPod} (uid ${lease.holderUid}, assignment ${lease.assignment})`;
    const ownerPod = podsByName.get(podNameOfLease(name, input.pods) ?? "");

    if (!inRange(w)) {
      conflicts.push({
        kind: "out-of-range",
        workerId: w,
        message: `lease ${name} holds worker id ${w}, outside the fleet's range ${range.min}-${range.max}`,
      });
    }

    if (backed && holderLive && lease.state !== LeaseState.Released && !noIdsForLayout) {
      podsServed.add(pod.name);
      if (lease.state === LeaseState.Active) leasedWorkers++;
      liveReservations.set(w, lease.reservedUntil);
      continue;
    }

    const entry = entries.get(w);
    if (!backed && (entry === undefined || entry.state === LedgerEntryState.Leased)) {
      // (A lease whose id the ledger already marks retiring or free is a revocation in progress.)
      conflicts.push({
        kind: "unbacked-lease",
        workerId: w,
        message: `lease ${name} names worker id ${w} for ${who} but the ledger ${describeEntry(entry)}; revoking it`,
      });
    }
    // Released means the holder will never issue again; an unconfirmed Assigned lease may be
    // confirmed any moment, so it is treated like an active one.
    retire(w, lease.state !== LeaseState.Released, who, backed, lease.leaseDurationSeconds);
    leasesTouched.add(name);
    if (wantsId(ownerPod) && !malformed.has(name)) {
      podsNeedingLease.set(ownerPod.name, observed);
    } else {
      leaseDeletes.push({
        kind: "delete-lease",
        configMapName: name,
        resourceVersion: observed.resourceVersion,
        reason: `worker id ${w} taken back from ${who}: ${holderLive ? "released" : "pod gone or replaced"}`,
      });
    }
  }

  recordReservations();

  // 2. Claims of this fleet that no lease matches yet: complete them, or abandon them.
  const pendingClaims = new Map<string, { workerId: number; entry: LedgerEntry & { state: "leased" } }>();
  for (const [w, entry] of [...entries].sort(([a], [b]) => a - b)) {
    if (entry.state !== LedgerEntryState.Leased || entry.fleet !== fleet) continue;
    const l = leasesByName.get(entry.lease);
    if (
      l &&
      l.lease.workerId === w &&
      l.lease.holderUid === entry.podUid &&
      l.lease.assignment === entry.assignment
    ) {
      continue;
    }
    const pod = podsByName.get(entry.podName);
    if (
      wantsId(pod) &&
      pod.uid === entry.podUid &&
      !podsServed.has(pod.name) &&
      !pendingClaims.has(pod.name)
    ) {
      pendingClaims.set(pod.name, { workerId: w, entry });
      continue;
    }
    // The claim's pod is gone (or got another id). A lease write for it may still be in
    // flight from an earlier plan, so the id retires instead of becoming free at once.
    retire(w, true, `unfinished claim for ${entry.podName} (uid ${entry.podUid})`, true, 0, true);
  }

  // 3. Pods without a lease for their current UID get one: their pending claim, else the lowest free id.
  const claimedThisPlan = new Set<number>();
  // Free and unrecorded ids of a ledger this operator cannot vouch for wait until it is settled
  // (a forgotten holder may still be issuing on one; the wait outlasts its self-fence).
  let waitedToSettle = false;
  const isClaimable = (w: number) => {
    if (namedByLease.has(w) || claimedThisPlan.has(w)) return false;
    const entry = read.entries.get(w);
    if (entry !== undefined && entry.state !== LedgerEntryState.Free) return false;
    if (!settled) {
      waitedToSettle = true;
      return false;
    }
    return true;
  };
  let nextCandidate = range.min;
  const pickFree = (): number | null => {
    for (; nextCandidate <= range.max; nextCandidate++) {
      if (isClaimable(nextCandidate)) return nextCandidate++;
    }
    return null;
  };

  for (const pod of [...input.pods].sort((a, b) => a.ordinal - b.ordinal)) {
    if (!wantsId(pod) || podsServed.has(pod.name)) continue;
    const leaseName = leaseNameForPod(pod.name);
    if (malformed.has(leaseName)) continue;
    const existing = leasesByName.get(leaseName) ?? null;
    if (existing && !podsNeedingLease.has(pod.name) && !leasesTouched.has(leaseName)) {
      // A backed lease for an older UID would have been handled in step 1; reaching here
      // means the lease names this pod's UID but is backed and live: nothing to do.
      continue;
    }
    const pending = pendingClaims.get(pod.name);
    let workerId: number;
    let claim: { assignment: number; floor: number };
    if (pending) {
      // The claim has no lease: never written, or lost after its holder reserved ticks nobody
      // recorded. Either way its lease starts past every reservation the holder can have made.
      workerId = pending.workerId;
      const floor = Math.max(baseFloor, lostClaimFloor(pending.entry));
      claim = { assignment: pending.entry.assignment, floor };
      if (floor > pending.entry.floor) {
        setEntry(
          workerId,
          { ...pending.entry, floor },
          `claim of ${pod.name} has no lease: its lease is written to issue only after tick ${floor}`,
        );
      }
    } else {
      const free = pickFree();
      if (free === null) {
        waitingPods.push({ pod: pod.name, message: "no free worker id in the fleet's range right now" });
        // Revoke the old holder's lease anyway, or it could keep its id (and this pod waiting) forever.
        if (existing) {
          leaseDeletes.push({
            kind: "delete-lease",
            configMapName: leaseName,
            resourceVersion: existing.resourceVersion,
            reason: `worker id ${existing.lease.workerId} taken back from ${existing.lease.holderPod} (uid ${existing.lease.holderUid})`,
          });
        }
        continue;
      }
      workerId = free;
      const floor = entryFloor(entries.get(free));
      claim = { assignment: nextAssignment++, floor };
      claimedThisPlan.add(free);
      setEntry(
        free,
        {
          state: LedgerEntryState.Leased,
          fleet,
          lease: leaseName,
          podName: pod.name,
          podUid: pod.uid,
          assignment: claim.assignment,
          floor,
          since: nowWall,
        },
        `claimed for ${pod.name} (uid ${pod.uid}, assignment ${claim.assignment}, after tick ${floor})`,
      );
    }
    const lease: LeaseData = {
      workerId,
      idSpace: input.idSpace,
      state: LeaseState.Assigned,
      holderPod: pod.name,
      holderUid: pod.uid,
      assignment: claim.assignment,
      handoverAfter: claim.floor,
      reservedUntil: claim.floor,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      renewCount: existing ? existing.lease.renewCount : 0,
      renewTime: "",
    };
    const reason = `worker id ${workerId} assigned to ${pod.name} (uid ${pod.uid}), issuing only after tick ${claim.floor}`;
    if (existing) {
      leaseWrites.push({
        kind: "replace-lease",
        configMapName: leaseName,
        resourceVersion: existing.resourceVersion,
        lease,
        reason,
      });
    } else {
      leaseWrites.push({ kind: "create-lease", configMapName: leaseName, lease, reason });
    }
    podsServed.add(pod.name);
  }
  // Pending claims whose pod did not take them (it was served another way) are abandoned.
  for (const [podName, pending] of pendingClaims) {
    const used = leaseWrites.some(
      (a) => a.lease.holderPod === podName && a.lease.workerId === pending.workerId,
    );
    if (!used) retire(pending.workerId, true, `unused claim for ${podName}`, true, 0, true);
  }

  // 4. Retiring ids of this fleet become free once quiet for leaseDuration + grace on our clock.
  const retiringObs: Record<string, RetiringObservation> = {};
  let requeueAfterMs: number | null = null;
  const wake = (ms: number) => {
    requeueAfterMs = requeueAfterMs === null ? ms : Math.min(requeueAfterMs, ms);
  };
  // Other fleets' holders going away changes nothing this fleet watches: look again on a timer.
  if (successionWaiting !== null) wake(Math.max(1000, reclaimGraceMs));
  if (waitedToSettle && ledgerSight) {
    const settlesInMs = Math.max(
      1,
      reclaimableAtMonoMs(ledgerSight.sinceMonoMs, leaseDurationMs, reclaimGraceMs) - nowMonoMs,
    );
    wake(settlesInMs);
    for (const waiting of waitingPods) {
      waiting.message = `the operator hands out free worker ids of this ledger in about ${Math.ceil(settlesInMs / 1000)} s (it did not watch the ledger before: restart, recreation or restore)`;
    }
  }
  for (const [w, entry] of [...entries].sort(([a], [b]) => a - b)) {
    if (entry.state !== LedgerEntryState.Retiring || entry.fleet !== fleet) continue;
    const previous = input.observations.retiring[String(w)];
    const samePhase =
      previous !== undefined &&
      previous.since === entry.since &&
      previous.reservedUntil === entry.reservedUntil;
    const quietSince = namedByLease.has(w) || !samePhase ? nowMonoMs : previous.quietSinceMonoMs;
    // An entry written in this very plan is not durable yet: observe it from the next plan on.
    // (Its lease may not even be revoked yet, so no timer starts here.)
    if (input.ledger.ledger.entries.get(w) !== entry) {
      wake(leaseDurationMs + reclaimGraceMs);
      continue;
    }
    // The holder fences itself by its own lease's duration, which a shortened spec does not change.
    const holderDurationMs = Math.max(leaseDurationMs, (entry.holderLeaseDurationSeconds ?? 0) * 1000);
    if (!namedByLease.has(w) && isReclaimable(quietSince, nowMonoMs, holderDurationMs, reclaimGraceMs)) {
      setEntry(
        w,
        { state: LedgerEntryState.Free, reservedUntil: entry.reservedUntil, since: nowWall },
        "reclaimed: no renewal possible for lease duration + grace",
      );
      continue;
    }
    retiringObs[String(w)] = {
      since: entry.since,
      reservedUntil: entry.reservedUntil,
      quietSinceMonoMs: quietSince,
    };
    wake(Math.max(1, reclaimableAtMonoMs(quietSince, holderDurationMs, reclaimGraceMs) - nowMonoMs));
  }

  // 5. Renewal observations of live leases (for status only: a lease of a live pod is never reclaimed).
  const leaseObs: Record<string, LeaseObservation> = {};
  for (const { configMapName, lease } of input.leases) {
    const previous = input.observations.leases[configMapName];
    const unchanged =
      previous !== undefined &&
      previous.holderUid === lease.holderUid &&
      previous.assignment === lease.assignment &&
      previous.renewCount === lease.renewCount &&
      previous.state === lease.state;
    const changedAtMonoMs = unchanged ? previous.changedAtMonoMs : nowMonoMs;
    leaseObs[configMapName] = {
      holderUid: lease.holderUid,
      assignment: lease.assignment,
      renewCount: lease.renewCount,
      state: lease.state,
      changedAtMonoMs,
    };
    if (
      lease.state !== LeaseState.Released &&
      !leasesTouched.has(configMapName) &&
      nowMonoMs - changedAtMonoMs >= leaseDurationMs
    ) {
      staleLeases.push(configMapName);
    }
  }

  // 6. Capacity: ids in range this fleet can ever hold (other fleets' claims and retirements excluded).
  const blockers = new Map<string, number>();
  for (const [w, entry] of entries) {
    if (!inRange(w) || entry.state === LedgerEntryState.Free || entry.fleet === fleet) continue;
    blockers.set(entry.fleet, (blockers.get(entry.fleet) ?? 0) + 1);
  }
  const capacity = range.max - range.min + 1 - [...blockers.values()].reduce((a, b) => a + b, 0);
  for (const [other, count] of blockers) {
    conflicts.push({
      kind: "overlap",
      message: `fleet ${other} shares id space ${input.idSpace} and holds ${count} worker id(s) in this fleet's range ${range.min}-${range.max}`,
    });
  }
  const allocatableReplicas = noIdsForLayout ? 0 : Math.min(input.desiredReplicas, capacity);
  const exhausted = !noIdsForLayout && allocatableReplicas < input.desiredReplicas;
  if (waitingPods.length > 0 && requeueAfterMs !== null) {
    for (const waiting of waitingPods)
      waiting.message += `; a retiring id becomes reusable in about ${Math.ceil(requeueAfterMs / 1000)} s`;
  }

  const actions: PlanAction[] = [];
  if (ledgerDirty || !ledgerExists || read.layout === undefined) {
    actions.push({
      kind: "write-ledger",
      resourceVersion: input.ledger.resourceVersion,
      ledger: {
        nextAssignment,
        ...(baseFloor ? { baseFloor } : {}),
        layout: spaceLayout,
        highWaterId: highWaterId(),
        ...(read.formerLayouts ? { formerLayouts: read.formerLayouts } : {}),
        entries,
      },
      reasons: ledgerReasons,
    });
  }
  actions.push(...leaseWrites, ...leaseDeletes);

  return {
    actions,
    allocatableReplicas,
    exhausted,
    conflicts,
    leasedWorkers,
    staleLeases,
    waitingPods,
    layoutConflict,
    successionWaiting,
    requeueAfterMs,
    observations: {
      leases: leaseObs,
      retiring: retiringObs,
      ...(ledgerSight ? { ledgerSight } : {}),
    },
  };
}

/** A plan that writes nothing and reports nothing. */
function emptyPlan(observations: Observations): Plan {
  return {
    actions: [],
    allocatableReplicas: 0,
    exhausted: false,
    conflicts: [],
    leasedWorkers: 0,
    staleLeases: [],
    waitingPods: [],
    layoutConflict: null,
    successionWaiting: null,
    requeueAfterMs: null,
    observations,
  };
}

function describeEntry(entry: LedgerEntry | undefined): string {
  if (entry === undefined) return "has no entry for it";
  if (entry.state === LedgerEntryState.Leased)
    return `claims it for ${entry.lease} (uid ${entry.podUid}, assignment ${entry.assignment})`;
  return `says it is ${entry.state}`;
}

/** The pod a lease ConfigMap belongs to, by name (leaseNameForPod is the only naming rule). */
function podNameOfLease(leaseName: string, pods: readonly FleetPod[]): string | undefined {
  return pods.find((p) => leaseNameForPod(p.name) === leaseName)?.name;
}
