import fc from "fast-check";
import { SIM_TIMING, type Fault, type Scenario } from "./sim-world.ts";

/** Faults happen in the first 40 s of a simulated run. */
export const SIM_HORIZON_MS = 40_000;

const D = SIM_TIMING.leaseDurationMs;

/** Every kind of simulated fault, as random arbitraries at true times in [0, horizonMs]. */
export function simFaults(horizonMs: number = SIM_HORIZON_MS) {
  const at = fc.integer({ min: 0, max: horizonMs });
  const target = fc.nat(20);
  /** A fault on one process for up to four lease durations. */
  const forAWhile = <K extends "pause" | "suspend" | "partition">(kind: K) =>
    fc.record({ at, kind: fc.constant(kind), target, durationMs: fc.integer({ min: 50, max: 4 * D }) });
  return {
    graceful: fc.record({ at, kind: fc.constant("graceful-delete" as const), target }),
    force: fc.record({
      at,
      kind: fc.constant("force-delete" as const),
      target,
      zombieLifeMs: fc.option(fc.integer({ min: 0, max: 4 * D }), { nil: null }),
      partitionMs: fc.option(fc.integer({ min: 0, max: 4 * D }), { nil: null }),
    }),
    crash: fc.record({ at, kind: fc.constant("crash" as const), target }),
    pause: forAWhile("pause"),
    suspend: forAWhile("suspend"),
    clockStep: fc.record({
      at,
      kind: fc.constant("clock-step" as const),
      target,
      stepMs: fc.integer({ min: -3000, max: 3000 }),
    }),
    partition: forAWhile("partition"),
    slowRequest: fc.record({
      at,
      kind: fc.constant("slow-request" as const),
      target,
      delayMs: fc.integer({ min: 100, max: 2 * D }),
    }),
    apiOutage: fc.record({
      at,
      kind: fc.constant("api-outage" as const),
      durationMs: fc.integer({ min: 50, max: 2 * D }),
    }),
    operatorRestart: fc.record({
      at,
      kind: fc.constant("operator-restart" as const),
      splitBrainMs: fc.option(fc.integer({ min: 100, max: 4 * D }), { nil: null }),
    }),
    operatorPartition: fc.record({
      at,
      kind: fc.constant("operator-partition" as const),
      durationMs: fc.integer({ min: 50, max: 3 * D }),
    }),
    scale: fc.record({ at, kind: fc.constant("scale" as const), replicas: fc.integer({ min: 0, max: 8 }) }),
    ledgerLoss: fc.record({ at, kind: fc.constant("ledger-loss" as const) }),
    leaseLoss: fc.record({
      at,
      kind: fc.constant("lease-loss" as const),
      target,
      crashClockStepMs: fc.option(fc.integer({ min: -3000, max: 3000 }), { nil: null }),
    }),
    /** The API server's storage restored from a snapshot up to 4 lease durations old. */
    ledgerRollback: fc.record({
      at,
      kind: fc.constant("ledger-rollback" as const),
      ageMs: fc.integer({ min: 100, max: 4 * D }),
      outageMs: fc.integer({ min: 0, max: 2 * D }),
    }),
    informerLag: fc.record({
      at,
      kind: fc.constant("informer-lag" as const),
      durationMs: fc.integer({ min: 500, max: 6 * D }),
      lagMs: fc.integer({ min: 100, max: 3 * D }),
    }),
  } satisfies Record<string, fc.Arbitrary<Fault>>;
}

/**
 * Random simulated runs: fleet size, range, clock skew and up to 30 faults drawn from
 * `faults`, then a quiet tail of six lease durations in which every pod must come to serve.
 */
export function randomScenario(
  faults: fc.Arbitrary<Fault>,
  extra: Partial<Scenario> = {},
): fc.Arbitrary<Scenario> {
  return fc
    .record({
      seed: fc.integer(),
      rangeSize: fc.integer({ min: 1, max: 8 }),
      initialReplicas: fc.integer({ min: 0, max: 7 }),
      skewMs: fc.integer({ min: 0, max: 2000 }),
      faults: fc.array(faults, { maxLength: 30 }),
      horizonMs: fc.constant(SIM_HORIZON_MS),
      tailMs: fc.constant(6 * SIM_TIMING.leaseDurationMs),
    })
    .map((s) => ({ ...s, ...extra }));
}
