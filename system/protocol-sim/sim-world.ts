import { MIN_TOLERATED_RATE_DRIFT } from "../../contract/lease-fencing.ts";
import { LeaseState, parseLeaseData } from "../../contract/lease-record.ts";
import type { FleetPod } from "../../operator/src/leases/worker-id-planner.ts";
import { SIM_WALL_OFFSET, SimApiServer, type LinkState } from "./sim-api-server.ts";
import { SIM_MATH, SimGenerator, type GeneratorMutation, type SimHolderTiming } from "./sim-generator.ts";
import { InvariantTracker } from "./sim-invariants.ts";
import { Kernel, Random, SimProcess } from "./sim-kernel.ts";
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
  | { at: number; kind: "ledger-rollback"; ageMs: number; outageMs: number };

/** One simulated run. */
export interface Scenario {
  seed: number;
  /**
   * Fleets sharing one id space and the same worker-id range (default 1). With two, "scale"
   * faults alternate between them and the ledger alone keeps their ids disjoint.
   */
  fleets?: 1 | 2;
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

interface PodState extends FleetPod {
  fleet: string;
  process: SimGenerator | null;
  /** Container restarts pending. */
  restarting: boolean;
  wallOffsetMs: number;
  monoRate: number;
}

/** Runs one scenario to the end and reports what the invariant checks saw. */
export async function runScenario(s: Scenario): Promise<RunResult> {
  const kernel = new Kernel();
  const random = new Random(s.seed);
  const range = { min: 3, max: 3 + s.rangeSize - 1 };
  const tracker = new InvariantTracker(range, SIM_TIMING.leaseDurationMs, SIM_TIMING.safetyMarginMs);
  const trace: string[] = [];
  let ledgerWritten = false;
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
    );
  });
  if (s.longDelayChance !== undefined) api.longDelayChance = s.longDelayChance;
  const idSpace = "ids";
  const fleetNames = s.fleets === 2 ? ["ids", "ods"] : ["ids"];
  const specOf = (fleet: string): SimFleetSpec => ({
    fleet,
    idSpace,
    range,
    leases: {
      durationSeconds: SIM_TIMING.leaseDurationMs / 1000,
      renewIntervalSeconds: SIM_TIMING.renewIntervalMs / 1000,
      reclaimGraceSeconds: SIM_TIMING.reclaimGraceMs / 1000,
      // Only generators read it; they take SIM_TIMING's (finer) margin directly.
      safetyMarginSeconds: 1,
      reserveAheadMs: SIM_TIMING.reserveAheadTicks * SIM_MATH.layout.timeUnitMs,
    },
    // Wall clocks start up to skewMs either side of true time: two of them up to twice that apart.
    maxDriftMs: Math.max(1, 2 * s.skewMs),
    reconcileEveryMs: 250,
  });
  const holderTiming: SimHolderTiming = { ...SIM_TIMING, maxDriftMs: specOf(fleetNames[0]!).maxDriftMs };
  const pods = new Map<string, PodState>();
  const zombies: SimGenerator[] = [];
  const allGenerators: SimGenerator[] = [];
  /** Per fleet: spec.replicas and the StatefulSet's replicas. */
  const desired = new Map(fleetNames.map((f) => [f, s.initialReplicas]));
  const stsReplicas = new Map(fleetNames.map((f) => [f, 0]));
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
        fleet: pod.fleet,
        name: pod.name,
        uid: pod.uid,
        ledgerName: `${idSpace}-worker-ids`,
      },
      s.generatorMutation ?? {},
    );
    pod.process = gen;
    allGenerators.push(gen);
    gen.start();
  };
  const createPod = (fleet: string, ordinal: number) => {
    const pod: PodState = {
      fleet,
      name: `${fleet}-${ordinal}`,
      uid: `u${++uidCounter}`,
      ordinal,
      terminating: false,
      process: null,
      restarting: false,
      wallOffsetMs: SIM_WALL_OFFSET + random.int(-s.skewMs, s.skewMs),
      monoRate: newRate(),
    };
    pods.set(pod.name, pod);
    kernel.after(random.int(20, 300), () => {
      if (pods.get(pod.name) === pod && !pod.terminating) startProcess(pod);
    });
  };
  const gracefulDelete = (pod: PodState) => {
    if (pod.terminating) return;
    pod.terminating = true;
    const remove = () => {
      pod.process?.proc.kill();
      if (pods.get(pod.name) === pod) pods.delete(pod.name);
    };
    kernel.after(2000, remove); // terminationGracePeriod, then SIGKILL
    if (pod.process?.alive) pod.process.terminate(() => kernel.after(random.int(1, 20), remove));
    else kernel.after(random.int(1, 20), remove);
  };
  const podsOf = (fleet: string) => [...pods.values()].filter((p) => p.fleet === fleet);

  // The StatefulSet controller, one StatefulSet per fleet.
  const statefulSet = () => {
    for (const fleet of fleetNames) {
      const target = Math.min(desired.get(fleet)!, stsReplicas.get(fleet)!);
      for (let ordinal = 0; ordinal < target; ordinal++) {
        if (!pods.has(`${fleet}-${ordinal}`)) createPod(fleet, ordinal);
      }
      for (const pod of podsOf(fleet)) if (pod.ordinal >= target) gracefulDelete(pod);
    }
    kernel.after(100, statefulSet);
  };
  kernel.after(0, statefulSet);

  // The operator (leader): one process reconciling every fleet.
  const operatorWorld = (fleet: string) => ({
    pods: (): FleetPod[] =>
      podsOf(fleet).map((p) => ({
        name: p.name,
        uid: p.uid,
        ordinal: p.ordinal,
        terminating: p.terminating,
      })),
    desired: () => desired.get(fleet)!,
    sizeStatefulSet: (n: number) => {
      stsReplicas.set(fleet, n);
    },
  });
  let operators: SimOperator[] = [];
  const startOperator = () => {
    const proc = new SimProcess(
      kernel,
      `op${++procCounter}`,
      SIM_WALL_OFFSET + random.int(-s.skewMs, s.skewMs),
      newRate(),
    );
    const link: LinkState = { partitionedUntil: 0 };
    const leaseSync = simLeaseSync(proc, link, api, () => ledgerWritten, s.operatorMutation ?? {});
    operators = fleetNames.map(
      (fleet) => new SimOperator(proc, link, leaseSync, random, specOf(fleet), operatorWorld(fleet)),
    );
    for (const operator of operators) operator.start();
  };
  startOperator();
  const operatorProc = () => operators[0]!.proc;
  const operatorLink = () => operators[0]!.link;

  // Faults.
  const livePods = () =>
    [...pods.values()]
      .filter((p) => p.process?.alive)
      .sort((a, b) => a.ordinal - b.ordinal || a.fleet.localeCompare(b.fleet));
  const processes = () => [
    ...livePods().map((p) => p.process as SimGenerator),
    ...zombies.filter((z) => z.alive),
  ];
  for (const fault of [...s.faults].sort((a, b) => a.at - b.at)) {
    if (fault.kind === "ledger-rollback") {
      const restoreAt = Math.min(fault.at, s.horizonMs);
      kernel.at(Math.max(0, restoreAt - fault.ageMs), () => {
        const snapshot = api.snapshot();
        kernel.at(restoreAt, () => {
          api.downUntil = Math.max(api.downUntil, kernel.now + fault.outageMs);
          api.restore(snapshot, "etcd-restore");
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
          pods.delete(pod.name);
          const zombie = pod.process as SimGenerator;
          zombies.push(zombie);
          if (fault.partitionMs !== null) zombie.link.partitionedUntil = kernel.now + fault.partitionMs;
          if (fault.zombieLifeMs !== null) kernel.after(fault.zombieLifeMs, () => zombie.proc.kill());
          break;
        }
        case "crash": {
          const pod = pick(livePods(), fault.target);
          if (!pod || pod.restarting) break;
          pod.process?.proc.kill();
          pod.restarting = true;
          kernel.after(random.int(50, 1500), () => {
            pod.restarting = false;
            if (pods.get(pod.name) === pod && !pod.terminating) startProcess(pod);
          });
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
        case "scale":
          desired.set(fleetNames[Math.floor(fault.at) % fleetNames.length]!, fault.replicas);
          break;
        case "ledger-loss":
          api.remove(operators[0]!.ledgerName, "kubectl");
          break;
        case "lease-loss": {
          const pod = pick(livePods(), fault.target);
          if (!pod) break;
          api.remove(`lease/${pod.name}-lease`, "kubectl");
          if (fault.crashClockStepMs === null || pod.restarting) break;
          pod.process?.proc.kill();
          pod.restarting = true;
          pod.wallOffsetMs += fault.crashClockStepMs;
          kernel.after(random.int(50, 1500), () => {
            pod.restarting = false;
            if (pods.get(pod.name) === pod && !pod.terminating) startProcess(pod);
          });
          break;
        }
        case "rate-skew": {
          const p = pick(processes(), fault.target);
          p?.proc.setMonoRate(fault.rate);
          if (fault.clocks === "both") p?.proc.setWallRate(fault.rate);
          break;
        }
      }
    });
  }

  await kernel.runUntil(s.horizonMs + s.tailMs);

  const liveness: string[] = [];
  // Every id the fleets want and the range has must be serving by the end of the quiet tail,
  // unless its holder's clock was left stepped ahead: refusing is then what it should do.
  const totalDesired = [...desired.values()].reduce((a, b) => a + b, 0);
  const expected = Math.min(totalDesired, s.rangeSize);
  const serving = livePods().filter(
    (p) =>
      p.ordinal < desired.get(p.fleet)! &&
      (kernel.now - (p.process?.lastIssuedAt ?? -Infinity) < 1000 || p.process?.clockRefuses() === true),
  );
  if (serving.length < expected) {
    liveness.push(`${serving.length} of ${expected} pods served in the last second of the quiet tail`);
    for (const pod of [...pods.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      liveness.push(
        `pod ${pod.name} ${pod.uid} terminating=${pod.terminating} ${pod.process?.describe() ?? "no process"}`,
      );
    }
    for (const fleet of fleetNames)
      liveness.push(`${fleet}: statefulset ${stsReplicas.get(fleet)}, desired ${desired.get(fleet)}`);
    for (const name of api.names()) liveness.push(`${name}: ${JSON.stringify(api.peek(name)?.data)}`);
  }
  if (s.trace) liveness.push(...trace);
  return {
    violations: tracker.violations,
    issued: tracker.issuedTotal,
    duplicates: tracker.duplicates,
    handovers: tracker.handovers,
    liveness,
    refusedAfterServing: allGenerators.reduce((n, g) => n + g.refusedAfterServing, 0),
  };
}

/** Offset of every simulated wall clock from true time (true time 0 = a recent instant). */

function pick<T>(list: T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}
