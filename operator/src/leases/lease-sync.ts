import { clockReferenceOf, clockToleranceMs } from "../../../contract/server-time.ts";
import { performance } from "node:perf_hooks";
import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { idSpaceNameOf, workerIdRangeOf, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import {
  EMPTY_LEDGER,
  LeaseLabel,
  fleetKey,
  parseLeaseData,
  parseLedgerData,
} from "../../../contract/lease-record.ts";
import { layoutMath, tickAt, tickStartMs } from "../../../contract/id-layout-math.ts";
import { sameSpaceLayout, spaceLayoutOf, type SpaceLayout } from "../../../contract/id-space-layout.ts";
import { fleetFenceTick, fleetHoldsWorkerIds } from "./fleet-release.ts";
import { describeError, isConflict, isNotFound } from "../kube/api-errors.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { ledgerWentBack, maxHighs, type LedgerHighs } from "./ledger-rollback.ts";
import type { IdSpaceObjects, LeaseStore, LeaseSyncClock } from "./lease-store.ts";
import {
  EMPTY_OBSERVATIONS,
  planWorkerIds,
  type FleetPod,
  type ObservedLease,
  type ObservedLedger,
  type Observations,
  type Plan,
  type PlanAction,
  type PlannerInput,
} from "./worker-id-planner.ts";
import { workerIdAvailability } from "./worker-id-availability.ts";
import { leaseSyncReport, type LeaseSyncReport } from "./lease-sync-report.ts";
import { forgetCapacityMetrics, recordCapacityMetrics } from "../metrics/capacity-metrics.ts";

/** One sync's outcome inside lease sync: the last plan and the reads it came from. */
interface SyncOutcome {
  plan: Plan;
  snapshot: Snapshot;
  /** Actions applied in this sync, one line each (for logs and events). */
  applied: string[];
  /** Why the last round stopped early, if it did (a 409 is normal: someone wrote first). */
  interrupted?: string;
}

// A plan that keeps failing is re-planned from fresh reads a few times per reconcile, then retried later.
const MAX_ROUNDS = 5;
// How often a deleting fleet is looked at while its worker ids are being taken back.
const DELETION_POLL_MS = 1000;

/** What LeaseSync works with besides its store. */
export interface LeaseSyncOptions {
  metrics: Pick<
    OperatorMetrics,
    | "leasesHeld"
    | "workerIdsAvailable"
    | "workerIdsCapacity"
    | "ledgerRollbacks"
    | "workerIdsReachable"
    | "replicasMax"
    | "layoutExhaustion"
  >;
  isLeader: () => boolean;
  clock?: LeaseSyncClock;
  /** The allocation decision; the simulation wraps it to prove its checks catch broken rules. */
  planner?: (input: PlannerInput) => Plan;
}

const systemClock: LeaseSyncClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

/**
 * The I/O side of worker-id allocation: reads the leases of the fleet's id space (in every
 * namespace) and its ledger through a LeaseStore (cache first, the API after any write), asks
 * the pure planner for the next writes, and applies them in order, each conditioned on the
 * resourceVersion it was planned from. Only the leader calls this.
 */
export class LeaseSync {
  readonly #store: LeaseStore;
  readonly #metrics: LeaseSyncOptions["metrics"];
  readonly #isLeader: () => boolean;
  readonly #clock: LeaseSyncClock;
  readonly #planner: (input: PlannerInput) => Plan;
  /** The planner's memory per fleet key; lost on restart, which only delays reuse. */
  readonly #observations = new Map<string, Observations>();
  /** When a deleting fleet was first seen without leases (operator memory; a restart only delays). */
  readonly #leasesGoneAt = new Map<string, number>();
  /** The highest tick a deleting fleet's holders may have issued, as far as seen (operator memory). */
  readonly #deletionFence = new Map<string, number>();
  /** Ledgers (by uid) this process created for new id spaces: it knows their whole past. */
  readonly #vouchedLedgers = new Set<string>();
  /** The layout and base floor last read from each id space's ledger: after a loss, what it had. */
  readonly #lastLayoutSeen = new Map<string, { layout: SpaceLayout; baseFloor: number }>();
  /** The highest nextAssignment and resourceVersion seen per id space's ledger (a restore goes below them). */
  readonly #ledgerHighs = new Map<string, LedgerHighs>();

  constructor(store: LeaseStore, options: LeaseSyncOptions) {
    this.#store = store;
    this.#metrics = options.metrics;
    this.#isLeader = options.isLeader;
    this.#clock = options.clock ?? systemClock;
    this.#planner = options.planner ?? planWorkerIds;
  }

  /** Plans from `pods` (the fleet's pods) and applies until the plan is empty or a write fails. */
  async sync(fleet: IdGeneratorFleet, pods: readonly V1Pod[]): Promise<LeaseSyncReport> {
    const { plan, snapshot, applied, interrupted } = await this.#sync(fleet, pods);
    return leaseSyncReport(plan, {
      leases: snapshot.leases.map((l) => l.lease),
      ledger: snapshot.ledger.ledger,
      applied,
      interrupted,
    });
  }

  /** The sync itself; deletion reads the ledger and leases it ends with, the reconcile only the report. */
  async #sync(fleet: IdGeneratorFleet, pods: readonly V1Pod[]): Promise<SyncOutcome> {
    const key = `${fleet.metadata.namespace}/${fleet.metadata.name}`;
    const applied: string[] = [];
    // The ledger may live in a namespace the caches do not watch: then read it all from the API.
    const cached = this.#store.cached(fleet);
    let snapshot = toSnapshot(fleet, cached ?? (await this.#store.read(fleet)));
    let plan = this.#plan(key, fleet, pods, snapshot);
    for (let round = 0; round < MAX_ROUNDS && plan.actions.length; round++) {
      if (!this.#isLeader()) return { snapshot, plan, applied, interrupted: "not the leader" };
      let failure: string | undefined;
      for (const action of plan.actions) {
        try {
          await this.#apply(fleet, action, snapshot.ledger.uid);
          if (!isBookkeeping(action)) applied.push(describeAction(action));
        } catch (err) {
          failure = `${describeAction(action)}: ${describeError(err)}`;
          if (!isConflict(err) && !isNotFound(err)) throw new Error(failure, { cause: err });
          break;
        }
      }
      // The world moved (our writes, or someone else's that made ours fail): plan again from the API.
      snapshot = toSnapshot(fleet, await this.#store.read(fleet));
      plan = this.#plan(key, fleet, pods, snapshot);
      if (failure && round === MAX_ROUNDS - 1) return { snapshot, plan, applied, interrupted: failure };
    }
    const labels = { namespace: fleet.metadata.namespace, fleet: fleet.metadata.name };
    this.#metrics.leasesHeld.set(labels, plan.leasedWorkers);
    const ids = workerIdAvailability(workerIdRangeOf(fleet.spec), snapshot.ledger.ledger);
    this.#metrics.workerIdsAvailable.set(labels, ids.available);
    this.#metrics.workerIdsCapacity.set(labels, ids.capacity);
    recordCapacityMetrics(this.#metrics, labels, fleet, snapshot.ledger.ledger, this.#clock.wallMs());
    return { snapshot, plan, applied };
  }

  /**
   * Deletion, once the fleet's pods are gone. First its worker ids are taken back exactly
   * as a scale-down to zero does (the planner: each lease retired in the ledger with its
   * `reservedUntil`, then deleted with its resourceVersion as precondition, so a holder
   * still running somewhere, e.g. a force-deleted pod on a partitioned node, can never
   * renew it again; retiring ids freed after lease duration + grace of quiet). Without a
   * ledger (deleted with its namespace, which then forbids creating one, or by hand) the
   * leases are deleted the same conditional way, with nothing to free. Then the current
   * time must be past the highest tick any holder may have reserved (plus the allowed
   * drift), so a fleet recreated in a new ledger cannot go back in time. Returns how long
   * to wait before calling again, or 0 when the finalizer can go.
   */
  async releaseFleet(fleet: IdGeneratorFleet, nowMs: number): Promise<number> {
    const key = `${fleet.metadata.namespace}/${fleet.metadata.name}`;
    const before = toSnapshot(fleet, await this.#store.read(fleet));
    // Remembered across calls: the planner frees entries (and their fleet) as it goes.
    const fence = Math.max(
      this.#deletionFence.get(key) ?? -1,
      fleetFenceTick(
        fleetKey(fleet.metadata.namespace, fleet.metadata.name),
        before.leases.map((l) => l.lease),
        before.ledger.ledger,
      ),
    );
    this.#deletionFence.set(key, fence);

    // A lost ledger is recreated first, as a scale-down to zero would: it is the space's memory
    // of its layout and high-water mark, which must outlive this fleet (a successor of another
    // layout may be waiting for it to go). Without it, or where it may not be created, the
    // leases are revoked without one.
    let ledgerMissing = before.ledger.resourceVersion === null;
    if (ledgerMissing && this.#store.idSpaceHadHolders(fleet)) {
      const created = await this.#sync({ ...fleet, spec: { ...fleet.spec, replicas: 0 } }, []).catch(
        () => undefined,
      );
      ledgerMissing = created === undefined || created.snapshot.ledger.resourceVersion === null;
    }
    if (ledgerMissing) {
      if (before.leases.length > 0) {
        await this.#revokeWithoutLedger(fleet, before);
        return DELETION_POLL_MS; // look again: gone, or renewed meanwhile (a higher fence)
      }
    } else {
      const taken = await this.#sync({ ...fleet, spec: { ...fleet.spec, replicas: 0 } }, []);
      if (
        fleetHoldsWorkerIds(
          fleetKey(fleet.metadata.namespace, fleet.metadata.name),
          taken.snapshot.leases.map((l) => l.lease),
          taken.snapshot.ledger.ledger,
        )
      ) {
        return taken.plan.requeueAfterMs ?? DELETION_POLL_MS;
      }
    }
    // No lease is left, so no renewal can land any more: a holder reserved at most
    // reserveAheadMs (by a clock up to the tolerance ahead) past a renewal before this moment.
    const leasesGoneAt = this.#leasesGoneAt.get(key) ?? nowMs;
    this.#leasesGoneAt.set(key, leasesGoneAt);
    const math = layoutMath(fleet.spec.layout);
    const toleranceMs = clockToleranceOf(fleet.spec);
    const fenceEndsMs = Math.max(
      fence < 0 ? 0 : tickStartMs(math, fence + 1) + toleranceMs,
      leasesGoneAt + fleet.spec.leases.reserveAheadMs + toleranceMs,
    );
    if (nowMs < fenceEndsMs) return fenceEndsMs - nowMs;
    this.forget(fleet);
    return 0;
  }

  /** Deletes each lease conditioned on the version its reservation was read from; a lost race is retried. */
  async #revokeWithoutLedger(fleet: IdGeneratorFleet, snapshot: Snapshot): Promise<void> {
    for (const { configMapName, resourceVersion, lease } of snapshot.leases) {
      try {
        await this.#apply(fleet, {
          kind: "delete-lease",
          configMapName,
          resourceVersion,
          reason: `fleet deleted without a ledger: worker id ${lease.workerId} taken back from ${lease.holderPod}`,
        });
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  }

  /** Forgets a deleted fleet's observations. */
  forget(fleet: IdGeneratorFleet): void {
    this.#observations.delete(`${fleet.metadata.namespace}/${fleet.metadata.name}`);
    this.#leasesGoneAt.delete(`${fleet.metadata.namespace}/${fleet.metadata.name}`);
    this.#deletionFence.delete(`${fleet.metadata.namespace}/${fleet.metadata.name}`);
    const labels = { namespace: fleet.metadata.namespace, fleet: fleet.metadata.name };
    this.#metrics.leasesHeld.remove(labels);
    this.#metrics.workerIdsAvailable.remove(labels);
    this.#metrics.workerIdsCapacity.remove(labels);
    forgetCapacityMetrics(this.#metrics, labels);
  }

  #plan(key: string, fleet: IdGeneratorFleet, pods: readonly V1Pod[], snapshot: Snapshot): Plan {
    const { spec } = fleet;
    const nowMs = this.#clock.wallMs();
    const math = layoutMath(spec.layout);
    // A holder may have issued up to its clock (ahead of true time by up to the tolerance, held
    // a little longer by a backward step) and reserved reserveAhead past it; our clock is not
    // behind the reference (ApiServerClock in the operator).
    const lostStateMarginMs =
      spec.leases.reserveAheadMs + clockToleranceOf(spec) + spec.clock.maxBackwardWaitMs;
    const idSpace = idSpaceNameOf(fleet.metadata.name, spec);
    const readLayout = snapshot.ledger.ledger.layout;
    if (readLayout)
      this.#lastLayoutSeen.set(idSpace, {
        layout: readLayout,
        baseFloor: snapshot.ledger.ledger.baseFloor ?? 0,
      });
    const lastSeen = this.#lastLayoutSeen.get(idSpace);
    // A ledger recreated after a loss starts past any reservation a holder may have written,
    // past the base floor this process last read from it in this layout and past every floor
    // the fleet's own leases carry: a succession's floor lies in the future and bounds the old
    // layout's IDs, which no clock of ours does. A new id space had no holders (and one whose
    // fleets were all deleted kept its ledger).
    const newLedgerBaseFloor =
      snapshot.ledger.resourceVersion === null && this.#store.idSpaceHadHolders(fleet)
        ? Math.max(
            tickAt(math, nowMs + lostStateMarginMs) + 1,
            lastSeen && sameSpaceLayout(lastSeen.layout, spaceLayoutOf(spec.layout)) ? lastSeen.baseFloor : 0,
            // The fleet's own leases carry their floors (after a restart, the only record of one).
            ...snapshot.leases.map((l) => Math.max(l.lease.handoverAfter, l.lease.reservedUntil)),
          )
        : undefined;
    const uid = snapshot.ledger.uid;
    if (uid !== undefined && this.#noteLedger(idSpace, snapshot)) {
      // An etcd restore (or a hand edit) took the ledger back: trust none of it any more.
      this.#vouchedLedgers.delete(uid);
      for (const [k, o] of this.#observations) {
        if (o.ledgerSight?.uid === uid) this.#observations.set(k, { ...o, ledgerSight: undefined });
      }
      this.#metrics.ledgerRollbacks.inc({ idSpace });
    }
    const plan = this.#planner({
      fleet: fleetKey(fleet.metadata.namespace, fleet.metadata.name),
      idSpace,
      layout: spaceLayoutOf(spec.layout),
      layoutSuccession: spec.idSpace?.layoutSuccession === true,
      range: workerIdRangeOf(spec),
      desiredReplicas: spec.replicas,
      pods: pods.flatMap(toFleetPod),
      leases: snapshot.leases,
      otherFleetsLeases: snapshot.otherFleetsLeases,
      malformedLeaseNames: snapshot.malformed,
      ledger: snapshot.ledger,
      ledgerCreatedHere: uid !== undefined && this.#vouchedLedgers.has(uid),
      observations: this.#observations.get(key) ?? EMPTY_OBSERVATIONS,
      nowMonoMs: this.#clock.monoMs(),
      nowWall: new Date(nowMs).toISOString(),
      nowMs,
      lostStateMarginMs,
      reservationRecord: {
        rewriteAfterTicks: Math.max(
          0,
          Math.floor(
            (spec.leases.reserveAheadMs - spec.leases.renewIntervalSeconds * 1000) / spec.layout.timeUnitMs,
          ),
        ),
        lagTicks: Math.ceil(spec.leases.reserveAheadMs / spec.layout.timeUnitMs),
      },
      newLedgerBaseFloor,
      ...(newLedgerBaseFloor === undefined
        ? {}
        : {
            ...(lastSeen ? { lastSeenLayout: lastSeen.layout } : {}),
            otherFleets: this.#store.otherFleetsOfIdSpace(fleet).map((f) => ({
              layout: f.layout,
              layoutSuccession: f.layoutSuccession,
              holdsLeases: snapshot.otherLeaseFleets.has(f.key),
            })),
          }),
      leaseDurationMs: spec.leases.durationSeconds * 1000,
      reclaimGraceMs: spec.leases.reclaimGraceSeconds * 1000,
    });
    this.#observations.set(key, plan.observations);
    return plan;
  }

  /**
   * Remembers how far the id space's ledger has got; true when it went back (a restore). Kept
   * per id space, not per ledger uid: a restore can bring back a ledger deleted since, with the
   * very version this process last saw of it, while the one that replaced it went further.
   */
  #noteLedger(idSpace: string, snapshot: Snapshot): boolean {
    return this.#noteLedgerVersion(idSpace, {
      nextAssignment: snapshot.ledger.ledger.nextAssignment,
      resourceVersion: snapshot.ledger.resourceVersion ?? "0",
    });
  }

  #noteLedgerVersion(idSpace: string, seen: LedgerHighs): boolean {
    const highs = this.#ledgerHighs.get(idSpace);
    const wentBack = highs !== undefined && ledgerWentBack(highs, seen);
    this.#ledgerHighs.set(idSpace, wentBack || !highs ? seen : maxHighs(highs, seen));
    return wentBack;
  }

  /** Applies one write through the store; a ledger it creates for a new id space is vouched for. */
  async #apply(fleet: IdGeneratorFleet, action: PlanAction, ledgerUid?: string): Promise<void> {
    const { createdUid, resourceVersion } = await this.#store.apply(fleet, action);
    if (action.kind !== "write-ledger") return;
    // A new id space's ledger has no past this process did not see; a recreated one has.
    if (createdUid && !action.ledger.baseFloor) this.#vouchedLedgers.add(createdUid);
    // What we wrote counts as seen: a restore to the version before it is a rollback even if
    // no read ever returned our write.
    if ((createdUid ?? ledgerUid) && resourceVersion) {
      this.#noteLedgerVersion(idSpaceNameOf(fleet.metadata.name, fleet.spec), {
        nextAssignment: action.ledger.nextAssignment,
        resourceVersion,
      });
    }
  }
}

