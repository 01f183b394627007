import { performance } from "node:perf_hooks";
import type { CoreV1Api, V1ConfigMap, V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import {
  idSpaceNameOf,
  parseFleetSpec,
  workerIdRangeOf,
  type IdGeneratorFleet,
} from "../../../contract/fleet-spec.ts";
import {
  EMPTY_LEDGER,
  LEASE_COMPONENT,
  LEDGER_COMPONENT,
  LeaseLabel,
  ledgerNameForIdSpace,
  parseLeaseData,
  parseLedgerData,
  serializeLeaseData,
  serializeLedgerData,
  type LeaseData,
  type Ledger,
} from "../../../contract/lease-record.ts";
import { layoutMath, tickAt, tickStartMs } from "../../../contract/id-layout-math.ts";
import type { FleetCaches } from "../kube/fleet-caches.ts";
import { fleetFenceTick, fleetHoldsWorkerIds } from "./fleet-release.ts";
import { describeError, isConflict, isNotFound } from "../kube/api-errors.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { fleetOwnerReference, MANAGED_BY } from "../reconcile/fleet-naming.ts";
import {
  EMPTY_OBSERVATIONS,
  planWorkerIds,
  type FleetPod,
  type ObservedLease,
  type ObservedLedger,
  type Observations,
  type Plan,
  type PlanAction,
} from "./worker-id-planner.ts";
import { workerIdAvailability } from "./worker-id-availability.ts";
import { forgetCapacityMetrics, recordCapacityMetrics } from "../metrics/capacity-metrics.ts";

/** What lease sync tells the reconcile (for sizing the StatefulSet, status and events). */
export interface LeaseSyncResult {
  plan: Plan;
  /** Parsed leases as last read (for the status roll-ups). */
  leases: LeaseData[];
  /** The id space's ledger as last read. */
  ledger: Ledger;
  /** Actions applied in this sync, one line each (for logs and events). */
  applied: string[];
  /** Why the last round stopped early, if it did (a 409 is normal: someone wrote first). */
  interrupted?: string;
}

// A plan that keeps failing is re-planned from fresh reads a few times per reconcile, then retried later.
const MAX_ROUNDS = 5;
// How often a deleting fleet is looked at while its worker ids are being taken back.
const DELETION_POLL_MS = 1000;

/**
 * The I/O side of worker-id allocation: reads pods from the informer cache and the
 * fleet's leases and its id space's ledger (cache first, the API after any write), asks
 * the pure planner for the next writes, and applies them in order, each conditioned on
 * the resourceVersion it was planned from. Only the leader calls this.
 */
export class LeaseSync {
  readonly #core: CoreV1Api;
  readonly #caches: FleetCaches;
  readonly #metrics: OperatorMetrics;
  readonly #isLeader: () => boolean;
  /** The planner's memory per fleet key; lost on restart, which only delays reuse. */
  readonly #observations = new Map<string, Observations>();
  /** When a deleting fleet was first seen without leases (operator memory; a restart only delays). */
  readonly #leasesGoneAt = new Map<string, number>();
  /** The highest tick a deleting fleet's holders may have issued, as far as seen (operator memory). */
  readonly #deletionFence = new Map<string, number>();

  constructor(core: CoreV1Api, caches: FleetCaches, metrics: OperatorMetrics, isLeader: () => boolean) {
    this.#core = core;
    this.#caches = caches;
    this.#metrics = metrics;
    this.#isLeader = isLeader;
  }

  /** Plans from `pods` (the fleet's pods) and applies until the plan is empty or a write fails. */
  async sync(fleet: IdGeneratorFleet, pods: readonly V1Pod[]): Promise<LeaseSyncResult> {
    const key = `${fleet.metadata.namespace}/${fleet.metadata.name}`;
    const applied: string[] = [];
    let snapshot = this.#fromCache(fleet);
    let plan = this.#plan(key, fleet, pods, snapshot);
    for (let round = 0; round < MAX_ROUNDS && plan.actions.length; round++) {
      if (!this.#isLeader()) return { ...readBack(snapshot), plan, applied, interrupted: "not the leader" };
      let failure: string | undefined;
      for (const action of plan.actions) {
        try {
          await this.#apply(fleet, snapshot, action);
          applied.push(describeAction(action));
        } catch (err) {
          failure = `${describeAction(action)}: ${describeError(err)}`;
          if (!isConflict(err) && !isNotFound(err)) throw new Error(failure, { cause: err });
          break;
        }
      }
      // The world moved (our writes, or someone else's that made ours fail): plan again from the API.
      snapshot = await this.#fromApi(fleet);
      plan = this.#plan(key, fleet, pods, snapshot);
      if (failure && round === MAX_ROUNDS - 1)
        return { ...readBack(snapshot), plan, applied, interrupted: failure };
    }
    const labels = { namespace: fleet.metadata.namespace, fleet: fleet.metadata.name };
    this.#metrics.leasesHeld.set(labels, plan.leasedWorkers);
    const ids = workerIdAvailability(workerIdRangeOf(fleet.spec), snapshot.ledger.ledger);
    this.#metrics.workerIdsAvailable.set(labels, ids.available);
    this.#metrics.workerIdsCapacity.set(labels, ids.capacity);
    recordCapacityMetrics(this.#metrics, labels, fleet, snapshot.ledger.ledger, Date.now());
    return { ...readBack(snapshot), plan, applied };
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
    const before = await this.#fromApi(fleet);
    // Remembered across calls: the planner frees entries (and their fleet) as it goes.
    const fence = Math.max(
      this.#deletionFence.get(key) ?? -1,
      fleetFenceTick(
        fleet.metadata.name,
        before.leases.map((l) => l.lease),
        before.ledger.ledger,
      ),
    );
    this.#deletionFence.set(key, fence);

    if (before.ledger.resourceVersion === null) {
      if (before.leases.length > 0) {
        await this.#revokeWithoutLedger(fleet, before);
        return DELETION_POLL_MS; // look again: gone, or renewed meanwhile (a higher fence)
      }
    } else {
      const taken = await this.sync({ ...fleet, spec: { ...fleet.spec, replicas: 0 } }, []);
      if (fleetHoldsWorkerIds(fleet.metadata.name, taken.leases, taken.ledger)) {
        return taken.plan.requeueAfterMs ?? DELETION_POLL_MS;
      }
    }
    // No lease is left, so no renewal can land any more: a holder reserved at most
    // reserveAheadMs (by a clock up to maxDrift ahead) past a renewal before this moment.
    const leasesGoneAt = this.#leasesGoneAt.get(key) ?? nowMs;
    this.#leasesGoneAt.set(key, leasesGoneAt);
    const math = layoutMath(fleet.spec.layout);
    const fenceEndsMs = Math.max(
      fence < 0 ? 0 : tickStartMs(math, fence + 1) + fleet.spec.clock.maxDriftMs,
      leasesGoneAt + fleet.spec.leases.reserveAheadMs + fleet.spec.clock.maxDriftMs,
    );
    if (nowMs < fenceEndsMs) return fenceEndsMs - nowMs;
    this.forget(fleet);
    return 0;
  }

  /** Deletes each lease conditioned on the version its reservation was read from; a lost race is retried. */
  async #revokeWithoutLedger(fleet: IdGeneratorFleet, snapshot: Snapshot): Promise<void> {
    for (const { configMapName, resourceVersion, lease } of snapshot.leases) {
      try {
        await this.#apply(fleet, snapshot, {
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
    const nowMs = Date.now();
    // A ledger recreated after a loss starts past any reservation a holder may have written:
    // reserveAhead from the holder's clock, which may be ahead of ours by maxDrift. A new id
    // space had no holders (and one whose fleets were all deleted waited out their fences).
    const newLedgerBaseFloor =
      snapshot.ledger.resourceVersion === null && this.#idSpaceHadHolders(fleet)
        ? tickAt(layoutMath(spec.layout), nowMs + spec.leases.reserveAheadMs + spec.clock.maxDriftMs) + 1
        : undefined;
    const plan = planWorkerIds({
      fleet: fleet.metadata.name,
      idSpace: idSpaceNameOf(fleet.metadata.name, spec),
      range: workerIdRangeOf(spec),
      desiredReplicas: spec.replicas,
      pods: pods.flatMap(toFleetPod),
      leases: snapshot.leases,
      otherFleetsLeases: snapshot.otherFleetsLeases,
      malformedLeaseNames: snapshot.malformed,
      ledger: snapshot.ledger,
      observations: this.#observations.get(key) ?? EMPTY_OBSERVATIONS,
      nowMonoMs: performance.now(),
      nowWall: new Date(nowMs).toISOString(),
      newLedgerBaseFloor,
      newLedgerFirstAssignment: nowMs,
      leaseDurationMs: spec.leases.durationSeconds * 1000,
      reclaimGraceMs: spec.leases.reclaimGraceSeconds * 1000,
    });
    this.#observations.set(key, plan.observations);
    return plan;
  }

  /**
   * Whether a fleet of this fleet's id space (same namespace) has reported status: its first
   * reconcile creates the ledger before it writes status, so a ledger missing after that was lost.
   */
  #idSpaceHadHolders(fleet: IdGeneratorFleet): boolean {
    const { namespace, name } = fleet.metadata;
    const idSpace = idSpaceNameOf(name, fleet.spec);
    return this.#caches.fleets.list(namespace).some((raw) => {
      if (raw.status?.observedGeneration === undefined) return false;
      try {
        return idSpaceNameOf(raw.metadata?.name ?? "", parseFleetSpec(raw.spec)) === idSpace;
      } catch {
        return false;
      }
    });
  }

  #fromCache(fleet: IdGeneratorFleet): Snapshot {
    const { namespace, name } = fleet.metadata;
    const idSpace = idSpaceNameOf(name, fleet.spec);
    const leaseMaps = this.#caches.configMaps.list(namespace).filter((cm) => isLeaseIn(cm, idSpace));
    const ledgerMap = this.#caches.configMaps.get(ledgerNameForIdSpace(idSpace), namespace);
    return toSnapshot(name, leaseMaps, ledgerMap);
  }

  async #fromApi(fleet: IdGeneratorFleet): Promise<Snapshot> {
    const { namespace, name } = fleet.metadata;
    const idSpace = idSpaceNameOf(name, fleet.spec);
    // Every lease of the id space: the fleet's own, and other fleets' (their ids are not claimable).
    const list = await this.#core.listNamespacedConfigMap({
      namespace,
      labelSelector: `${LeaseLabel.idSpace}=${idSpace},${LeaseLabel.component}=${LEASE_COMPONENT}`,
    });
    let ledger: V1ConfigMap | undefined;
    try {
      ledger = await this.#core.readNamespacedConfigMap({ namespace, name: ledgerNameForIdSpace(idSpace) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return toSnapshot(name, list.items, ledger);
  }

  async #apply(fleet: IdGeneratorFleet, snapshot: Snapshot, action: PlanAction): Promise<void> {
    const { namespace } = fleet.metadata;
    const idSpace = idSpaceNameOf(fleet.metadata.name, fleet.spec);
    const count = (verb: string) => this.#metrics.apiWrites.inc({ kind: "ConfigMap", verb });
    switch (action.kind) {
      case "write-ledger": {
        const name = ledgerNameForIdSpace(idSpace);
        const body: V1ConfigMap = {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name,
            namespace,
            labels: {
              [LeaseLabel.idSpace]: idSpace,
              [LeaseLabel.component]: LEDGER_COMPONENT,
              [LeaseLabel.managedBy]: MANAGED_BY,
            },
            // Every fleet of the id space owns the ledger, so it goes only with the last of them.
            ownerReferences: mergeOwners(snapshot.ledgerOwners, {
              ...fleetOwnerReference(fleet),
              controller: false,
              blockOwnerDeletion: false,
            }),
            ...(action.resourceVersion === null ? {} : { resourceVersion: action.resourceVersion }),
          },
          data: serializeLedgerData(action.ledger),
        };
        if (action.resourceVersion === null) {
          await this.#core.createNamespacedConfigMap({ namespace, body });
          count("create");
        } else {
          await this.#core.replaceNamespacedConfigMap({ namespace, name, body });
          count("replace");
        }
        return;
      }
      case "create-lease":
      case "replace-lease": {
        const body: V1ConfigMap = {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: action.configMapName,
            namespace,
            labels: {
              [LeaseLabel.fleet]: fleet.metadata.name,
              [LeaseLabel.workerId]: String(action.lease.workerId),
              [LeaseLabel.idSpace]: idSpace,
              [LeaseLabel.component]: LEASE_COMPONENT,
              [LeaseLabel.managedBy]: MANAGED_BY,
            },
            ownerReferences: [fleetOwnerReference(fleet)],
            ...(action.kind === "replace-lease" ? { resourceVersion: action.resourceVersion } : {}),
          },
          data: serializeLeaseData(action.lease),
        };
        if (action.kind === "create-lease") {
          await this.#core.createNamespacedConfigMap({ namespace, body });
          count("create");
        } else {
          await this.#core.replaceNamespacedConfigMap({ namespace, name: action.configMapName, body });
          count("replace");
        }
        return;
      }
      case "delete-lease":
        await this.#core.deleteNamespacedConfigMap({
          namespace,
          name: action.configMapName,
          body: { preconditions: { resourceVersion: action.resourceVersion } },
        });
        count("delete");
        return;
    }
  }
}

