import fc from "fast-check";
import { SIM_TIMING, type Fault, type Scenario } from "./sim-world.ts";

/** Faults happen in the first 40 s of a simulated run. */
export const SIM_HORIZON_MS = 40_000;

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
