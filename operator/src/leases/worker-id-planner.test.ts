import { describe, expect, it } from "vitest";
import { LeaseState, LedgerEntryState, type LeaseData, type Ledger } from "../../../contract/lease-record.ts";
import {
  EMPTY_OBSERVATIONS,
  planWorkerIds,
  type FleetPod,
  type ObservedLease,
  type Observations,
  type Plan,
  type PlannerInput,
} from "./worker-id-planner.ts";

/** Epoch at the Unix epoch, 1 ms ticks: a tick in these tests is a wall-clock ms. */
const TEST_LAYOUT = { timestampBits: 41, workerIdBits: 10, sequenceBits: 12, timeUnitMs: 1, epochMs: 0 };
const D = 15_000;
const GRACE = 5_000;

/** A tiny in-memory world the plans are applied to, so each test reads like a timeline. */
class World {
  pods: FleetPod[] = [];
  leases = new Map<string, ObservedLease>();
  ledger: { resourceVersion: string | null; ledger: Ledger } = {
    resourceVersion: null,
    ledger: { nextAssignment: 1, baseFloor: 0, entries: new Map() },
  };
  observations: Observations = EMPTY_OBSERVATIONS;
  now = 1_000;
  private rv = 1;

  readonly desiredReplicas: number;
  readonly range: { min: number; max: number };

  constructor(desiredReplicas: number, range = { min: 0, max: 9 }) {
    this.desiredReplicas = desiredReplicas;
    this.range = range;
  }

  input(overrides: Partial<PlannerInput> = {}): PlannerInput {
    return {
      fleet: "ids",
      idSpace: "ids",
      range: this.range,
      desiredReplicas: this.desiredReplicas,
      pods: this.pods,
      leases: [...this.leases.values()],
      ledger: this.ledger,
      observations: this.observations,
      nowMonoMs: this.now,
      nowWall: `t${this.now}`,
      nowMs: 0,
      lostStateMarginMs: 0,
      layout: TEST_LAYOUT,
      ledgerCreatedHere: true,
      leaseDurationMs: D,
      reclaimGraceMs: GRACE,
      ...overrides,
    };
  }

  plan(overrides: Partial<PlannerInput> = {}): Plan {
    const plan = planWorkerIds(this.input(overrides));
    this.observations = plan.observations;
    return plan;
  }

  /** Applies every action, as lease-sync does when no precondition fails. */
  apply(plan: Plan, upTo = plan.actions.length): void {
    for (const action of plan.actions.slice(0, upTo)) {
      const rv = String(++this.rv);
      if (action.kind === "write-ledger") {
        expect(action.resourceVersion).toBe(this.ledger.resourceVersion);
        this.ledger = { resourceVersion: rv, ledger: action.ledger };
      } else if (action.kind === "create-lease") {
        expect(this.leases.has(action.configMapName)).toBe(false);
        this.leases.set(action.configMapName, {
          configMapName: action.configMapName,
          resourceVersion: rv,
          lease: action.lease,
        });
      } else if (action.kind === "replace-lease") {
        expect(this.leases.get(action.configMapName)?.resourceVersion).toBe(action.resourceVersion);
        this.leases.set(action.configMapName, {
          configMapName: action.configMapName,
          resourceVersion: rv,
          lease: action.lease,
        });
      } else {
        expect(this.leases.get(action.configMapName)?.resourceVersion).toBe(action.resourceVersion);
        this.leases.delete(action.configMapName);
      }
    }
  }

  /** Plans and applies until nothing is left to do. */
  settle(): Plan {
    for (let i = 0; i < 10; i++) {
      const plan = this.plan();
      if (plan.actions.length === 0) return plan;
      this.apply(plan);
    }
    throw new Error("planner did not settle");
  }

  addPod(ordinal: number, uid = `uid-${ordinal}-a`): void {
    this.pods = [
      ...this.pods.filter((p) => p.ordinal !== ordinal),
      { name: `ids-${ordinal}`, uid, ordinal, terminating: false },
    ];
  }

  removePod(ordinal: number): void {
    this.pods = this.pods.filter((p) => p.ordinal !== ordinal);
  }

