import { MIN_TOLERATED_RATE_DRIFT } from "../../contract/lease-fencing.ts";
import { LeaseState, parseLeaseData } from "../../contract/lease-record.ts";
import type { FleetPod } from "../../operator/src/leases/worker-id-planner.ts";
import { SimApiServer, type LinkState } from "./sim-api-server.ts";
import { sameSpaceLayout } from "../../contract/id-space-layout.ts";
import { parseLedgerData } from "../../contract/lease-record.ts";
import { SimGenerator, type GeneratorMutation, type SimHolderTiming } from "./sim-generator.ts";
import { InvariantTracker } from "./sim-invariants.ts";
import { Kernel, Random, SimProcess } from "./sim-kernel.ts";
import { SIM_LAYOUTS, SIM_WALL_START_MS, SimLayoutName } from "./sim-layouts.ts";
import { SIM_NAMESPACE, simLeaseKey } from "./sim-lease-store.ts";
import { SimOperator, simLeaseSync, type OperatorMutation, type SimFleetSpec } from "./sim-operator.ts";

/** A fault, at a true time, aimed at the `target`-th candidate (modulo how many there are). */
export type Fault =
  | { at: number; kind: "graceful-delete"; target: number }
  | {
      at: number;
      kind: "force-delete";
      target: number;
      /** The old process keeps running this long (null: to the end). */
      zombieLifeMs: number | null;
      /** ...cut off from the API server this long, as on a partitioned node (null: not cut off). */
      partitionMs: number | null;
    }
  | { at: number; kind: "crash"; target: number }
  | { at: number; kind: "pause"; target: number; durationMs: number }
  /** The target's VM is suspended: it stops, and so does its monotonic clock; its wall clock goes on. */
  | { at: number; kind: "suspend"; target: number; durationMs: number }
  | { at: number; kind: "clock-step"; target: number; stepMs: number }
  | { at: number; kind: "partition"; target: number; durationMs: number }
  /** The target's next API request reaches the server only after `delayMs` (its sender has timed out by then). */
  | { at: number; kind: "slow-request"; target: number; delayMs: number }
  | { at: number; kind: "api-outage"; durationMs: number }
  | { at: number; kind: "operator-restart"; splitBrainMs: number | null }
  | { at: number; kind: "operator-partition"; durationMs: number }
  | { at: number; kind: "scale"; replicas: number }
  /** Someone deletes the id space's ledger ConfigMap by hand (the operator recreates it). */
  | { at: number; kind: "ledger-loss" }
  /**
   * Someone deletes a pod's lease ConfigMap by hand (or garbage collection takes it after a
   * finalizer was removed by hand). With `crashClockStepMs`, its container also crashes then
   * and comes back on a clock that much ahead (+) or behind (-) the old process's.
   */
  | { at: number; kind: "lease-loss"; target: number; crashClockStepMs: number | null }
  /** From now on the target's monotonic clock runs at `rate` (1 = true time; the fleet's timing tolerates 1 ± toleratedRateDrift). */
  | {
      at: number;
      kind: "rate-skew";
      target: number;
      rate: number;
      /** "both": the wall clock too (a bad clock source); default: the monotonic clock alone. */
      clocks?: "monotonic" | "both";
    }
  /**
   * The API server's storage is restored from a snapshot taken `ageMs` earlier: every
   * ConfigMap (ledger and leases) goes back, resourceVersions bumped past the old ones, with
   * the server down for `outageMs` around the restore, while the processes run on.
   */
  | { at: number; kind: "ledger-rollback"; ageMs: number; outageMs: number }
  /**
   * For `durationMs` the operator plans from pod lists `lagMs` old (a slow informer): a pod
   * deleted meanwhile is still listed, a pod replaced meanwhile is listed with its old uid, a new
   * one is missing. Each operator process's view only moves forward; a new process starts fresh.
   */
  | { at: number; kind: "informer-lag"; durationMs: number; lagMs: number };

/** A fleet of a simulated run (in `Scenario.fleets`). */
export interface SimFleetDecl {
  /** Default SIM_NAMESPACE. */
  namespace?: string;
  name: string;
  /** Default primary. */
  layout?: SimLayoutName;
  /** spec.idSpace.layoutSuccession. */
  layoutSuccession?: boolean;
  /** When it is created (true ms, default 0); a fleet of the same namespace/name must be gone first. */
  createAt?: number;
  /** When it is deleted (its finalizer then runs). */
  deleteAt?: number;
}

