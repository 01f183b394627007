import { idsPassSafeIntegerAt } from "../../../contract/id-capacity.ts";
import { layoutMath } from "../../../contract/id-layout-math.ts";
import {
  idSpaceNameOf,
  workerIdRangeOf,
  type FleetStatus,
  type IdGeneratorFleet,
} from "../../../contract/fleet-spec.ts";
import { LedgerEntryState, type Ledger } from "../../../contract/lease-record.ts";
import { workerIdAvailability } from "../leases/worker-id-availability.ts";

/** How much room a fleet has left: worker ids now, timestamp bits and 2^53 over time (status fields). */
export type CapacityForecast = Pick<
  FleetStatus,
  "workerIds" | "layoutExhaustsAt" | "idsPassSafeIntegerAt"
> & {
  /** All of it in words (status.capacityForecast, shown by `kubectl describe`). */
  summary: string;
};

const DAY_MS = 86_400_000;
const seconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");
const day = (date: Date) => date.toISOString().slice(0, 10);

/** How far off `at` is, in the unit that reads best (days, months or years). */
function span(fromMs: number, toMs: number): string {
  const days = Math.abs(toMs - fromMs) / DAY_MS;
  if (days < 60) return `${Math.floor(days)} days`;
  if (days < 730) return `${Math.floor(days / 30.44)} months`;
  return `${Math.floor(days / 365.25)} years`;
}

/** The most pods a fleet may ask for (what its worker ids must cover). */
export function maxReplicasOf(fleet: IdGeneratorFleet): number {
  const { autoscaling, replicas } = fleet.spec;
  return autoscaling.enabled ? Math.max(autoscaling.maxReplicas, replicas) : replicas;
}

/**
 * The capacity a fleet has left, from its spec, its id space's ledger (null when it could
 * not be read) and the current time. Pure.
 */
export function capacityForecast(
  fleet: IdGeneratorFleet,
  ledger: Ledger | null,
  nowMs: number,
): CapacityForecast {
  const { spec } = fleet;
  const name = fleet.metadata.name;
  const math = layoutMath(spec.layout);
  const words: string[] = [];
  const forecast: Omit<CapacityForecast, "summary"> = {};

  if (ledger) {
    const range = workerIdRangeOf(spec);
    const inRange = workerIdAvailability(range, ledger);
    const inIdSpace = workerIdAvailability({ min: 0, max: math.maxWorkerId }, ledger);
    let heldByFleet = 0;
    for (const [workerId, entry] of ledger.entries) {
      if (workerId < range.min || workerId > range.max || entry.state === LedgerEntryState.Free) continue;
      if (entry.fleet === name) heldByFleet++;
    }
    const maxReplicas = maxReplicasOf(fleet);
    forecast.workerIds = {
      inRange: inRange.capacity,
      freeInRange: inRange.available,
      heldByFleet,
      inIdSpace: inIdSpace.capacity,
      freeInIdSpace: inIdSpace.available,
      maxReplicas,
    };
    const reachable = heldByFleet + inRange.available;
    const knob = spec.autoscaling.enabled ? "spec.autoscaling.maxReplicas" : "spec.replicas";
    const space = idSpaceNameOf(name, spec);
    words.push(
      `Worker ids: ${inRange.available} of ${inRange.capacity} free in range ${range.min}-${range.max}, this fleet holds ${heldByFleet}; ${inIdSpace.available} of ${inIdSpace.capacity} free in id space ${space}.`,
      reachable >= maxReplicas
        ? `${knob} ${maxReplicas} is covered (${reachable} ids held or free).`
        : `${knob} is ${maxReplicas} but only ${reachable} ids are held or free: scaling stops at ${reachable}; widen spec.idSpace.workerIdRange or lower ${knob}.`,
    );
  }

  if (math.exhaustsAt) {
    forecast.layoutExhaustsAt = seconds(math.exhaustsAt);
    const left = math.exhaustsAt.getTime() - nowMs;
    words.push(
      left > 0
        ? `Timestamp bits last until ${day(math.exhaustsAt)} (${span(nowMs, math.exhaustsAt.getTime())}).`
        : `Timestamp bits ran out on ${day(math.exhaustsAt)}: no IDs can be issued; create a fleet with a new layout.`,
    );
  } else {
    words.push("Timestamp bits last beyond the year 275760.");
  }

  const unsafe = idsPassSafeIntegerAt(math);
  if (unsafe) {
    forecast.idsPassSafeIntegerAt = seconds(unsafe);
    words.push(
      unsafe.getTime() <= nowMs
        ? `IDs passed 2^53 on ${day(unsafe)}: JavaScript clients must keep them as strings or BigInt.`
        : `IDs pass 2^53 on ${day(unsafe)} (in ${span(nowMs, unsafe.getTime())}): JavaScript clients must keep them as strings or BigInt by then.`,
    );
  }
  return { ...forecast, summary: words.join(" ") };
}
