import type { V1Pod } from "@kubernetes/client-node";
import { parseFleetSpec, type IdGeneratorFleet } from "../../contract/fleet-spec.ts";
import type { Ledger, LedgerEntry } from "../../contract/lease-record.ts";
import { ApiServerClock } from "../../operator/src/clock/api-server-clock.ts";
import { createOperatorMetrics } from "../../operator/src/metrics/operator-metrics.ts";
import { LeaseSync } from "../../operator/src/leases/lease-sync.ts";
import {
  planWorkerIds,
  type FleetPod,
  type Plan,
  type PlanAction,
  type PlannerInput,
} from "../../operator/src/leases/worker-id-planner.ts";
import type { LinkState, SimApiServer } from "./sim-api-server.ts";
import type { Random, SimProcess } from "./sim-kernel.ts";
import type { SimLayout } from "./sim-layouts.ts";
import { simLeaseStore } from "./sim-lease-store.ts";

/** Deliberate protocol breaks on the operator side (wrapped around the real planner). */
export interface OperatorMutation {
  /** Reuse retiring ids without waiting lease duration + grace. */
  reclaimWithoutWaiting?: boolean;
  /** Hand ids over without the previous holder's reservation (floors written as 0). */
  forgetFloors?: boolean;
  /**
   * Re-issue a claim whose lease was lost with the floor the claim was made with (what the
   * planner did before leases could be lost without losing their reservation).
   */
  forgetLostLeaseReservations?: boolean;
  /** Plan as if the fleet's layout were the one the id space's ledger records (no layout check). */
  ignoreLayout?: boolean;
  /** A layout succession starts at once instead of above the space's high-water mark. */
  successorBelowMark?: boolean;
  /**
   * Any fleet recreates a lost ledger in its own layout (the rule before the simulation found
   * that a fleet refused for its layout then takes the space over).
   */
  recreateLostLedgerInAnyLayout?: boolean;
}

/** What a simulated operator manages. */
export interface SimFleetSpec {
  namespace: string;
  fleet: string;
  /** metadata.uid: a fleet deleted and created again under the same name is another object. */
  uid: string;
  layout: SimLayout;
  /** spec.idSpace.layoutSuccession. */
  layoutSuccession: boolean;
  idSpace: string;
  range: { min: number; max: number };
  /** Lease timing as the fleet spec states it (whole seconds, as the CRD has them). */
  leases: {
    durationSeconds: number;
    renewIntervalSeconds: number;
    reclaimGraceSeconds: number;
    safetyMarginSeconds: number;
    reserveAheadMs: number;
  };
  /** spec.clock.maxDriftMs: how far apart the simulated wall clocks may be. */
  maxDriftMs: number;
  reconcileEveryMs: number;
}

/**
 * One operator process (the leader, or a deposed leader finishing its pass): the real
 * LeaseSync, with the simulated network as its store and the process's simulated clocks.
 * Reconciling a fleet is one `sync`, exactly as the reconcile does; one SimOperator per
 * fleet shares the process's LeaseSync, as the fleets of one operator do.
 */
export class SimOperator {
  /** A deposed leader finishes the pass it is in and then stops. */
  deposed = false;
  readonly proc: SimProcess;
  readonly link: LinkState;
  private readonly random: Random;
  private readonly spec: SimFleetSpec;
  private readonly leaseSync: LeaseSync;
  private readonly podsNow: () => FleetPod[];
  private readonly desired: () => number;
  private readonly sizeStatefulSet: (replicas: number) => void;
  private readonly deleting: () => boolean;
  private readonly gone: () => boolean;
  private readonly finalized: () => void;
  passes = 0;

  constructor(
    proc: SimProcess,
    link: LinkState,
    leaseSync: LeaseSync,
    random: Random,
    spec: SimFleetSpec,
    world: SimFleetWorld,
  ) {
    this.proc = proc;
    this.link = link;
    this.leaseSync = leaseSync;
    this.random = random;
    this.spec = spec;
    this.podsNow = world.pods;
    this.desired = world.desired;
    this.sizeStatefulSet = world.sizeStatefulSet;
    this.deleting = world.deleting;
    this.gone = world.gone;
    this.finalized = world.finalized;
  }

  /** Key of the id space's ledger in the simulated API server. */
  get ledgerName(): string {
    return `ledger/${this.spec.idSpace}-worker-ids`;
  }

  start(): void {
    this.proc.timer(0, () => this.pass());
  }

  private next(delay: number): void {
    if (this.deposed) return;
    this.proc.timer(delay, () => this.pass());
  }

  private pass(): void {
    if (this.deposed || this.gone()) return;
    this.passes++;
    // Pods come from an informer-like read: a snapshot that is already a little old when used.
    const pods = this.podsNow().map(toPod);
    const fleet = this.fleet();
    if (this.deleting()) {
      this.proc.timer(this.random.int(1, 30), () => this.finalizeDeletion(fleet, pods.length));
      return;
    }
    this.proc.timer(this.random.int(1, 30), () => {
      this.leaseSync.sync(fleet, pods).then(
        (report) => {
          this.sizeStatefulSet(report.allocatableReplicas);
          const wake =
            report.requeueAfterMs === null
              ? this.spec.reconcileEveryMs
              : Math.min(report.requeueAfterMs, this.spec.reconcileEveryMs);
          this.next(wake);
        },
        // An API error or timeout: the reconcile is retried later, as the work queue does.
        () => this.next(this.spec.reconcileEveryMs),
      );
    });
  }

