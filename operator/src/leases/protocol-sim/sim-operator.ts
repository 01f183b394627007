import {
  EMPTY_LEDGER,
  parseLeaseData,
  parseLedgerData,
  serializeLeaseData,
  serializeLedgerData,
  type Ledger,
  type LedgerEntry,
} from "../../../../contract/lease-record.ts";
import {
  EMPTY_OBSERVATIONS,
  planWorkerIds,
  type FleetPod,
  type ObservedLease,
  type Observations,
  type PlanAction,
} from "../worker-id-planner.ts";
import type { LinkState, SimApiServer, SimRequest, SimResponse } from "./sim-api-server.ts";
import { SIM_MATH, SIM_SPACE_LAYOUT } from "./sim-generator.ts";
import type { Random, SimProcess } from "./sim-kernel.ts";

/** Deliberate protocol breaks on the operator side. */
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
}

/** What a simulated operator manages. */
export interface SimFleetSpec {
  fleet: string;
  idSpace: string;
  range: { min: number; max: number };
  leaseDurationMs: number;
  reclaimGraceMs: number;
  reconcileEveryMs: number;
  /** Added to the operator's tick for a new ledger's baseFloor and lost state (reserveAhead + max clock skew). */
  newLedgerMarginTicks: number;
  /** A claim's recorded reservation is rewritten once its lease is this many ticks ahead. */
  recordSlackTicks: number;
}

/**
 * One operator process (the leader, or a deposed leader finishing its pass): reads pods,
 * leases and the ledger over the simulated network, asks the real planner, applies its
 * actions in order and stops at the first failure, exactly as lease-sync does.
 */
export class SimOperator {
  private observations: Observations = EMPTY_OBSERVATIONS;
  /** Ledger uids this process created for a new id space (lease-sync's vouched ledgers). */
  private readonly vouched = new Set<string>();
  /** A deposed leader finishes the pass it is in and then stops. */
  deposed = false;
  readonly proc: SimProcess;
  readonly link: LinkState;
  private readonly api: SimApiServer;
  private readonly random: Random;
  private readonly spec: SimFleetSpec;
  private readonly podsNow: () => FleetPod[];
  private readonly desired: () => number;
  private readonly sizeStatefulSet: (replicas: number) => void;
  private readonly idSpaceHadLedger: () => boolean;
  private readonly mutation: OperatorMutation;
  passes = 0;

