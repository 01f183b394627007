import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomScenario, simFaults } from "./protocol-sim/sim-schedules.ts";
import { runScenario, SIM_TIMING, type Fault, type Scenario } from "./protocol-sim/sim-world.ts";

/*
 * The whole lease protocol, simulated: the real LeaseSync and planner, the real keeper,
 * holder rules and issuer, a simulated API server with resourceVersions and a lossy network, per-process
 * wall clocks with skews and steps, monotonic clocks with bounded rate drift, pauses,
 * partitions, API outages, pod deaths, force-deletes, container restarts, operator
 * restarts (including a deposed leader that finishes its pass) and scaling. fast-check
 * generates the fault schedules and shrinks any failure to a short one.
 */

const D = SIM_TIMING.leaseDurationMs;

// The faults of one fleet's life (etcd restores and slow informers have their own files).
const { ledgerRollback: _restore, informerLag: _informer, ...faultArbs } = simFaults();
const anyFault: fc.Arbitrary<Fault> = fc.oneof(...Object.values(faultArbs));

const scenarioArb = (
  extra: Partial<Scenario> = {},
  faultArb: fc.Arbitrary<Fault> = anyFault,
): fc.Arbitrary<Scenario> => randomScenario(faultArb, extra);

const RUNS = Number(process.env.LEASE_SIM_RUNS ?? 150);
// A fixed seed keeps CI repeatable; LEASE_SIM_SEED=random explores new schedules (and prints the
// seed of any failure). Random exploration found a liveness stall after a late renewal, now
// fixed and pinned down by lease-liveness.test.ts (docs/lease-protocol.md).
const SEED_SETTING = process.env.LEASE_SIM_SEED ?? "20261121";
const SEED = SEED_SETTING === "random" ? undefined : Number(SEED_SETTING);

describe("lease protocol simulation", () => {
  it(`keeps every invariant under random faults (${RUNS} schedules)`, { timeout: 600_000 }, async () => {
    let issued = 0;
    let handovers = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb(), async (s) => {
        const r = await runScenario(s);
        issued += r.issued;
        handovers += r.handovers;
        expect(r.violations).toEqual([]);
        expect(r.liveness).toEqual([]);
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    console.info(
      `lease simulation: ${RUNS} schedules, ${issued} IDs issued and checked, ${handovers} worker-id handovers`,
    );
    // The runs did real work: IDs were issued and worker ids changed hands.
    expect(issued).toBeGreaterThan(RUNS * 100);
    expect(handovers).toBeGreaterThan(RUNS / 10);
  });

  it(
    `keeps two fleets sharing an id space disjoint under random faults (${Math.ceil(RUNS / 2)} schedules)`,
    { timeout: 600_000 },
    async () => {
      let issued = 0;
      await fc.assert(
        fc.asyncProperty(scenarioArb({ fleets: 2 }), async (s) => {
          const r = await runScenario(s);
          issued += r.issued;
          expect(r.violations).toEqual([]);
          expect(r.liveness).toEqual([]);
        }),
        { numRuns: Math.ceil(RUNS / 2), ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      console.info(`lease simulation, two fleets in one id space: ${issued} IDs issued and checked`);
      expect(issued).toBeGreaterThan(RUNS * 50);
    },
  );

  // The schedule of the lost-lease report: a lease deleted by hand while its container crashes
  // and comes back on a node clock behind (or ahead of) the old process's. Before leases could be
  // lost without losing their reservation, every one of these runs minted duplicates.
  it(
    "keeps a lost lease's reservation when its container crashes and returns with another clock (regression)",
    { timeout: 600_000 },
    async () => {
      // Without the pod's emptyDir memory (generator/src/lease/reservation-memory.ts), which
      // protects a restarted container on its own: here the operator's rule alone must.
      const schedule = (seed: number, stepMs: number, operatorMutation?: Scenario["operatorMutation"]) =>
        runScenario({
          generatorMutation: { forgetAcrossRestarts: true },
          seed,
          rangeSize: 2,
          initialReplicas: 2,
          skewMs: 0,
          faults: [
            { at: 8_000, kind: "lease-loss", target: seed, crashClockStepMs: stepMs },
            { at: 20_000, kind: "lease-loss", target: seed + 1, crashClockStepMs: stepMs },
          ],
          horizonMs: 25_000,
          tailMs: 6 * D,
          ...(operatorMutation ? { operatorMutation } : {}),
        });
      let broken = 0;
      for (let seed = 1; seed <= 20; seed++) {
        for (const step of [-3000, 3000]) {
          const r = await schedule(seed, step);
          expect(r.violations).toEqual([]);
          expect(r.liveness).toEqual([]);
          if ((await schedule(seed, step, { forgetLostLeaseReservations: true })).violations.length) broken++;
        }
      }
      console.info(`lost-lease regression: 40 schedules clean; the old rule broke ${broken} of them`);
      // The old rule fails the clock-behind half of them at least.
      expect(broken).toBeGreaterThanOrEqual(20);
    },
  );

  const mutants: [string, Partial<Scenario>, fc.Arbitrary<Fault>?][] = [
    [
      "an operator that reuses retiring ids without waiting",
      { operatorMutation: { reclaimWithoutWaiting: true } },
      fc.oneof(faultArbs.force, faultArbs.scale),
    ],
    [
      "an operator that hands ids over without the previous holder's reservation",
      { operatorMutation: { forgetFloors: true } },
    ],
    [
      "a generator that ignores the previous holder's reservation",
      { generatorMutation: { ignoreHandoverFloor: true } },
    ],
    [
      "an operator that re-issues a lost lease with the floor its claim was made with (pods without emptyDir memory)",
      {
        operatorMutation: { forgetLostLeaseReservations: true },
        generatorMutation: { forgetAcrossRestarts: true },
      },
      fc.oneof(faultArbs.leaseLoss, faultArbs.leaseLoss, faultArbs.scale),
    ],
    [
      "a generator that trusts its monotonic clock across a VM suspend",
      { generatorMutation: { ignoreSuspend: true } },
      // A suspended VM whose pod is force-deleted meanwhile: its worker id goes to another pod.
      fc.oneof(faultArbs.suspend, faultArbs.suspend, faultArbs.force),
    ],
    [
      "a generator that never fences itself",
      { generatorMutation: { neverSelfFence: true } },
      fc.oneof(faultArbs.force, faultArbs.scale),
    ],
  ];
  for (const [name, mutation, faults] of mutants) {
    it(`catches ${name}`, { timeout: 600_000 }, async () => {
      const result = await fc.check(
        fc.asyncProperty(
          scenarioArb(mutation, faults),
          async (s) => (await runScenario(s)).violations.length === 0,
        ),
        { numRuns: 300 },
      );
      expect(result.failed).toBe(true);
    });
  }
});
