import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomScenario, SIM_HORIZON_MS, simFaults } from "./protocol-sim/sim-schedules.ts";
import { runScenario, SIM_TIMING, type Fault, type Scenario } from "./protocol-sim/sim-world.ts";

/*
 * Wall clocks far off, with no NTP servers (the simulated fleets name none): lost-state floors
 * cover a holder whose clock is at most reserveAhead + maxDrift + 1.5 s ahead, and the API
 * server's Date header is what keeps every holder inside that bound (contract/server-time.ts).
 * The simulated generators run the real ClockHealth fed by every answer's Date, the real
 * wall-jump detector and the fence-until-renewed rule; the simulated operator computes floors
 * from the real ApiServerClock.
 */

const D = SIM_TIMING.leaseDurationMs;
const RUNS = Number(process.env.LEASE_SIM_RUNS ?? 150);
const SEED_SETTING = process.env.LEASE_SIM_SEED ?? "20261205";
const SEED = SEED_SETTING === "random" ? undefined : Number(SEED_SETTING);

const at = fc.integer({ min: 0, max: SIM_HORIZON_MS });
const target = fc.nat(20);
const common = simFaults();
/** Steps far past what the floors cover without the check (reserveAhead is 1.5 s here). */
const farStep = fc.integer({ min: -10_000, max: 10_000 });
const faults: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ at, kind: fc.constant("clock-step" as const), target, stepMs: farStep }),
  fc.record({ at, kind: fc.constant("clock-step" as const), target, stepMs: farStep }),
  fc.record({
    at,
    kind: fc.constant("lease-loss" as const),
    target,
    crashClockStepMs: fc.option(farStep, { nil: null }),
  }),
  common.crash,
  common.force,
  common.operatorPartition,
  common.operatorRestart,
  common.ledgerLoss,
  common.scale,
);

/**
 * A holder's clock steps 10 s ahead while the operator cannot see its renewals, then its lease
 * is deleted by hand and its container crashes back onto a correct clock. The ledger's record of
 * its reservation is from before the step, and the lost-lease floor from the operator's clock
 * covers 1.5 s of reserve-ahead plus the tolerance: only the clock check keeps the stepped
 * holder from issuing the ticks its replacement will issue again.
 */
const stepWhileUnwatched = (seed: number, extra: Partial<Scenario> = {}): Scenario => ({
  seed,
  rangeSize: 1,
  initialReplicas: 1,
  skewMs: 0,
  faults: [
    { at: 8_000, kind: "operator-partition", durationMs: 6_000 },
    { at: 8_100, kind: "clock-step", target: 0, stepMs: 10_000 },
    { at: 10_500, kind: "lease-loss", target: 0, crashClockStepMs: -10_000 },
  ],
  horizonMs: 25_000,
  tailMs: 6 * D,
  ...extra,
});

describe("lease protocol simulation: wall clocks far off, no NTP", () => {
  it(
    `keeps every invariant with clocks stepped up to 10 s either way (${RUNS} schedules)`,
    { timeout: 600_000 },
    async () => {
      let issued = 0;
      await fc.assert(
        fc.asyncProperty(randomScenario(faults), async (s) => {
          const r = await runScenario(s);
          issued += r.issued;
          expect(r.violations).toEqual([]);
          expect(r.duplicates).toBe(0);
          expect(r.liveness).toEqual([]);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      console.info(`clock simulation: ${RUNS} schedules, ${issued} IDs issued and checked`);
      expect(issued).toBeGreaterThan(RUNS * 100);
    },
  );

  it(
    "keeps a holder whose clock stepped ahead unseen from issuing what its replacement will (regression)",
    { timeout: 600_000 },
    async () => {
      // The crash comes back in the same pod, whose emptyDir remembers what it reserved; without
      // that memory (a wiped emptyDir) only the clock check stands between the two processes.
      const forgetful = { forgetAcrossRestarts: true };
      let broken = 0;
      for (let seed = 1; seed <= 10; seed++) {
        for (const generatorMutation of [{}, forgetful]) {
          const r = await runScenario(stepWhileUnwatched(seed, { generatorMutation }));
          expect(r.violations).toEqual([]);
          expect(r.duplicates).toBe(0);
        }
        const unchecked = await runScenario(
          stepWhileUnwatched(seed, { generatorMutation: { ...forgetful, ignoreClockCheck: true } }),
        );
        if (unchecked.duplicates > 0) broken++;
      }
      console.info(
        `clock-ahead regression: 20 schedules clean; without the clock check and the pod's memory ${broken} of 10 minted duplicates`,
      );
      expect(broken).toBeGreaterThanOrEqual(5);
    },
  );
});