  /** The holder confirms or renews its lease, as the generator's keeper does. */
  holderWrites(ordinal: number, change: Partial<LeaseData>): void {
    const name = `ids-${ordinal}-lease`;
    const current = this.leases.get(name);
    if (!current) throw new Error(`no lease ${name}`);
    const lease = { ...current.lease, renewCount: current.lease.renewCount + 1, ...change };
    this.leases.set(name, { configMapName: name, resourceVersion: String(++this.rv), lease });
  }

  lease(ordinal: number): LeaseData {
    const l = this.leases.get(`ids-${ordinal}-lease`);
    if (!l) throw new Error(`no lease for ordinal ${ordinal}`);
    return l.lease;
  }
}

function started(replicas: number, range?: { min: number; max: number }): World {
  const world = new World(replicas, range);
  for (let i = 0; i < replicas; i++) world.addPod(i);
  world.settle();
  for (let i = 0; i < replicas; i++)
    world.holderWrites(i, { state: LeaseState.Active, reservedUntil: 1_000 + i });
  world.settle();
  return world;
}

describe("worker-id planner", () => {
  it("claims ids in the ledger before it writes any lease, lowest ids first", () => {
    const world = new World(3);
    for (let i = 0; i < 3; i++) world.addPod(i);
    const plan = world.plan();
    expect(plan.actions.map((a) => a.kind)).toEqual([
      "write-ledger",
      "create-lease",
      "create-lease",
      "create-lease",
    ]);
    const ledger = plan.actions[0];
    if (ledger?.kind !== "write-ledger") throw new Error("ledger first");
    expect(ledger.resourceVersion).toBeNull();
    expect([...ledger.ledger.entries.keys()]).toEqual([0, 1, 2]);
    expect(ledger.ledger.nextAssignment).toBe(4);
    world.apply(plan);
    expect([0, 1, 2].map((i) => world.lease(i).workerId)).toEqual([0, 1, 2]);
    expect(world.lease(1)).toMatchObject({
      state: LeaseState.Assigned,
      holderUid: "uid-1-a",
      handoverAfter: 0,
      assignment: 2,
    });
    expect(plan.allocatableReplicas).toBe(3);
  });

  it("recreates a lost ledger with a base floor, and hands out ids it has no entry for only after lease duration + grace", () => {
    const world = new World(1);
    world.addPod(0);
    const plan = world.plan({ newLedgerBaseFloor: 5_000 });
    world.apply(plan);
    expect(world.ledger.ledger.baseFloor).toBe(5_000);
    // A holder the lost ledger had retiring may still be alive: no claim yet, and it says when.
    expect(world.leases.size).toBe(0);
    // Recreated after a loss: the operator cannot vouch for what the lost ledger knew.
    const recovered = { ledgerCreatedHere: false };
    const waiting = world.plan(recovered);
    expect(waiting.actions).toEqual([]);
    expect(waiting.waitingPods.map((w) => w.pod)).toEqual(["ids-0"]);
    expect(waiting.requeueAfterMs).toBe(D + GRACE);
    world.now += D + GRACE;
    world.apply(world.plan(recovered));
    expect(world.lease(0).handoverAfter).toBe(5_000);
    world.addPod(1);
    world.apply(world.plan({ ...recovered, desiredReplicas: 2, newLedgerBaseFloor: 9_999 }));
    expect(world.lease(1).handoverAfter).toBe(5_000);
  });

  it("hands out ids at once from a new ledger (no base floor: no holder can have existed)", () => {
    const world = new World(1);
    world.addPod(0);
    world.apply(world.plan());
    expect(world.ledger.ledger.baseFloor ?? 0).toBe(0);
    expect(world.lease(0)).toMatchObject({ workerId: 0, handoverAfter: 0 });
  });

  it("writes nothing when nothing changed", () => {
    const world = started(3);
    const plan = world.plan();
    expect(plan.actions).toEqual([]);
    expect(plan.leasedWorkers).toBe(3);
    expect(plan.requeueAfterMs).toBeNull();
  });

  it("gives a replaced pod a different id at once and retires the old one until it is quiet for lease duration + grace", () => {
    const world = started(3);
    world.addPod(1, "uid-1-b"); // force-deleted and recreated: the old process may still run
    const plan = world.plan();
    expect(plan.actions.map((a) => a.kind)).toEqual(["write-ledger", "replace-lease"]);
    world.apply(plan);
    expect(world.lease(1)).toMatchObject({ holderUid: "uid-1-b", workerId: 3, handoverAfter: 0 });
    expect(world.ledger.ledger.entries.get(1)).toMatchObject({
      state: LedgerEntryState.Retiring,
      reservedUntil: 1_001,
    });

    world.now += 1_000;
    const waiting = world.plan();
    expect(waiting.actions).toEqual([]);
    expect(waiting.requeueAfterMs).toBe(D + GRACE);
    world.now += D + GRACE - 1;
    expect(world.plan().actions).toEqual([]);
    world.now += 1;
    const reclaim = world.plan();
    world.apply(reclaim);
    expect(world.ledger.ledger.entries.get(1)).toMatchObject({
      state: LedgerEntryState.Free,
      reservedUntil: 1_001,
    });

    // The reclaimed id goes to the next pod, which must issue only past the old holder's reservation.
    world.addPod(1, "uid-1-c");
    world.settle();
    expect(world.lease(1)).toMatchObject({ workerId: 1, handoverAfter: 1_001, reservedUntil: 1_001 });
  });

  it("waits for the retired holder's own lease duration when the fleet's was shortened since", () => {
    const world = started(2);
    // Both holders were given 15 s leases; the spec now says 6 s.
    const shorter = { leaseDurationMs: 6_000 };
    world.removePod(1);
    world.apply(world.plan(shorter));
    expect(world.ledger.ledger.entries.get(1)).toMatchObject({
      state: LedgerEntryState.Retiring,
      holderLeaseDurationSeconds: 15,
    });
    world.now += 1_000;
    expect(world.plan(shorter).requeueAfterMs).toBe(D + GRACE);
    world.now += 6_000 + GRACE;
    expect(world.plan(shorter).actions).toEqual([]);
    world.now += D - 6_000;
    world.apply(world.plan(shorter));
    expect(world.ledger.ledger.entries.get(1)).toMatchObject({ state: LedgerEntryState.Free });
  });

  it("raises the retiring floor when the old holder renewed before its lease was taken", () => {
    const world = started(2);
    world.addPod(0, "uid-0-b");
    const plan = world.plan();
    world.apply(plan, 1); // ledger written, then the replace loses a race with the old holder:
    world.holderWrites(0, { reservedUntil: 9_000 });
    const replan = world.plan();
    expect(replan.actions.map((a) => a.kind)).toEqual(["write-ledger", "replace-lease"]);
    world.apply(replan);
    expect(world.ledger.ledger.entries.get(0)).toMatchObject({
      state: LedgerEntryState.Retiring,
      reservedUntil: 9_000,
    });
    // The claim made by the first plan is the one completed, not a second one.
    expect(world.lease(0)).toMatchObject({ holderUid: "uid-0-b", workerId: 2, assignment: 3 });
  });

  it("never reclaims an id while any lease still names it", () => {
    const world = started(2);
    world.addPod(0, "uid-0-b");
    world.apply(world.plan(), 1); // retire written, lease not yet replaced
    for (let i = 0; i < 5; i++) {
      world.now += D + GRACE;
      const plan = world.plan({ ledger: world.ledger });
      expect(
        plan.actions.every((a) => a.kind !== "write-ledger" || a.ledger.entries.get(0)?.state !== "free"),
      ).toBe(true);
    }
  });

  it("frees a cleanly released id at once on scale-down and hands its floor to the next holder", () => {
    const world = started(3);
    world.pods = world.pods.map((p) => (p.ordinal === 2 ? { ...p, terminating: true } : p));
    world.holderWrites(2, { state: LeaseState.Released, reservedUntil: 7_777 });
    const plan = world.plan({ desiredReplicas: 2 });
    expect(plan.actions.map((a) => a.kind)).toEqual(["write-ledger", "delete-lease"]);
    world.apply(plan);
    expect(world.ledger.ledger.entries.get(2)).toMatchObject({
      state: LedgerEntryState.Free,
      reservedUntil: 7_777,
    });
    world.removePod(2);
    world.addPod(2, "uid-2-b");
    world.settle();
    expect(world.lease(2)).toMatchObject({ workerId: 2, handoverAfter: 7_777 });
  });

  it("treats an unconfirmed assignment of a vanished pod as possibly live", () => {
    const world = new World(1);
    world.addPod(0);
    world.settle();
    world.removePod(0);
    world.apply(world.plan());
    expect(world.ledger.ledger.entries.get(0)?.state).toBe(LedgerEntryState.Retiring);
    expect(world.leases.size).toBe(0);
  });

  it("completes a claim whose lease write never happened (operator crashed after the ledger write)", () => {
    const world = new World(1);
    world.addPod(0);
    world.apply(world.plan(), 1);
    world.observations = EMPTY_OBSERVATIONS; // restarted
    const plan = world.plan();
    expect(plan.actions.map((a) => a.kind)).toEqual(["create-lease"]);
    world.apply(plan);
    expect(world.lease(0)).toMatchObject({ workerId: 0, assignment: 1 });
  });

  it("retires a claim whose pod is gone instead of freeing it (its lease write may still be in flight)", () => {
    const world = new World(1);
    world.addPod(0);
    world.apply(world.plan(), 1);
    world.removePod(0);
    world.apply(world.plan());
    expect(world.ledger.ledger.entries.get(0)?.state).toBe(LedgerEntryState.Retiring);
  });

  it("restarts every timer when the operator restarts", () => {
    const world = started(2);
    world.removePod(1);
    world.apply(world.plan());
    world.now += D;
    world.observations = EMPTY_OBSERVATIONS;
    world.plan();
    world.now += GRACE + 1;
    expect(world.plan().actions).toEqual([]);
    world.now += D;
    expect(world.plan().actions.map((a) => a.kind)).toEqual(["write-ledger"]);
  });

  it("sizes the fleet to the ids available and says so", () => {
    const world = new World(5, { min: 10, max: 12 });
    for (let i = 0; i < 5; i++) world.addPod(i);
    const plan = world.plan();
    expect(plan.allocatableReplicas).toBe(3);
    expect(plan.exhausted).toBe(true);
    world.apply(plan);
    expect([...world.leases.values()].map((l) => l.lease.workerId).sort()).toEqual([10, 11, 12]);
    expect(world.plan().waitingPods.map((w) => w.pod)).toEqual(["ids-3", "ids-4"]);
  });

  it("keeps ids disjoint from another fleet in the same id space and reports the overlap", () => {
    const world = new World(3, { min: 0, max: 3 });
    for (let i = 0; i < 3; i++) world.addPod(i);
    const entries = new Map(world.ledger.ledger.entries);
    entries.set(1, {
      state: LedgerEntryState.Leased,
      fleet: "other",
      lease: "other-0-lease",
      podName: "other-0",
      podUid: "x",
      assignment: 1,
      floor: 0,
      since: "t0",
    });
    world.ledger = { resourceVersion: "5", ledger: { nextAssignment: 2, baseFloor: 0, entries } };
    const plan = world.plan();
    world.apply(plan);
    expect([...world.leases.values()].map((l) => l.lease.workerId).sort()).toEqual([0, 2, 3]);
    expect(plan.conflicts).toContainEqual(expect.objectContaining({ kind: "overlap" }));
    expect(world.plan({ desiredReplicas: 4 })).toMatchObject({ allocatableReplicas: 3, exhausted: true });
  });

  it("never claims an id another fleet's lease still names, even when the ledger lost its entry", () => {
    const world = new World(1, { min: 0, max: 3 });
    world.addPod(0);
    // A recreated ledger knows nothing; fleet "other" of the id space still has a holder on id 0.
    world.ledger = {
      resourceVersion: "5",
      ledger: { nextAssignment: 9, baseFloor: 100, entries: new Map() },
    };
    const otherFleetsLeases: ObservedLease[] = [
      {
        configMapName: "other-0-lease",
        resourceVersion: "4",
        lease: {
          workerId: 0,
          idSpace: "ids",
          state: LeaseState.Active,
          holderPod: "other-0",
          holderUid: "x",
          assignment: 3,
          handoverAfter: 0,
          reservedUntil: 5_000,
          leaseDurationSeconds: 15,
          renewCount: 7,
          renewTime: "",
        },
      },
    ];
    world.plan({ otherFleetsLeases }); // ids a recreated ledger has no entry for wait out a lease first
    world.now += D + GRACE;
    const plan = world.plan({ otherFleetsLeases });
    world.apply(plan);
    expect(world.lease(0)).toMatchObject({ workerId: 1, handoverAfter: 100 });
    // Another fleet's lease is never written by this fleet's plan.
    expect(plan.actions.some((a) => "configMapName" in a && a.configMapName === "other-0-lease")).toBe(false);
  });

  it("revokes a lease the ledger does not back", () => {
    const world = new World(1);
    world.addPod(0);
    world.leases.set("ids-0-lease", {
      configMapName: "ids-0-lease",
      resourceVersion: "3",
      lease: {
        workerId: 4,
        idSpace: "ids",
        state: LeaseState.Active,
        holderPod: "ids-0",
        holderUid: "uid-0-a",
        assignment: 1,
        handoverAfter: 0,
        reservedUntil: 500,
        leaseDurationSeconds: 15,
        renewCount: 3,
        renewTime: "",
      },
    });
    const plan = world.plan();
    expect(plan.conflicts).toContainEqual(expect.objectContaining({ kind: "unbacked-lease", workerId: 4 }));
    world.apply(plan);
    expect(world.ledger.ledger.entries.get(4)).toMatchObject({
      state: LedgerEntryState.Retiring,
      reservedUntil: 500,
    });
    expect(world.lease(0).workerId).toBe(0);
  });

  it("revokes an old holder's lease even when no id is free for its replacement", () => {
    const world = started(2, { min: 0, max: 1 });
    world.addPod(1, "uid-1-b");
    const plan = world.plan();
    expect(plan.actions.map((a) => a.kind)).toEqual(["write-ledger", "delete-lease"]);
    world.apply(plan);
    expect(world.plan().waitingPods).toEqual([expect.objectContaining({ pod: "ids-1" })]);
    world.now += D + GRACE + 1;
    world.settle();
    world.settle();
    expect(world.lease(1)).toMatchObject({ workerId: 1, holderUid: "uid-1-b", handoverAfter: 1_001 });
  });

  it("reports a live holder that stopped renewing but leaves its id alone", () => {
    const world = started(1);
    world.now += D;
    const plan = world.plan();
    expect(plan.staleLeases).toEqual(["ids-0-lease"]);
    expect(plan.actions).toEqual([]);
  });
});