interface Snapshot {
  /** The fleet's own leases. */
  leases: ObservedLease[];
  /** Leases of other fleets in the id space. */
  otherFleetsLeases: ObservedLease[];
  malformed: string[];
  ledger: ObservedLedger;
  /** Owner references of the ledger as read with that resourceVersion (kept on replace). */
  ledgerOwners: V1OwnerReference[];
}

function readBack(snapshot: Snapshot): Pick<LeaseSyncResult, "leases" | "ledger"> {
  return { leases: snapshot.leases.map((l) => l.lease), ledger: snapshot.ledger.ledger };
}

/** Parses what was read; `leaseMaps` are the id space's leases, split into the fleet's own and the others'. */
function toSnapshot(
  fleetName: string,
  leaseMaps: readonly V1ConfigMap[],
  ledgerMap: V1ConfigMap | undefined,
): Snapshot {
  const leases: ObservedLease[] = [];
  const otherFleetsLeases: ObservedLease[] = [];
  const malformed: string[] = [];
  for (const cm of leaseMaps) {
    const name = cm.metadata?.name ?? "";
    const own = cm.metadata?.labels?.[LeaseLabel.fleet] === fleetName;
    try {
      const observed = {
        configMapName: name,
        resourceVersion: cm.metadata?.resourceVersion ?? "",
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
    ? { resourceVersion: ledgerMap.metadata?.resourceVersion ?? "", ledger: parseLedgerData(ledgerMap.data) }
    : { resourceVersion: null, ledger: EMPTY_LEDGER };
  return {
    leases,
    otherFleetsLeases,
    malformed,
    ledger,
    ledgerOwners: ledgerMap?.metadata?.ownerReferences ?? [],
  };
}

function isLeaseIn(cm: V1ConfigMap, idSpace: string): boolean {
  const labels = cm.metadata?.labels ?? {};
  return labels[LeaseLabel.idSpace] === idSpace && labels[LeaseLabel.component] === LEASE_COMPONENT;
}

function toFleetPod(pod: V1Pod): FleetPod[] {
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  const ordinal = Number(/-(\d+)$/.exec(name ?? "")?.[1] ?? NaN);
  if (!name || !uid || !Number.isInteger(ordinal)) return [];
  return [{ name, uid, ordinal, terminating: Boolean(pod.metadata?.deletionTimestamp) }];
}

function mergeOwners(
  existing: readonly V1OwnerReference[] | undefined,
  add: V1OwnerReference,
): V1OwnerReference[] {
  const others = (existing ?? []).filter((r) => r.uid !== add.uid);
  return [...others, add];
}

function describeAction(action: PlanAction): string {
  switch (action.kind) {
    case "write-ledger":
      return `ledger: ${action.reasons.join(", ") || "created"}`;
    case "create-lease":
    case "replace-lease":
      return `${action.configMapName}: ${action.reason}`;
    case "delete-lease":
      return `deleted ${action.configMapName}: ${action.reason}`;
  }
}
