import { layoutMath } from "../../../contract/id-layout-math.ts";
import { FleetConditionType, type FleetStatus, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { LeaseState, type LeaseData, type Ledger } from "../../../contract/lease-record.ts";
import { capacityForecast } from "./capacity-forecast.ts";
import { ClockReference, clockReferenceOf } from "../../../contract/server-time.ts";
import { describeClockDrift, isOutOfTolerance } from "./clock-drift-report.ts";
import { mergeConditions, type ConditionUpdate } from "./conditions.ts";
import { fleetSelectorString } from "./fleet-naming.ts";
import { workerIdsExhaustedMessage, type WorkerIdShortage } from "./worker-ids-exhausted.ts";

/** What the reconcile observed and decided, the input of the status. */
export interface FleetObservation {
  /** Pods that exist (from the informer cache) and how many of them are ready. */
  pods: number;
  readyPods: number;
  /** Replicas the StatefulSet runs: spec.replicas, capped to the worker ids that can be leased. */
  runnableReplicas: number;
  /** Set when the planner found fewer worker ids for this fleet than spec.replicas (WorkerIdsExhausted). */
  workerIdShortage: WorkerIdShortage | null;
  /** Leases confirmed by their live holder (from the planner). */
  leasedWorkers: number;
  /** Parsed leases of this fleet's pods. */
  leases: readonly LeaseData[];
  /** True while the StatefulSet has not caught up with its spec (rollout or scaling under way). */
  rollingOut: boolean;
  /** Worker-id conflicts: overlapping ranges in a shared id space, leases the ledger does not back... */
  conflicts: readonly string[];
  /** Pods waiting for a worker id, and why. */
  waiting: readonly string[];
  /**
   * Why the fleet gets no worker id because of its layout (another layout owns the id space,
   * a refused succession) or a succession still waiting for the old layout's holders; null when neither.
   */
  layout: { conflict: string; waitingForSuccession: boolean } | null;
  /** Why pods are not ready, as far as their status tells (crash loops, image pulls, scheduling). */
  podProblems: readonly string[];
  /** Problems that keep the operator from doing its job (apply errors, invalid epoch...). */
  problems: readonly string[];
  /** The id space's ledger as last read, for the worker-id forecast; null when it could not be read. */
  ledger: Ledger | null;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Holder reports roll-up: clock offset and sequence utilization over live leases. */
export function rollUpLeases(
  leases: readonly LeaseData[],
  maxDriftMs: number,
  reference: ClockReference = ClockReference.Ntp,
): Pick<FleetStatus, "clock" | "sequenceUtilization"> {
  const live = leases.filter((l) => l.state !== LeaseState.Released);
  const offsets = live.map((l) => l.clockOffsetMs).filter((o): o is number => o !== undefined);
  const utils = live.map((l) => l.sequenceUtilization).filter((u): u is number => u !== undefined);
  const outOfTolerance = live.filter((l) => isOutOfTolerance(l, maxDriftMs, reference)).length;
  return {
    clock: {
      ...(offsets.length ? { maxOffsetMs: round(Math.max(...offsets.map(Math.abs)), 3) } : {}),
      ...(offsets.length
        ? { meanOffsetMs: round(offsets.reduce((a, b) => a + b, 0) / offsets.length, 3) }
        : {}),
      podsOutOfTolerance: outOfTolerance,
    },
    // Absent rather than empty: server-side apply turns an emptied object it owned into null,
    // which the status schema refuses, and every status write would fail from then on.
    ...(utils.length
      ? {
          sequenceUtilization: {
            max: round(Math.max(...utils), 4),
            mean: round(utils.reduce((a, b) => a + b, 0) / utils.length, 4),
          },
        }
      : {}),
  };
}

/** The fleet's status for one observation. Pure: `now` only stamps condition transitions. */
export function computeFleetStatus(fleet: IdGeneratorFleet, o: FleetObservation, now: Date): FleetStatus {
  const { spec } = fleet;
  const generation = fleet.metadata.generation ?? 0;
  const math = layoutMath(spec.layout);
  const rollup = rollUpLeases(o.leases, spec.clock.maxDriftMs, clockReferenceOf(spec.clock.ntpServers));
  const desired = spec.replicas;
  const exhausted = o.workerIdShortage !== null;
  const drifting = rollup.clock?.podsOutOfTolerance ?? 0;
  const { summary, ...forecastFields } = capacityForecast(fleet, o.ledger, now.getTime());

  const conditions: ConditionUpdate[] = [
    o.workerIdShortage
      ? {
          type: FleetConditionType.WorkerIdsExhausted,
          status: "True",
          reason: "NotEnoughWorkerIds",
          message: workerIdsExhaustedMessage(fleet, o.workerIdShortage),
        }
      : {
          type: FleetConditionType.WorkerIdsExhausted,
          status: "False",
          reason: "WorkerIdsAvailable",
          message: `worker ids available for all ${desired} replicas`,
        },
    o.conflicts.length
      ? {
          type: FleetConditionType.WorkerIdConflict,
          status: "True",
          reason: "WorkerIdConflict",
          message: `${o.conflicts.join("; ")}. Fleets sharing an id space need disjoint spec.idSpace.workerIdRange`,
        }
      : {
          type: FleetConditionType.WorkerIdConflict,
          status: "False",
          reason: "NoConflict",
          message: "worker-id range is disjoint from other fleets in the id space",
        },
    o.layout
      ? {
          type: FleetConditionType.LayoutConflict,
          status: "True",
          reason: o.layout.waitingForSuccession ? "SuccessionWaiting" : "LayoutConflict",
          message: o.layout.conflict,
        }
      : {
          type: FleetConditionType.LayoutConflict,
          status: "False",
          reason: "SameLayout",
          message: "the id space issues IDs with this fleet's layout",
        },
    drifting
      ? {
          type: FleetConditionType.ClockDrift,
          status: "True",
          reason: "ClockOffsetExceeded",
          message: describeClockDrift(
            o.leases,
            spec.clock.maxDriftMs,
            clockReferenceOf(spec.clock.ntpServers),
          ),
        }
      : {
          type: FleetConditionType.ClockDrift,
          status: "False",
          reason: "ClocksInTolerance",
          message: spec.clock.ntpServers.length
            ? `all reporting pods are within ${spec.clock.maxDriftMs} ms`
            : `no reporting pod is proven more than ${spec.clock.maxDriftMs} ms ahead of the API server's clock (no NTP servers configured)`,
        },
    o.rollingOut || o.pods !== o.runnableReplicas
      ? {
          type: FleetConditionType.Progressing,
          status: "True",
          reason: "RollingOut",
          message: `${o.pods} of ${o.runnableReplicas} pods exist, ${o.readyPods} ready`,
        }
      : {
          type: FleetConditionType.Progressing,
          status: "False",
          reason: "Stable",
          message: `${o.runnableReplicas} pods, rollout complete`,
        },
    o.problems.length
      ? {
          type: FleetConditionType.Degraded,
          status: "True",
          reason: "ReconcileFailed",
          message: o.problems.join("; "),
        }
      : o.layout
        ? {
            type: FleetConditionType.Degraded,
            status: "True",
            reason: "LayoutConflict",
            message: "see the LayoutConflict condition",
          }
        : exhausted || o.conflicts.length
          ? {
              type: FleetConditionType.Degraded,
              status: "True",
              reason: exhausted ? "WorkerIdsExhausted" : "WorkerIdConflict",
              message: "see the WorkerIdsExhausted and WorkerIdConflict conditions",
            }
          : { type: FleetConditionType.Degraded, status: "False", reason: "Healthy", message: "no problems" },
    o.layout
      ? {
          type: FleetConditionType.Ready,
          status: "False",
          reason: o.layout.waitingForSuccession ? "SuccessionWaiting" : "LayoutConflict",
          message: `no worker id, nothing issued: ${o.layout.conflict}`,
        }
      : o.readyPods >= desired && !exhausted && !o.problems.length
        ? {
            type: FleetConditionType.Ready,
            status: "True",
            reason: desired === 0 ? "ScaledToZero" : "AllPodsReady",
            message: `${o.readyPods} of ${desired} pods ready to issue IDs`,
          }
        : {
            type: FleetConditionType.Ready,
            status: "False",
            reason: "PodsNotReady",
            message: `${o.readyPods} of ${desired} pods ready to issue IDs${drifting ? "; see ClockDrift" : ""}${o.podProblems.length ? `; ${o.podProblems.join("; ")}` : ""}`,
          },
  ];

  return {
    observedGeneration: generation,
    replicas: o.pods,
    readyReplicas: o.readyPods,
    selector: fleetSelectorString(fleet.metadata.name),
    ...rollup,
    leasedWorkers: o.leasedWorkers,
    capacityIdsPerSecond: Math.round(o.readyPods * math.idsPerSecondPerWorker),
    ...forecastFields,
    capacityForecast: summary,
    conditions: mergeConditions(fleet.status?.conditions, conditions, generation, now),
  };
}