/** One simulated run. */
export interface Scenario {
  seed: number;
  /**
   * Fleets sharing one id space and the same worker-id range (default 1). With more, "scale"
   * faults alternate between the existing ones and the ledger alone keeps their ids disjoint.
   * Declared fleets may have other layouts and namespaces, come later and be deleted.
   */
  fleets?: 1 | 2 | SimFleetDecl[];
  rangeSize: number;
  initialReplicas: number;
  /** Max |wall clock offset| of a pod at start, ms. */
  skewMs: number;
  faults: Fault[];
  /** Faults happen in [0, horizonMs); then a quiet tail of `tailMs` in which every pod must come to serve. */
  horizonMs: number;
  tailMs: number;
  operatorMutation?: OperatorMutation;
  /** Chance that any one API request is held 0.5–4 s on its way (default 0.01). */
  longDelayChance?: number;
  /**
   * A broken world: each namespace has its own ledger of the id space and its operator sees only
   * its namespace's leases (namespace-scoped installs before ledgers moved to the operator's namespace).
   */
  ledgerPerNamespace?: boolean;
  /** After an etcd restore, the platform team applies its fleets again this much later (default 1 s). */
  restoreReapplyMs?: number;
  /** Add every API write to the liveness report (debugging). */
  trace?: boolean;
  generatorMutation?: GeneratorMutation;
}

/** What a run found. */
export interface RunResult {
  violations: string[];
  issued: number;
  /** Exact duplicate IDs among everything issued. */
  duplicates: number;
  handovers: number;
  /** Pods that should serve at the end of the quiet tail but did not, with why. */
  liveness: string[];
  /** IDs issued per layout. */
  issuedByLayout: Partial<Record<SimLayoutName, number>>;
  /** The ledger was lost and no fleet of the space may recreate it (fleets of two layouts): nothing serves. */
  stalledWithoutLedger: boolean;
  /** Client requests refused by generators that had served before (summed over processes). */
  refusedAfterServing: number;
}

/** Lease timing of the simulated fleet (ms), scaled down from the defaults so runs are short. */
export const SIM_TIMING = {
  leaseDurationMs: 3000,
  renewIntervalMs: 1000,
  safetyMarginMs: 600,
  // Whole seconds, as the fleet spec states it (the operator reads it from there).
  reclaimGraceMs: 1000,
  reserveAheadTicks: 1500,
  acquirePollMs: 150,
} as const;

/** A fleet object of a run, from creation to the removal of its finalizer. */
interface FleetState {
  decl: SimFleetDecl;
  /** namespace/name. */
  key: string;
  spec: SimFleetSpec;
  phase: "live" | "deleting" | "gone";
  /** spec.replicas and the StatefulSet's replicas. */
  desired: number;
  stsReplicas: number;
}

interface PodState extends FleetPod {
  fleet: FleetState;
  process: SimGenerator | null;
  /** Container restarts pending. */
  restarting: boolean;
  wallOffsetMs: number;
  monoRate: number;
  /** The pod's emptyDir as its generator containers use it: reservations sent, by worker id. */
  reservations: Map<number, number>;
}

/** The fleets of a scenario as declarations. */
function fleetDecls(s: Scenario): SimFleetDecl[] {
  if (Array.isArray(s.fleets)) return s.fleets;
  return s.fleets === 2 ? [{ name: "ids" }, { name: "ods" }] : [{ name: "ids" }];
}