describe("worker-id planner: one layout per id space", () => {
  const OTHER_LAYOUT = { ...TEST_LAYOUT, workerIdBits: 9, timestampBits: 42 };

  it("records the creating fleet's layout and the highest ID the space may have issued", () => {
    const world = started(2);
    expect(world.ledger.ledger.layout).toEqual(TEST_LAYOUT);
    world.holderWrites(1, { reservedUntil: 40_000 });
    world.apply(world.plan());
    // tick 40000 at the last sequence of the highest worker id
    expect(world.ledger.ledger.highWaterId).toBe((40_000n << 22n) | (1023n << 12n) | 4095n);
  });

  it("gives a fleet of another layout no worker id, says why, and writes nothing", () => {
    const world = started(1);
    const other = world.plan({ fleet: "ns/other", layout: OTHER_LAYOUT, pods: [], leases: [] });
    expect(other.actions).toEqual([]);
    expect(other.allocatableReplicas).toBe(0);
    expect(other.exhausted).toBe(false);
    expect(other.layoutConflict).toMatch(/42\/9\/12 bits.*layoutSuccession/);
  });

  it("revokes the leases of a fleet whose layout no longer matches the space", () => {
    const world = started(1);
    const plan = world.plan({ layout: OTHER_LAYOUT });
    expect(plan.layoutConflict).not.toBeNull();
    world.apply(plan);
    expect(world.leases.size).toBe(0);
    expect(world.ledger.ledger.entries.get(0)?.state).toBe(LedgerEntryState.Retiring);
  });

  it("lets a declared successor wait for every holder of the old layout, then start above the high-water mark", () => {
    const world = started(1);
    world.holderWrites(0, { reservedUntil: 50_000 });
    const successor = { layout: OTHER_LAYOUT, layoutSuccession: true, nowMs: 60_000 };
    const waiting = world.plan({
      ...successor,
      fleet: "ns/next",
      pods: [],
      leases: [],
      otherFleetsLeases: [...world.leases.values()],
    });
    expect(waiting.successionWaiting).toMatch(/1 worker id\(s\) still leased/);
    expect(waiting.actions).toEqual([]);
    // The old fleet scales to zero; its id retires, then becomes free after lease duration + grace.
    world.removePod(0);
    world.apply(world.plan({ desiredReplicas: 0 }));
    world.plan({ desiredReplicas: 0 }); // the retirement is durable now: its quiet timer starts
    world.now += D + GRACE;
    world.apply(world.plan({ desiredReplicas: 0 }));
    expect(world.ledger.ledger.entries.get(0)?.state).toBe(LedgerEntryState.Free);
    const switched = world.plan({ ...successor, fleet: "ns/next", pods: [], leases: [] });
    world.apply(switched);
    const ledger = world.ledger.ledger;
    expect(ledger.layout).toEqual(OTHER_LAYOUT);
    expect(ledger.entries.size).toBe(0);
    expect(ledger.formerLayouts?.[0]?.layout).toEqual(TEST_LAYOUT);
    const oldHighest = (50_000n << 22n) | (1023n << 12n) | 4095n;
    expect(ledger.highWaterId).toBe(oldHighest);
    // Every ID the successor can issue (ticks above the base floor) is above the old layout's.
    expect(BigInt(ledger.baseFloor! + 1) << 21n).toBeGreaterThan(oldHighest);
    expect(BigInt(ledger.baseFloor!) << 21n).toBeLessThanOrEqual(oldHighest);
  });

  // Found by the lease simulation: after the ledger was deleted, a fleet refused for its layout
  // recreated it in its own layout when it reconciled first, and repeated the old layout's IDs.
  describe("a lost ledger", () => {
    const lose = (world: World) => {
      world.ledger = { resourceVersion: null, ledger: { nextAssignment: 1, entries: new Map() } };
    };
    const lost = { newLedgerBaseFloor: 5_000, ledgerCreatedHere: false };
    const primary = { layout: TEST_LAYOUT, layoutSuccession: false, holdsLeases: true };
    const other = (overrides: Partial<PlannerInput> = {}): Partial<PlannerInput> => ({
      ...lost,
      fleet: "ns/other",
      layout: OTHER_LAYOUT,
      pods: [{ name: "other-0", uid: "o-0", ordinal: 0, terminating: false }],
      leases: [],
      ...overrides,
    });

    it("is not recreated by a fleet refused for its layout while the space's fleet has leases", () => {
      const world = started(1);
      lose(world);
      const plan = world.plan(other({ otherFleets: [primary] }));
      expect(plan.actions).toEqual([]);
      expect(plan.allocatableReplicas).toBe(0);
      expect(plan.layoutConflict).toMatch(/ledger of id space ids is missing .* has leases/);
    });

    it("nor while the space's fleet has none, unless this operator read the ledger in its layout", () => {
      const world = started(1);
      lose(world);
      const idle = [{ ...primary, holdsLeases: false }];
      expect(world.plan(other({ otherFleets: idle })).actions).toEqual([]);
      const remembered = world.plan(other({ otherFleets: idle, lastSeenLayout: OTHER_LAYOUT }));
      expect(remembered.actions[0]).toMatchObject({ kind: "write-ledger", resourceVersion: null });
      expect(world.plan(other({ otherFleets: idle, lastSeenLayout: TEST_LAYOUT })).actions).toEqual([]);
    });

    it("is recreated in its layout by the fleet whose holders served under it", () => {
      const world = started(1);
      lose(world);
      const plan = world.plan({
        ...lost,
        otherFleets: [{ ...primary, layout: OTHER_LAYOUT, holdsLeases: false }],
      });
      expect(plan.actions[0]).toMatchObject({ kind: "write-ledger", resourceVersion: null });
      world.apply(plan);
      expect(world.ledger.ledger.layout).toEqual(TEST_LAYOUT);
      expect(world.ledger.ledger.baseFloor).toBe(5_000);
    });

    it("is not recreated by a waiting successor: the old layout's high-water mark went with it", () => {
      const world = started(1);
      lose(world);
      world.leases.clear();
      const plan = world.plan(other({ layoutSuccession: true, otherFleets: [] }));
      expect(plan.actions).toEqual([]);
      expect(plan.layoutConflict).toMatch(/waits to succeed .* high-water mark/);
    });
  });

  it("starts a successor above what its own layout may have issued when the ledger may have gone back", () => {
    // An etcd restore to before an earlier succession to this very layout looks like a ledger of
    // the old layout that this operator did not create: its holders may have issued up to now.
    const world = started(1);
    world.holderWrites(0, { state: LeaseState.Released });
    world.removePod(0);
    world.apply(world.plan({ desiredReplicas: 0 }));
    const plan = world.plan({
      fleet: "ns/next",
      pods: [],
      leases: [],
      layout: OTHER_LAYOUT,
      layoutSuccession: true,
      ledgerCreatedHere: false,
      nowMs: 100_000,
      lostStateMarginMs: 10_000,
    });
    const write = plan.actions.find((a) => a.kind === "write-ledger");
    // Tick 110000 of the successor's own layout (1 ms ticks from 0), not just above the old mark.
    expect(write?.kind === "write-ledger" && write.ledger.baseFloor).toBeGreaterThanOrEqual(110_000);
  });

  it("refuses a successor that could rise above the old IDs only after an unreasonable wait, with the numbers", () => {
    const world = started(1);
    world.holderWrites(0, { state: LeaseState.Released });
    world.removePod(0);
    world.apply(world.plan({ desiredReplicas: 0 }));
    expect(world.ledger.ledger.entries.get(0)?.state).toBe(LedgerEntryState.Free);
    // Two bits below the timestamp instead of 22: its IDs are far smaller for the same time.
    const narrow = { ...TEST_LAYOUT, workerIdBits: 1, sequenceBits: 1, timestampBits: 61 };
    const plan = world.plan({
      fleet: "ns/next",
      pods: [],
      leases: [],
      layout: narrow,
      layoutSuccession: true,
      nowMs: 2_000,
    });
    expect(plan.actions).toEqual([]);
    expect(plan.layoutConflict).toMatch(/succession refused: .* s from now .*an epoch of/);
  });
});

