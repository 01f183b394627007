import {
  LeaseState,
  LedgerEntryState,
  leaseNameForPod,
  type LeaseData,
  type Ledger,
  type LedgerEntry,
} from "../../../contract/lease-record.ts";
import { claimMatches, isReclaimable, reclaimableAtMonoMs } from "../../../contract/lease-rules.ts";

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
   * A recreated ledger (one with a `baseFloor`) and since when (operator monotonic ms) this
   * operator has seen it: ids it has no entry for are claimable only after lease duration +
   * grace, because a holder the lost ledger still had retiring may be alive.
   */
  recreatedLedger?: { baseFloor: number; sinceMonoMs: number };
}

/** Observations of an operator that has just started. */
export const EMPTY_OBSERVATIONS: Observations = Object.freeze({ leases: {}, retiring: {} });

/** Everything the planner looks at. */
export interface PlannerInput {
  fleet: string;
  idSpace: string;
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
  leaseDurationMs: number;
  reclaimGraceMs: number;
  /**
   * Only used when the ledger does not exist yet: the `baseFloor` it is created with. Pass
   * the operator's current tick + reserveAhead + max clock drift, so ids of a lost ledger
   * cannot be handed out below a reservation it forgot.
   */
  newLedgerBaseFloor?: number;
  /**
   * Only used when the ledger does not exist yet: the first `assignment` it hands out (at
   * least one above any lease in the snapshot). Pass the operator's wall clock in ms: a
   * lost ledger must not hand out an assignment number again, or a holder still renewing
   * an old assignment could take a new lease with that number for its own.
   */
  newLedgerFirstAssignment?: number;
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
  /** Plan again after this long even if nothing changes (a retiring id becomes reusable); null: no timer needed. */
  requeueAfterMs: number | null;
  /** Pass to the next plan. */
  observations: Observations;
}

/** Computes the next step for one fleet. Pure: same input, same plan. */
export function planWorkerIds(input: PlannerInput): Plan {
  const { fleet, range, nowMonoMs, nowWall, leaseDurationMs, reclaimGraceMs } = input;
  const entries = new Map<number, LedgerEntry>(input.ledger.ledger.entries);
  let nextAssignment =
    input.ledger.resourceVersion === null
      ? Math.max(
          input.ledger.ledger.nextAssignment,
          input.newLedgerFirstAssignment ?? 1,
          ...[...input.leases, ...(input.otherFleetsLeases ?? [])].map((l) => l.lease.assignment + 1),
        )
      : input.ledger.ledger.nextAssignment;
  const baseFloor =
    input.ledger.resourceVersion === null
      ? (input.newLedgerBaseFloor ?? 0)
      : (input.ledger.ledger.baseFloor ?? 0);
  const entryFloor = (entry: LedgerEntry | undefined): number => {
    if (entry === undefined) return baseFloor;
    return entry.state === LedgerEntryState.Leased ? entry.floor : entry.reservedUntil;
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

  const setEntry = (w: number, entry: LedgerEntry, reason: string) => {
    entries.set(w, entry);
    ledgerReasons.push(`worker id ${w}: ${reason}`);
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
  ) => {
    const current = entries.get(w);
    if (current?.state === LedgerEntryState.Leased && !ownClaim) return;
    const floor = floorOf(w);
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

  /** Pods that hold (or are given in this plan) a lease matching their current UID. */
  const podsServed = new Set<string>();
  /** Leases whose ConfigMap this plan already writes or deletes. */
  const leasesTouched = new Set<string>();
  /** Pods that need a lease; the value is the lease ConfigMap to replace, if one exists. */
  const podsNeedingLease = new Map<string, ObservedLease | null>();

  const wantsId = (pod: FleetPod | undefined): pod is FleetPod =>
    pod !== undefined && !pod.terminating && pod.ordinal < input.desiredReplicas;

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

    if (backed && holderLive && lease.state !== LeaseState.Released) {
      podsServed.add(pod.name);
      if (lease.state === LeaseState.Active) leasedWorkers++;
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
    retire(w, true, `unfinished claim for ${entry.podName} (uid ${entry.podUid})`, true);
  }

  // 3. Pods without a lease for their current UID get one: their pending claim, else the lowest free id.
  const claimedThisPlan = new Set<number>();
  // A recreated ledger forgot which ids were retiring: an id it has no entry for may still be
  // held by a live holder whose lease was revoked before the loss (the floor keeps IDs unique,
  // this keeps holders exclusive). Such ids wait out lease duration + grace from first sight.
  const recreatedLedger =
    baseFloor > 0
      ? {
          baseFloor,
          sinceMonoMs:
            input.observations.recreatedLedger?.baseFloor === baseFloor
              ? input.observations.recreatedLedger.sinceMonoMs
              : nowMonoMs,
        }
      : undefined;
  const unrecordedIdsQuiet =
    recreatedLedger === undefined ||
    isReclaimable(recreatedLedger.sinceMonoMs, nowMonoMs, leaseDurationMs, reclaimGraceMs);
  let waitedForUnrecordedIds = false;
  const isClaimable = (w: number) => {
    if (namedByLease.has(w) || claimedThisPlan.has(w)) return false;
    const entry = input.ledger.ledger.entries.get(w);
    if (entry === undefined && !unrecordedIdsQuiet) {
      waitedForUnrecordedIds = true;
      return false;
    }
    return entry === undefined || entry.state === LedgerEntryState.Free;
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
      workerId = pending.workerId;
      claim = { assignment: pending.entry.assignment, floor: pending.entry.floor };
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
    if (!used) retire(pending.workerId, true, `unused claim for ${podName}`, true);
  }

  // 4. Retiring ids of this fleet become free once quiet for leaseDuration + grace on our clock.
  const retiringObs: Record<string, RetiringObservation> = {};
  let requeueAfterMs: number | null = null;
  const wake = (ms: number) => {
    requeueAfterMs = requeueAfterMs === null ? ms : Math.min(requeueAfterMs, ms);
  };
  if (waitedForUnrecordedIds && recreatedLedger) {
    wake(
      Math.max(
        1,
        reclaimableAtMonoMs(recreatedLedger.sinceMonoMs, leaseDurationMs, reclaimGraceMs) - nowMonoMs,
      ),
    );
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
  const allocatableReplicas = Math.min(input.desiredReplicas, capacity);
  const exhausted = allocatableReplicas < input.desiredReplicas;
  if (waitingPods.length > 0 && requeueAfterMs !== null) {
    for (const waiting of waitingPods)
      waiting.message += `; a retiring id becomes reusable in about ${Math.ceil(requeueAfterMs / 1000)} s`;
  }

  const actions: PlanAction[] = [];
  if (ledgerReasons.length > 0 || input.ledger.resourceVersion === null) {
    actions.push({
      kind: "write-ledger",
      resourceVersion: input.ledger.resourceVersion,
      ledger: baseFloor ? { nextAssignment, baseFloor, entries } : { nextAssignment, entries },
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
    requeueAfterMs,
    observations: {
      leases: leaseObs,
      retiring: retiringObs,
      ...(recreatedLedger ? { recreatedLedger } : {}),
    },
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
