import fc from "fast-check";
import { SIM_HORIZON_MS } from "./sim-schedules.ts";
import { SIM_TIMING, type Fault } from "./sim-world.ts";

const D = SIM_TIMING.leaseDurationMs;
const HORIZON = SIM_HORIZON_MS;

/** When a fault strikes, and which candidate (modulo how many there are). */
export const faultAt = fc.integer({ min: 0, max: HORIZON });
export const faultTarget = fc.nat(20);
const at = faultAt;
const target = faultTarget;

/** One arbitrary per kind of fault, with the ranges the property tests draw from. */
export const simFaults = {
  graceful: fc.record({ at, kind: fc.constant("graceful-delete" as const), target }),
  force: fc.record({
    at,
    kind: fc.constant("force-delete" as const),
    target,
    zombieLifeMs: fc.option(fc.integer({ min: 0, max: 4 * D }), { nil: null }),
    partitionMs: fc.option(fc.integer({ min: 0, max: 4 * D }), { nil: null }),
  }),
  crash: fc.record({ at, kind: fc.constant("crash" as const), target }),
  pause: fc.record({
    at,
    kind: fc.constant("pause" as const),
    target,
    durationMs: fc.integer({ min: 50, max: 4 * D }),
  }),
  suspend: fc.record({
    at,
    kind: fc.constant("suspend" as const),
    target,
    durationMs: fc.integer({ min: 50, max: 4 * D }),
  }),
  clockStep: fc.record({
    at,
    kind: fc.constant("clock-step" as const),
    target,
    stepMs: fc.integer({ min: -3000, max: 3000 }),
  }),
  partition: fc.record({
    at,
    kind: fc.constant("partition" as const),
    target,
    durationMs: fc.integer({ min: 50, max: 4 * D }),
  }),
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
} satisfies Record<string, fc.Arbitrary<Fault>>;
