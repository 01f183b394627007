import { describe, expect, it } from "vitest";
import { runScenario, SIM_TIMING, type Scenario } from "./protocol-sim/sim-world.ts";

/*
 * Liveness regressions for the holder: faults that must not cost a single refused request.
 * Random exploration of the protocol simulation found a pod that stopped serving for over a
 * second because one renewal reached the API server late: its keeper timed out, waited a
 * quarter interval, and the reservation ran out before the retry (docs/lease-protocol.md).
 */

const quiet = (faults: Scenario["faults"]): Scenario => ({
  seed: 20261122,
  rangeSize: 3,
  initialReplicas: 3,
  skewMs: 0,
  faults,
  horizonMs: 12_000,
  tailMs: 2 * SIM_TIMING.leaseDurationMs,
  // Only the injected delays: a random second one would be a different (double) fault.
  longDelayChance: 0,
});

describe("a renewal that lands after its sender gave up", () => {
  // From just past the request timeout to longer than the whole lease.
  for (const delayMs of [300, 700, 1_200, 4_000]) {
    it(`costs no refused request when it arrives ${delayMs} ms late`, async () => {
      const r = await runScenario(
        quiet(
          [0, 1, 2].map((target) => ({ at: 6_000 + target * 1_700, kind: "slow-request", target, delayMs })),
        ),
      );
      expect(r.violations).toEqual([]);
      expect(r.liveness).toEqual([]);
      expect(r.issued).toBeGreaterThan(1_000);
      expect(r.refusedAfterServing).toBe(0);
    });
  }

  it("a fault-free run refuses nothing either (the check above can tell)", async () => {
    const r = await runScenario(quiet([]));
    expect(r.refusedAfterServing).toBe(0);
    const lost = await runScenario(quiet([{ at: 6_000, kind: "partition", target: 0, durationMs: 4_000 }]));
    expect(lost.refusedAfterServing).toBeGreaterThan(0);
  });
});