/** Runs one scenario to the end and reports what the invariant checks saw. */
export async function runScenario(s: Scenario): Promise<RunResult> {
  const kernel = new Kernel();
  const random = new Random(s.seed);
  const range = { min: 3, max: 3 + s.rangeSize - 1 };
  const tracker = new InvariantTracker(range, SIM_TIMING.leaseDurationMs, SIM_TIMING.safetyMarginMs);
  const trace: string[] = [];
  let ledgerWritten = false;
  /** Layout of each generator process by process name (who wrote a lease). */
  const layoutOfProcess = new Map<string, SimLayoutName>();
  const api = new SimApiServer(kernel, random, (name, obj, writer) => {
    trace.push(
      `${Math.round(kernel.now)} ${writer} ${obj ? "wrote" : "deleted"} ${name} ${obj ? JSON.stringify(name.startsWith("lease/") ? { w: obj.data.workerId, uid: obj.data.holderUid, a: obj.data.assignment, s: obj.data.state } : obj.data) : ""}`,
    );
    if (obj && name.startsWith("ledger/")) ledgerWritten = true;
    if (!obj || !name.startsWith("lease/")) return;
    const lease = parseLeaseData(obj.data);
    tracker.leaseWritten(
      lease.assignment,
      lease.workerId,
      lease.reservedUntil,
      lease.state === LeaseState.Active,
      layoutOfProcess.get(writer),
    );
  });
  if (s.longDelayChance !== undefined) api.longDelayChance = s.longDelayChance;
  const idSpace = "ids";
  const ledgerName = `${idSpace}-worker-ids`;
  // The mutation: a ledger per namespace, as before ledgers moved to the operator's namespace.
  const ledgerNameIn = (namespace: string) =>
    s.ledgerPerNamespace ? `${namespace}.${ledgerName}` : ledgerName;
  let fleetCounter = 0;
  const newFleet = (decl: SimFleetDecl): FleetState => {
    const namespace = decl.namespace ?? SIM_NAMESPACE;
    return {
      decl,
      key: `${namespace}/${decl.name}`,
      phase: "live",
      desired: s.initialReplicas,
      stsReplicas: 0,
      spec: {
        namespace,
        fleet: decl.name,
        uid: `fleet-${decl.name}-${++fleetCounter}`,
        layout: SIM_LAYOUTS[decl.layout ?? SimLayoutName.primary],
        layoutSuccession: decl.layoutSuccession === true,
        idSpace,
        range,
        leases: {
          durationSeconds: SIM_TIMING.leaseDurationMs / 1000,
          renewIntervalSeconds: SIM_TIMING.renewIntervalMs / 1000,
          reclaimGraceSeconds: SIM_TIMING.reclaimGraceMs / 1000,
          // Only generators read it; they take SIM_TIMING's (finer) margin directly.
          safetyMarginSeconds: 1,
          reserveAheadMs: SIM_TIMING.reserveAheadTicks * SIM_LAYOUTS.primary.math.layout.timeUnitMs,
        },
        // Wall clocks start up to skewMs either side of true time: two of them up to twice that apart.
        maxDriftMs: Math.max(1, 2 * s.skewMs),
        reconcileEveryMs: 250,
      },
    };
  };
  const holderTiming: SimHolderTiming = { ...SIM_TIMING, maxDriftMs: Math.max(1, 2 * s.skewMs) };
  /** Pods by namespace/name. */
  const pods = new Map<string, PodState>();
  const podKey = (fleet: FleetState, podName: string) => `${fleet.spec.namespace}/${podName}`;
  const zombies: SimGenerator[] = [];
  const allGenerators: SimGenerator[] = [];
  /** Every fleet object that existed, in creation order. */
  const fleets: FleetState[] = [];
  const existing = () => fleets.filter((f) => f.phase !== "gone");
  let uidCounter = 0;
  let procCounter = 0;

  const newRate = () => 1 + (random.next() * 2 - 1) * MIN_TOLERATED_RATE_DRIFT * 0.5;
  const startProcess = (pod: PodState) => {
    const proc = new SimProcess(kernel, `p${++procCounter}`, pod.wallOffsetMs, pod.monoRate);
    const link: LinkState = { partitionedUntil: 0 };
    const gen = new SimGenerator(
      proc,
      link,
      api,
      tracker,
      random,
      holderTiming,
      {
        namespace: pod.fleet.spec.namespace,
        fleet: pod.fleet.spec.fleet,
        name: pod.name,
        uid: pod.uid,
        ledgerName: ledgerNameIn(pod.fleet.spec.namespace),
        layout: pod.fleet.spec.layout,
        memory: {
          load: () => pod.reservations,
          save: (workerId, tick) =>
            pod.reservations.set(workerId, Math.max(pod.reservations.get(workerId) ?? -1, tick)),
        },
      },
      s.generatorMutation ?? {},
    );
    layoutOfProcess.set(proc.name, gen.layout.name);
    pod.process = gen;
    allGenerators.push(gen);
    gen.start();
  };
  const createPod = (fleet: FleetState, ordinal: number) => {
    const pod: PodState = {
      fleet,
      name: `${fleet.spec.fleet}-${ordinal}`,
      uid: `u${++uidCounter}`,
      ordinal,
      terminating: false,
      process: null,
      restarting: false,
      wallOffsetMs: SIM_WALL_START_MS + random.int(-s.skewMs, s.skewMs),
      monoRate: newRate(),
      reservations: new Map(),
    };
    const key = podKey(fleet, pod.name);
    pods.set(key, pod);
    kernel.after(random.int(20, 300), () => {
      if (pods.get(key) === pod && !pod.terminating) startProcess(pod);
    });
  };
  const isCurrent = (pod: PodState) => pods.get(podKey(pod.fleet, pod.name)) === pod;
  const gracefulDelete = (pod: PodState) => {
    if (pod.terminating) return;
    pod.terminating = true;
    const remove = () => {
      pod.process?.proc.kill();
      if (isCurrent(pod)) pods.delete(podKey(pod.fleet, pod.name));
    };
    kernel.after(2000, remove); // terminationGracePeriod, then SIGKILL
    if (pod.process?.alive) pod.process.terminate(() => kernel.after(random.int(1, 20), remove));
    else kernel.after(random.int(1, 20), remove);
  };
  const podsOf = (fleet: FleetState) => [...pods.values()].filter((p) => p.fleet === fleet);

  // The StatefulSet controller, one StatefulSet per fleet (garbage-collected with its fleet).
  const statefulSet = () => {
    for (const fleet of fleets) {
      const target = fleet.phase === "gone" ? 0 : Math.min(fleet.desired, fleet.stsReplicas);
      for (let ordinal = 0; ordinal < target; ordinal++) {
        if (!pods.has(podKey(fleet, `${fleet.spec.fleet}-${ordinal}`))) createPod(fleet, ordinal);
      }
      for (const pod of podsOf(fleet)) if (pod.ordinal >= target) gracefulDelete(pod);
    }
    kernel.after(100, statefulSet);
  };
  kernel.after(0, statefulSet);

  // What the operator's pod informer shows: the pod list as it was `lag` ago (samples every 50 ms).
  let informerLagMs = 0;
  const podHistory: { at: number; pods: Map<FleetState, FleetPod[]> }[] = [];
  const podList = (fleet: FleetState): FleetPod[] =>
    podsOf(fleet).map((p) => ({ name: p.name, uid: p.uid, ordinal: p.ordinal, terminating: p.terminating }));
  const samplePods = () => {
    podHistory.push({ at: kernel.now, pods: new Map(fleets.map((f) => [f, podList(f)])) });
    kernel.after(50, samplePods);
  };
  if (s.faults.some((f) => f.kind === "informer-lag")) kernel.after(0, samplePods);
  /** The pods of `fleet` as an informer whose view has reached true time `viewAt` lists them. */
  const podsSeenAt = (fleet: FleetState, viewAt: number): FleetPod[] => {
    if (viewAt >= kernel.now) return podList(fleet);
    let i = podHistory.length - 1;
    while (i > 0 && podHistory[i]!.at > viewAt) i--;
    return podHistory[i]?.pods.get(fleet) ?? [];
  };

  // The operator (leader): one process reconciling every fleet.
  let operators: SimOperator[] = [];
  let operatorProcess: {
    proc: SimProcess;
    link: LinkState;
    leaseSyncOf: (fleet: FleetState) => ReturnType<typeof simLeaseSync>;
  } | null = null;
  /** Where the current operator process's pod informer has got to (only forward). */
  let informerViewAt = 0;
  const operatorWorld = (fleet: FleetState) => ({
    pods: (): FleetPod[] => {
      informerViewAt = Math.max(informerViewAt, kernel.now - informerLagMs);
      return podsSeenAt(fleet, informerViewAt);
    },
    desired: () => fleet.desired,
    sizeStatefulSet: (n: number) => {
      if (fleet.phase !== "gone") fleet.stsReplicas = n;
    },
    deleting: () => fleet.phase === "deleting",
    gone: () => fleet.phase === "gone",
    finalized: () => {
      if (fleet.phase === "deleting") fleet.phase = "gone";
    },
  });
  const operate = (fleet: FleetState) => {
    if (!operatorProcess) return;
    const { proc, link, leaseSyncOf } = operatorProcess;
    const operator = new SimOperator(
      proc,
      link,
      leaseSyncOf(fleet),
      random,
      fleet.spec,
      operatorWorld(fleet),
    );
    operators.push(operator);
    operator.start();
  };
  const startOperator = () => {
    const proc = new SimProcess(
      kernel,
      `op${++procCounter}`,
      SIM_WALL_START_MS + random.int(-s.skewMs, s.skewMs),
      newRate(),
    );
    const link: LinkState = { partitionedUntil: 0 };
    // The operator's fleet informer: every fleet object that exists (one id space in a run).
    const fleetObjects = () =>
      existing().map((f) => ({
        key: f.key,
        layout: f.spec.layout.space,
        layoutSuccession: f.spec.layoutSuccession,
      }));
    const newLeaseSync = () =>
      simLeaseSync(proc, link, api, () => ledgerWritten, s.operatorMutation ?? {}, {
        fleets: fleetObjects,
        ledgerName: (fleet) => ledgerNameIn(fleet.metadata.namespace),
        namespaceScoped: s.ledgerPerNamespace === true,
      });
    // The mutation's namespace-scoped installs: an operator per namespace, each with its own memory.
    const byNamespace = new Map<string, ReturnType<typeof simLeaseSync>>();
    const shared = s.ledgerPerNamespace ? undefined : newLeaseSync();
    const leaseSyncOf = (fleet: FleetState) => {
      if (shared) return shared;
      const ns = fleet.spec.namespace;
      const sync = byNamespace.get(ns) ?? newLeaseSync();
      byNamespace.set(ns, sync);
      return sync;
    };
    operatorProcess = { proc, link, leaseSyncOf };
    operators = [];
    // A new process's informer lists pods afresh.
    informerViewAt = kernel.now;
    for (const fleet of existing()) operate(fleet);
  };

  // Fleets: created at their time (once a fleet of the same name is gone), deleted at theirs.
  const createFleet = (decl: SimFleetDecl) => {
    if (fleets.some((f) => f.decl === decl && f.phase !== "gone")) return;
    const fleet = newFleet(decl);
    if (existing().some((f) => f.key === fleet.key)) {
      kernel.after(100, () => createFleet(decl));
      return;
    }
    fleets.push(fleet);
    operate(fleet);
    if (decl.deleteAt !== undefined) kernel.at(decl.deleteAt, () => deleteFleet(fleet));
  };
  const deleteFleet = (fleet: FleetState) => {
    if (fleet.phase === "live") fleet.phase = "deleting";
  };
  /**
   * Fleet objects go back with an etcd restore: one deleted since the snapshot is back (deleting or
   * not, as it was), one created since is gone (garbage collection takes its StatefulSet and pods).
   * Then the platform team applies its manifests again: what was deleted is deleted again, what
   * was created is created again.
   */
  const restoreFleets = (phases: ReadonlyMap<FleetState, FleetState["phase"]>) => {
    for (const fleet of fleets) {
      const was = phases.get(fleet) ?? "gone";
      const back = fleet.phase === "gone" && was !== "gone";
      fleet.phase = was;
      if (back) operate(fleet);
    }
    kernel.after(s.restoreReapplyMs ?? 1000, () => {
      for (const decl of decls) {
        const fleet = fleets.findLast((f) => f.decl === decl);
        if (
          kernel.now >= (decl.createAt ?? 0) &&
          (fleet === undefined || fleet.phase === "gone") &&
          !(decl.deleteAt !== undefined && kernel.now >= decl.deleteAt)
        )
          createFleet(decl);
        if (fleet && decl.deleteAt !== undefined && kernel.now >= decl.deleteAt) deleteFleet(fleet);
      }
    });
  };
  const decls = fleetDecls(s);
  for (const decl of decls.filter((d) => (d.createAt ?? 0) <= 0)) createFleet(decl);
  startOperator();
  for (const decl of decls.filter((d) => (d.createAt ?? 0) > 0))
    kernel.at(decl.createAt!, () => createFleet(decl));
  const operatorProc = () => operatorProcess!.proc;
  const operatorLink = () => operatorProcess!.link;

  // Faults.
  const livePods = () =>
    [...pods.values()]
      .filter((p) => p.process?.alive)
      .sort(
        (a, b) =>
          a.ordinal - b.ordinal ||
          a.fleet.spec.fleet.localeCompare(b.fleet.spec.fleet) ||
          a.fleet.spec.namespace.localeCompare(b.fleet.spec.namespace),
      );
  const processes = () => [
    ...livePods().map((p) => p.process as SimGenerator),
    ...zombies.filter((z) => z.alive),
  ];
  const restartContainer = (pod: PodState) => {
    pod.process?.proc.kill();
    pod.restarting = true;
    kernel.after(random.int(50, 1500), () => {
      pod.restarting = false;
      if (isCurrent(pod) && !pod.terminating) startProcess(pod);
    });
  };
  for (const fault of [...s.faults].sort((a, b) => a.at - b.at)) {
    if (fault.kind === "ledger-rollback") {
      const restoreAt = Math.min(fault.at, s.horizonMs);
      kernel.at(Math.max(0, restoreAt - fault.ageMs), () => {
        const snapshot = api.snapshot();
        const phases = new Map(fleets.map((f) => [f, f.phase]));
        kernel.at(restoreAt, () => {
          api.downUntil = Math.max(api.downUntil, kernel.now + fault.outageMs);
          api.restore(snapshot, "etcd-restore");
          restoreFleets(phases);
        });
      });
      continue;
    }
    kernel.at(Math.min(fault.at, s.horizonMs), () => {
      switch (fault.kind) {
        case "graceful-delete": {
          const pod = pick(livePods(), fault.target);
          if (pod) gracefulDelete(pod);
          break;
        }
        case "force-delete": {
          const pod = pick(livePods(), fault.target);
          if (!pod) break;
          pods.delete(podKey(pod.fleet, pod.name));
          const zombie = pod.process as SimGenerator;
          zombies.push(zombie);
          if (fault.partitionMs !== null) zombie.link.partitionedUntil = kernel.now + fault.partitionMs;
          if (fault.zombieLifeMs !== null) kernel.after(fault.zombieLifeMs, () => zombie.proc.kill());
          break;
        }
        case "crash": {
          const pod = pick(livePods(), fault.target);
          if (!pod || pod.restarting) break;
          restartContainer(pod);
          break;
        }
        case "pause": {
          const p = pick(processes(), fault.target);
          if (!p) break;
          p.proc.pause();
          kernel.after(fault.durationMs, () => p.proc.resume());
          break;
        }
        case "suspend": {
          const p = pick(processes(), fault.target);
          if (!p) break;
          p.proc.suspend();
          kernel.after(fault.durationMs, () => p.proc.wake());
          break;
        }
        case "clock-step": {
          const p = pick(processes(), fault.target);
          if (p) p.proc.wallOffsetMs += fault.stepMs;
          break;
        }
        case "partition": {
          const p = pick(processes(), fault.target);
          if (p) p.link.partitionedUntil = kernel.now + fault.durationMs;
          break;
        }
        case "slow-request": {
          const p = pick(processes(), fault.target);
          if (p) p.link.delayNextRequestMs = fault.delayMs;
          break;
        }
        case "api-outage":
          api.downUntil = kernel.now + fault.durationMs;
          break;
        case "operator-partition":
          operatorLink().partitionedUntil = kernel.now + fault.durationMs;
          break;
        case "operator-restart": {
          const old = operatorProc();
          if (fault.splitBrainMs === null) {
            old.kill();
          } else {
            // Paused past its leader lease: it resumes later, finishes its pass, then notices.
            for (const operator of operators) operator.deposed = true;
            old.pause();
            kernel.after(fault.splitBrainMs, () => old.resume());
          }
          kernel.after(random.int(100, 1500), startOperator);
          break;
        }
        case "scale": {
          const live = existing().filter((f) => f.phase === "live");
          const fleet = live[Math.floor(fault.at) % Math.max(1, live.length)];
          if (fleet) fleet.desired = fault.replicas;
          break;
        }
        case "ledger-loss":
          api.remove(`ledger/${ledgerName}`, "kubectl");
          break;
        case "lease-loss": {
          const pod = pick(livePods(), fault.target);
          if (!pod) break;
          api.remove(simLeaseKey(pod.fleet.spec.namespace, `${pod.name}-lease`), "kubectl");
          if (fault.crashClockStepMs === null || pod.restarting) break;
          pod.wallOffsetMs += fault.crashClockStepMs;
          restartContainer(pod);
          break;
        }
        case "rate-skew": {
          const p = pick(processes(), fault.target);
          p?.proc.setMonoRate(fault.rate);
          if (fault.clocks === "both") p?.proc.setWallRate(fault.rate);
          break;
        }
        case "informer-lag":
          informerLagMs = fault.lagMs;
          kernel.after(fault.durationMs, () => {
            if (informerLagMs === fault.lagMs) informerLagMs = 0;
          });
          break;
      }
    });
  }

  await kernel.runUntil(s.horizonMs + s.tailMs);

  const liveness: string[] = [];
  // Every id the fleets of the space's layout want and the range has must be serving by the end of
  // the quiet tail; a declared successor must have taken over once no fleet of the old layout is left.
  const ledgerData = api.peek(`ledger/${ledgerName}`)?.data;
  const spaceLayout = ledgerData ? parseLedgerData(ledgerData).layout : undefined;
  const live = existing().filter((f) => f.phase === "live");
  // A lost ledger that no fleet may recreate (fleets of two layouts, or a successor, and none of
  // them serving: layout-gate.ts) leaves the space stalled until someone acts: safe, and expected.
  const stalledWithoutLedger =
    ledgerData === undefined &&
    live.some(
      (f) => f.spec.layoutSuccession || !sameSpaceLayout(f.spec.layout.space, live[0]!.spec.layout.space),
    );
  const owning = stalledWithoutLedger
    ? []
    : live.filter((f) => spaceLayout === undefined || sameSpaceLayout(f.spec.layout.space, spaceLayout));
  const successors = live.filter((f) => !owning.includes(f) && f.spec.layoutSuccession);
  if (owning.length === 0 && successors.length > 0 && !stalledWithoutLedger) {
    liveness.push(`layout succession to ${successors.map((f) => f.key).join(", ")} did not happen`);
  }
  const totalDesired = owning.reduce((a, f) => a + f.desired, 0);
  const expected = Math.min(totalDesired, s.rangeSize);
  const serving = livePods().filter(
    (p) =>
      owning.includes(p.fleet) &&
      p.ordinal < p.fleet.desired &&
      // A holder whose clock was left stepped ahead refuses: that is what it should do.
      (kernel.now - (p.process?.lastIssuedAt ?? -Infinity) < 1000 || p.process?.clockRefuses() === true),
  );
  if (serving.length < expected || liveness.length > 0) {
    liveness.push(`${serving.length} of ${expected} pods served in the last second of the quiet tail`);
    for (const pod of [...pods.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      liveness.push(
        `pod ${pod.fleet.key}/${pod.name} ${pod.uid} terminating=${pod.terminating} ${pod.process?.describe() ?? "no process"}`,
      );
    }
    for (const fleet of fleets)
      liveness.push(
        `${fleet.key} (${fleet.phase}): statefulset ${fleet.stsReplicas}, desired ${fleet.desired}`,
      );
    for (const name of api.names()) liveness.push(`${name}: ${JSON.stringify(api.peek(name)?.data)}`);
  }
  if (s.trace) liveness.push(...trace);
  return {
    violations: tracker.violations,
    issued: tracker.issuedTotal,
    issuedByLayout: { ...tracker.issuedByLayout },
    stalledWithoutLedger,
    duplicates: tracker.duplicates,
    handovers: tracker.handovers,
    liveness,
    refusedAfterServing: allGenerators.reduce((n, g) => n + g.refusedAfterServing, 0),
  };
}

function pick<T>(list: T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}