interface Snapshot {
  /** The fleet's own leases. */
  leases: ObservedLease[];
  /** Leases of other fleets in the id space (any namespace). */
  otherFleetsLeases: ObservedLease[];
  malformed: string[];
  ledger: ObservedLedger;
  /** The fleets (namespace/name) the other leases belong to. */
  otherLeaseFleets: ReadonlySet<string>;
}

/**
 * Parses what was read; `leaseMaps` are the id space's leases, split into the fleet's own
 * (its namespace and fleet label) and the others'.
 */
function toSnapshot(fleet: IdGeneratorFleet, objects: IdSpaceObjects): Snapshot {
  const { namespace, name: fleetName } = fleet.metadata;
  const { leases: leaseMaps, ledger: ledgerMap } = objects;
  const leases: ObservedLease[] = [];
  const otherFleetsLeases: ObservedLease[] = [];
  const malformed: string[] = [];
  const otherLeaseFleets = new Set<string>();
  for (const cm of leaseMaps) {
    const name = cm.metadata?.name ?? "";
    const own = cm.metadata?.namespace === namespace && cm.metadata?.labels?.[LeaseLabel.fleet] === fleetName;
    if (!own)
      otherLeaseFleets.add(
        fleetKey(cm.metadata?.namespace ?? "", cm.metadata?.labels?.[LeaseLabel.fleet] ?? ""),
      );
    try {
      const observed = {
        configMapName: name,
        resourceVersion: resourceVersionOf(cm),
        lease: parseLeaseData(cm.data),
      };
      (own ? leases : otherFleetsLeases).push(observed);
    } catch {
      // Another fleet's malformed lease is that fleet's to report.
      if (own) malformed.push(name);
    }
  }
  // A malformed ledger is not guessed at: the parse error stops the reconcile and is reported.
  const ledger: ObservedLedger = ledgerMap
    ? {
        resourceVersion: resourceVersionOf(ledgerMap),
        ...(ledgerMap.metadata?.uid ? { uid: ledgerMap.metadata.uid } : {}),
        ledger: parseLedgerData(ledgerMap.data),
      }
    : { resourceVersion: null, ledger: EMPTY_LEDGER };
  return { leases, otherFleetsLeases, malformed, ledger, otherLeaseFleets };
}