  constructor(
    proc: SimProcess,
    link: LinkState,
    api: SimApiServer,
    random: Random,
    spec: SimFleetSpec,
    world: {
      pods: () => FleetPod[];
      desired: () => number;
      sizeStatefulSet: (replicas: number) => void;
      /** Whether the id space's ledger was ever written (lease-sync asks whether a fleet reported status). */
      idSpaceHadLedger: () => boolean;
    },
    mutation: OperatorMutation,
  ) {
    this.proc = proc;
    this.link = link;
    this.api = api;
    this.random = random;
    this.spec = spec;
    this.podsNow = world.pods;
    this.desired = world.desired;
    this.sizeStatefulSet = world.sizeStatefulSet;
    this.idSpaceHadLedger = world.idSpaceHadLedger;
    this.mutation = mutation;
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

  private send(req: SimRequest, done: (res: SimResponse) => void): void {
    this.api.send(this.proc, this.link, req, done);
  }

  private pass(): void {
    if (this.deposed) return;
    this.passes++;
    // Pods come from an informer-like read: a snapshot that is already a little old when used.
    const pods = this.podsNow();
    this.proc.timer(this.random.int(1, 30), () => {
      // Every lease of the id space, as lease-sync reads them: the fleet's own and the others'.
      this.send({ op: "list", prefix: "lease/" }, (leasesRes) => {
        if (!leasesRes.ok || !leasesRes.list) return this.next(this.spec.reconcileEveryMs);
        this.send({ op: "get", name: this.ledgerName }, (ledgerRes) => {
          if (!ledgerRes.ok && ledgerRes.status !== 404) return this.next(this.spec.reconcileEveryMs);
          const all: ObservedLease[] = [...leasesRes.list!].map(([name, obj]) => ({
            configMapName: name.slice("lease/".length),
            resourceVersion: obj.resourceVersion,
            lease: parseLeaseData(obj.data),
          }));
          const own = (l: ObservedLease) => l.configMapName.startsWith(`${this.spec.fleet}-`);
          const leases = all.filter(own);
          const otherFleetsLeases = all.filter((l) => !own(l));
          const ledger =
            ledgerRes.ok && ledgerRes.object
              ? {
                  resourceVersion: ledgerRes.object.resourceVersion,
                  uid: ledgerRes.object.uid,
                  ledger: this.mutation.forgetLostLeaseReservations
                    ? withoutRecordedReservations(parseLedgerData(ledgerRes.object.data))
                    : parseLedgerData(ledgerRes.object.data),
                }
              : { resourceVersion: null, ledger: EMPTY_LEDGER };
          const plan = planWorkerIds({
            fleet: this.spec.fleet,
            idSpace: this.spec.idSpace,
            layout: SIM_SPACE_LAYOUT,
            ledgerCreatedHere: ledger.uid !== undefined && this.vouched.has(ledger.uid),
            nowMs: this.proc.wallMs(),
            lostStateMarginMs: this.mutation.forgetLostLeaseReservations
              ? -this.proc.wallMs()
              : this.spec.newLedgerMarginTicks * SIM_MATH.layout.timeUnitMs,
            recordSlackTicks: this.spec.recordSlackTicks,
            range: this.spec.range,
            desiredReplicas: this.desired(),
            pods,
            leases,
            otherFleetsLeases,
            ledger,
            observations: this.observations,
            nowMonoMs: this.proc.monoMs(),
            nowWall: `op@${Math.round(this.proc.wallMs())}`,
            leaseDurationMs: this.spec.leaseDurationMs,
            // As lease-sync: a base floor only for a ledger that existed before (a loss).
            newLedgerBaseFloor: this.idSpaceHadLedger()
              ? Math.floor(this.proc.wallMs() - SIM_MATH.epochMs) + this.spec.newLedgerMarginTicks
              : undefined,
            reclaimGraceMs: this.mutation.reclaimWithoutWaiting
              ? -this.spec.leaseDurationMs
              : this.spec.reclaimGraceMs,
          });
          this.observations = plan.observations;
          this.sizeStatefulSet(plan.allocatableReplicas);
          const actions = this.mutation.forgetFloors ? plan.actions.map(forgetFloors) : plan.actions;
          this.applyActions(
            actions,
            (action, res) => {
              // As lease-sync: a ledger this process created for a new space has no unseen past.
              if (
                action.kind === "write-ledger" &&
                action.resourceVersion === null &&
                !action.ledger.baseFloor &&
                res.ok &&
                res.object
              ) {
                this.vouched.add(res.object.uid);
              }
            },
            () => {
              const wake =
                plan.requeueAfterMs === null
                  ? this.spec.reconcileEveryMs
                  : Math.min(plan.requeueAfterMs, this.spec.reconcileEveryMs);
              this.next(wake);
            },
          );
        });
      });
    });
  }

  private applyActions(
    actions: PlanAction[],
    applied: (action: PlanAction, res: SimResponse) => void,
    done: () => void,
  ): void {
    const [action, ...rest] = actions;
    if (!action) return done();
    const req = toRequest(action, this.ledgerName);
    this.send(req, (res) => {
      applied(action, res);
      if (!res.ok) return done();
      this.applyActions(rest, applied, done);
    });
  }
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
  return { ...action, ledger: { ...action.ledger, entries } };
}

function toRequest(action: PlanAction, ledgerName: string): SimRequest {
  switch (action.kind) {
    case "write-ledger":
      return action.resourceVersion === null
        ? { op: "create", name: ledgerName, data: serializeLedgerData(action.ledger) }
        : {
            op: "replace",
            name: ledgerName,
            resourceVersion: action.resourceVersion,
            data: serializeLedgerData(action.ledger),
          };
    case "create-lease":
      return { op: "create", name: `lease/${action.configMapName}`, data: serializeLeaseData(action.lease) };
    case "replace-lease":
      return {
        op: "replace",
        name: `lease/${action.configMapName}`,
        resourceVersion: action.resourceVersion,
        data: serializeLeaseData(action.lease),
      };
    case "delete-lease":
      return { op: "delete", name: `lease/${action.configMapName}`, resourceVersion: action.resourceVersion };
  }
}