describe("worker-id planner: state that went missing or back", () => {
  it("re-issues a claim whose lease was deleted with a floor past the recorded reservation and the operator's clock", () => {
    const world = started(1);
    world.holderWrites(0, { reservedUntil: 20_000 });
    world.apply(world.plan());
    const entry = world.ledger.ledger.entries.get(0);
    expect(entry).toMatchObject({ state: LedgerEntryState.Leased, seenReservedUntil: 20_000 });
    world.leases.clear(); // kubectl delete cm ids-0-lease
    world.apply(world.plan({ nowMs: 10_000, lostStateMarginMs: 5_000 }));
    expect(world.lease(0)).toMatchObject({ workerId: 0, assignment: 1, handoverAfter: 20_000 });
    world.leases.clear();
    world.apply(world.plan({ nowMs: 30_000, lostStateMarginMs: 5_000 }));
    expect(world.lease(0).handoverAfter).toBe(35_000);
    expect(world.ledger.ledger.entries.get(0)).toMatchObject({ floor: 35_000 });
  });

  it("retires the id of a deleted lease whose pod is gone past the operator's clock", () => {
    const world = started(1);
    world.leases.clear();
    world.removePod(0);
    world.apply(world.plan({ nowMs: 30_000, lostStateMarginMs: 5_000 }));
    expect(world.ledger.ledger.entries.get(0)).toMatchObject({
      state: LedgerEntryState.Retiring,
      reservedUntil: 35_000,
    });
  });

  it("records leases' reservations once one of them ran the threshold ahead, all in one write", () => {
    const world = started(2);
    const reservationRecord = { rewriteAfterTicks: 5_000, lagTicks: 7_000 };
    world.holderWrites(0, { reservedUntil: 4_000 });
    world.holderWrites(1, { reservedUntil: 3_000 });
    expect(world.plan({ reservationRecord }).actions).toEqual([]);
    world.holderWrites(0, { reservedUntil: 9_000 });
    const plan = world.plan({ reservationRecord });
    expect(plan.actions.map((a) => a.kind)).toEqual(["write-ledger"]);
    expect(plan.actions[0]).toMatchObject({ reasons: [] });
    world.apply(plan);
    // One write brings every record up to date, not only the one that ran ahead.
    expect(world.ledger.ledger.entries.get(0)).toMatchObject({ seenReservedUntil: 9_000 });
    expect(world.ledger.ledger.entries.get(1)).toMatchObject({ seenReservedUntil: 3_000 });
    // A lost lease's floor adds the lag back: its holder may have reserved that much past the record.
    world.leases.delete("ids-0-lease");
    world.apply(world.plan({ reservationRecord }));
    expect(world.lease(0).handoverAfter).toBe(16_000);
  });

  it("waits lease duration + grace before handing out free ids of a ledger it did not create, and raises its base floor first", () => {
    const world = started(2);
    world.holderWrites(1, { state: LeaseState.Released });
    world.removePod(1);
    world.settle();
    expect(world.ledger.ledger.entries.get(1)?.state).toBe(LedgerEntryState.Free);
    // The operator restarts (or etcd was restored while it was away): it knows nothing.
    world.observations = EMPTY_OBSERVATIONS;
    world.addPod(1, "uid-1-b");
    const unknown = { ledgerCreatedHere: false, nowMs: 100_000, lostStateMarginMs: 10_000 };
    const first = world.plan(unknown);
    expect(first.actions.map((a) => a.kind)).toEqual(["write-ledger"]);
    world.apply(first);
    expect(world.ledger.ledger.baseFloor).toBe(110_000);
    expect(world.plan(unknown).waitingPods.map((w) => w.pod)).toEqual(["ids-1"]);
    world.now += D + GRACE;
    world.apply(world.plan(unknown));
    // The free id's own floor is older than the raised base floor: the base floor wins.
    expect(world.lease(1)).toMatchObject({ workerId: 1, handoverAfter: 110_000 });
  });

  it("never hands out an assignment number below the operator's wall clock in ms", () => {
    const world = new World(1);
    world.addPod(0);
    world.apply(world.plan({ nowMs: 1_700_000_000_123 }));
    expect(world.lease(0).assignment).toBe(1_700_000_000_123);
  });
});

describe("worker-id planner: serving", () => {
  it("gives a new pod a free id it can issue from at once before one still reserved by its predecessor", () => {
    const world = new World(2, { min: 0, max: 3 });
    world.addPod(0);
    world.addPod(1);
    world.settle();
    world.holderWrites(1, { state: LeaseState.Active, reservedUntil: 50_000 });
    // A rolling update: pod 1 releases its id with a reservation 30 s ahead of the clock.
    world.holderWrites(1, { state: LeaseState.Released });
    world.addPod(1, "uid-1-b");
    world.apply(world.plan({ nowMs: 20_000 }));
    world.apply(world.plan({ nowMs: 20_000 }));
    expect(world.ledger.ledger.entries.get(1)).toMatchObject({
      state: LedgerEntryState.Free,
      reservedUntil: 50_000,
    });
    expect(world.lease(1)).toMatchObject({ holderUid: "uid-1-b", workerId: 2, handoverAfter: 0 });
  });
});