  /**
   * The finalizer, as reconcile-fleet.ts runs it: the StatefulSet to zero while the (cached)
   * pod list shows pods, then LeaseSync.releaseFleet until it answers 0, then the finalizer goes.
   */
  private finalizeDeletion(fleet: IdGeneratorFleet, podCount: number): void {
    if (podCount > 0) {
      this.sizeStatefulSet(0);
      this.next(1000);
      return;
    }
    this.leaseSync.releaseFleet(fleet, this.proc.wallMs()).then(
      (waitMs) => {
        if (waitMs > 0) this.next(Math.max(100, waitMs));
        else if (!this.deposed) this.finalized();
      },
      () => this.next(this.spec.reconcileEveryMs),
    );
  }

  private fleet(): IdGeneratorFleet {
    const s = this.spec;
    return {
      apiVersion: "idfleet.dev/v1alpha1",
      kind: "IdGeneratorFleet",
      metadata: {
        name: s.fleet,
        namespace: s.namespace,
        uid: s.uid,
        generation: 1,
        ...(this.deleting() ? { deletionTimestamp: new Date(0) } : {}),
      },
      spec: parseFleetSpec({
        // The API server refuses more replicas than the range has ids (a CEL rule).
        replicas: Math.min(this.desired(), s.range.max - s.range.min + 1),
        layout: s.layout.math.layout,
        idSpace: { name: s.idSpace, workerIdRange: s.range, layoutSuccession: s.layoutSuccession },
        leases: s.leases,
        clock: { maxDriftMs: s.maxDriftMs },
      }),
    };
  }
}

/** What a simulated operator sees of and does to the world, per fleet. */
export interface SimFleetWorld {
  /** The fleet's pods as the operator's informer shows them (possibly some seconds old). */
  pods: () => FleetPod[];
  desired: () => number;
  sizeStatefulSet: (replicas: number) => void;
  /** The fleet has a deletionTimestamp: the finalizer runs. */
  deleting: () => boolean;
  /** The fleet object is gone (its finalizer was removed). */
  gone: () => boolean;
  /** Removes the finalizer: the fleet object goes away. */
  finalized: () => void;
}

/** The LeaseSync of one simulated operator process. */
export function simLeaseSync(
  proc: SimProcess,
  link: LinkState,
  api: SimApiServer,
  idSpaceHadLedger: () => boolean,
  mutation: OperatorMutation,
  world: Parameters<typeof simLeaseStore>[4],
): LeaseSync {
  // As operator.ts: floors come from a clock never behind the API server's, fed by its answers.
  const serverClock = new ApiServerClock(() => proc.wallMs());
  return new LeaseSync(
    simLeaseStore(proc, link, api, idSpaceHadLedger, world, (sample) => serverClock.record(sample)),
    {
      metrics: createOperatorMetrics(),
      // A paused leader has not noticed it lost leadership: it finishes what it was doing.
      isLeader: () => true,
      clock: {
        wallMs: () => serverClock.notBehindMs(),
        monoMs: () => proc.monoMs(),
      },
      planner: mutatedPlanner(mutation),
    },
  );
}

function mutatedPlanner(mutation: OperatorMutation): (input: PlannerInput) => Plan {
  return (input) => {
    let changed = input;
    if (mutation.ignoreLayout && input.ledger.ledger.layout)
      changed = { ...changed, layout: input.ledger.ledger.layout };
    if (mutation.recreateLostLedgerInAnyLayout && input.ledger.resourceVersion === null) {
      const { lastSeenLayout: _forgotten, ...rest } = changed;
      changed = { ...rest, otherFleets: [], layoutSuccession: false };
    }
    if (mutation.reclaimWithoutWaiting) changed = { ...changed, reclaimGraceMs: -changed.leaseDurationMs };
    if (mutation.forgetLostLeaseReservations) {
      changed = {
        ...changed,
        lostStateMarginMs: -changed.nowMs,
        ledger: { ...changed.ledger, ledger: withoutRecordedReservations(changed.ledger.ledger) },
      };
    }
    const plan = planWorkerIds(changed);
    if (mutation.successorBelowMark) {
      const succession = (a: PlanAction) =>
        a.kind === "write-ledger" &&
        (a.ledger.formerLayouts?.length ?? 0) > (input.ledger.ledger.formerLayouts?.length ?? 0);
      return {
        ...plan,
        actions: plan.actions.map((a) =>
          a.kind === "write-ledger" && succession(a) ? { ...a, ledger: { ...a.ledger, baseFloor: 0 } } : a,
        ),
      };
    }
    return mutation.forgetFloors ? { ...plan, actions: plan.actions.map(forgetFloors) } : plan;
  };
}

function toPod(p: FleetPod): V1Pod {
  return {
    metadata: {
      name: p.name,
      uid: p.uid,
      ...(p.terminating ? { deletionTimestamp: new Date(0) } : {}),
    },
  };
}

function withoutRecordedReservations(ledger: Ledger): Ledger {
  const entries = new Map<number, LedgerEntry>(
    [...ledger.entries].map(([w, e]): [number, LedgerEntry] => {
      if (e.state !== "leased") return [w, e];
      const { seenReservedUntil: _forgotten, ...rest } = e;
      return [w, rest];
    }),
  );
  return { ...ledger, entries };
}

function forgetFloors(action: PlanAction): PlanAction {
  if (action.kind === "create-lease" || action.kind === "replace-lease") {
    return { ...action, lease: { ...action.lease, handoverAfter: 0, reservedUntil: 0 } };
  }
  if (action.kind !== "write-ledger") return action;
  const entries = new Map(
    [...action.ledger.entries].map(([w, e]) => [
      w,
      e.state === "leased" ? { ...e, floor: 0 } : { ...e, reservedUntil: 0 },
    ]),
  );
  return { ...action, ledger: { ...action.ledger, baseFloor: 0, entries } };
}