/** A stored object always has a resourceVersion; without one, a "conditional" write would be unconditional. */
function resourceVersionOf(cm: V1ConfigMap): string {
  const rv = cm.metadata?.resourceVersion;
  if (!rv) throw new Error(`ConfigMap ${cm.metadata?.namespace}/${cm.metadata?.name} has no resourceVersion`);
  return rv;
}

function toFleetPod(pod: V1Pod): FleetPod[] {
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  const ordinal = Number(/-(\d+)$/.exec(name ?? "")?.[1] ?? NaN);
  if (!name || !uid || !Number.isInteger(ordinal)) return [];
  return [{ name, uid, ordinal, terminating: Boolean(pod.metadata?.deletionTimestamp) }];
}

function describeAction(action: PlanAction): string {
  switch (action.kind) {
    case "write-ledger":
      if (action.resourceVersion === null) return `ledger: created${listed(action.reasons)}`;
      return `ledger: ${action.reasons.join(", ") || "reservations seen recorded"}`;
    case "create-lease":
    case "replace-lease":
      return `${action.configMapName}: ${action.reason}`;
    case "delete-lease":
      return `deleted ${action.configMapName}: ${action.reason}`;
  }
}

/** A ledger write only noting what renewals were seen: logs and events stay about real changes. */
function isBookkeeping(action: PlanAction): boolean {
  return action.kind === "write-ledger" && action.resourceVersion !== null && action.reasons.length === 0;
}

function listed(reasons: readonly string[]): string {
  return reasons.length > 0 ? `; ${reasons.join(", ")}` : "";
}

/** How far a healthy holder's clock may be off: NTP-checked, or checked against the API server. */
function clockToleranceOf(spec: IdGeneratorFleet["spec"]): number {
  return clockToleranceMs(spec.clock.maxDriftMs, clockReferenceOf(spec.clock.ntpServers));
}
