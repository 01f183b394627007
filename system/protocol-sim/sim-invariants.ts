import { encodeId } from "../../contract/id-layout-math.ts";
import { suspendedSince, type IssueFence } from "../../generator/src/issuing/issue-fence.ts";
import type { SimLayout, SimLayoutName } from "./sim-layouts.ts";

/*
 * Ground truth of the simulation, and the checks of the lease invariants (docs/design.md) against it. The
 * checks never ask a process what it believes: they compare what it issued with what the
 * API server durably stored and with what every other process could issue at that moment.
 */

/** What the invariants need to know about a running generator process. */
export interface IssuerView {
  readonly id: string;
  readonly alive: boolean;
  /** The layout its IDs are in. */
  readonly layout: SimLayout;
  /** The fence the issuer currently enforces and the worker id it is bound to. */
  fence(): { workerId: number; fence: IssueFence } | null;
  monoMs(): number;
  wallMs(): number;
}

interface AssignmentRecord {
  workerId: number;
  /** The layout of its holder (known once a holder wrote or issued under it): ticks compare only within one. */
  layout: SimLayoutName | undefined;
  /** Highest reservedUntil any applied write stored for this assignment. */
  maxDurable: number;
  /** Whether its holder ever confirmed it (state Active written). */
  confirmed: boolean;
  minIssued: number;
  maxIssued: number;
  issued: number;
}

export class InvariantTracker {
  readonly violations: string[] = [];
  private readonly assignments = new Map<number, AssignmentRecord>();
  /** Per layout and worker id: tick range issued by each holding (process and assignment). */
  private readonly ranges = new Map<string, Map<string, { min: number; max: number }>>();
  private readonly processes = new Set<IssuerView>();
  issuedTotal = 0;
  readonly issuedByLayout: Partial<Record<SimLayoutName, number>> = {};
  /** Exact duplicate IDs found (each repeat counts once). */
  duplicates = 0;
  /** Every ID issued, as the 64-bit number it is: two layouts' IDs compare as what they are. */
  private readonly seenIds = new Set<bigint>();
  /** Per layout, in the order they first issued: the smallest and largest ID issued. */
  private readonly layoutIds = new Map<SimLayoutName, { min: bigint; max: bigint }>();
  /** Per process: the assignment and worker id it last issued under, and how many runs it had. */
  private readonly runs = new Map<string, { key: string; n: number }>();
  handovers = 0;
  private readonly maxViolations = 5;
  private readonly range: { min: number; max: number };
  private readonly safetyMarginMs: number;
  private readonly leaseDurationMs: number;

  constructor(range: { min: number; max: number }, leaseDurationMs: number, safetyMarginMs: number) {
    this.range = range;
    this.leaseDurationMs = leaseDurationMs;
    this.safetyMarginMs = safetyMarginMs;
  }

  private fail(message: string): void {
    if (this.violations.length < this.maxViolations) this.violations.push(message);
  }

  register(process: IssuerView): void {
    this.processes.add(process);
  }

  /** Every applied lease write; `layout`: the writer's, when a holder wrote it. */
  leaseWritten(
    assignment: number,
    workerId: number,
    reservedUntil: number,
    active: boolean,
    layout?: SimLayoutName,
  ): void {
    const rec = this.assignments.get(assignment) ?? {
      workerId,
      layout,
      maxDurable: reservedUntil,
      confirmed: false,
      minIssued: Infinity,
      maxIssued: -Infinity,
      issued: 0,
    };
    if (rec.workerId !== workerId)
      this.fail(`assignment ${assignment} changed worker id ${rec.workerId} -> ${workerId}`);
    rec.maxDurable = Math.max(rec.maxDurable, reservedUntil);
    rec.confirmed ||= active;
    rec.layout ??= layout;
    this.assignments.set(assignment, rec);
    if (workerId < this.range.min || workerId > this.range.max) {
      this.fail(`bounded space: lease for worker id ${workerId} outside ${this.range.min}-${this.range.max}`);
    }
  }

  /**
   * One issued tick. `lastAckedSendMonoMs`: send time (issuer's monotonic clock) of the last
   * write of its lease that the server applied and whose success the process received.
   */
  issued(
    process: IssuerView,
    assignment: number,
    workerId: number,
    tick: number,
    lastAckedSendMonoMs: number | null,
    sequence = 0,
  ): void {
    this.issuedTotal++;
    const layout = process.layout.name;
    this.issuedByLayout[layout] = (this.issuedByLayout[layout] ?? 0) + 1;
    // The exact check beside the tick-range ones: this very 64-bit ID seen before, in any layout.
    const id = encodeId(process.layout.math, tick, workerId, sequence);
    if (this.seenIds.has(id)) {
      this.duplicates++;
      this.fail(
        `DUPLICATE ID: ${id} (${layout} layout: worker ${workerId}, tick ${tick}, sequence ${sequence}) issued twice (${process.id})`,
      );
    }
    this.seenIds.add(id);
    this.checkLayouts(process, id, workerId);
    const rec = this.assignments.get(assignment);
    if (rec) rec.layout ??= layout;
    // Invariant 2: only ticks its holder has durably reserved.
    if (!rec || tick > rec.maxDurable) {
      this.fail(
        `invariant 2: ${process.id} issued tick ${tick} on worker ${workerId} past its durable reservedUntil ${rec?.maxDurable}`,
      );
    }
    // Invariant 4: only within leaseDuration - safetyMargin of the last confirmed send.
    if (
      lastAckedSendMonoMs === null ||
      process.monoMs() >= lastAckedSendMonoMs + this.leaseDurationMs - this.safetyMarginMs
    ) {
      this.fail(
        `invariant 4: ${process.id} issued on worker ${workerId} without a renewal sent in the last leaseDuration - safetyMargin`,
      );
    }
    // Invariant 1: no other process may be able to issue this worker id right now.
    for (const other of this.processes) {
      if (other === process || !other.alive || other.layout.name !== layout) continue;
      const f = other.fence();
      if (
        f &&
        f.workerId === workerId &&
        other.monoMs() < f.fence.validUntilMonoMs &&
        !suspendedSince(f.fence, other.wallMs(), other.monoMs()) &&
        f.fence.ceilingTick > f.fence.floorTick
      ) {
        this.fail(
          `invariant 1: ${process.id} issued on worker ${workerId} while ${other.id} also holds a valid fence for it`,
        );
      }
    }
    if (rec) {
      if (rec.issued === 0 && rec.minIssued === Infinity) this.noteFirstIssue(assignment, rec, tick);
      rec.issued++;
      rec.minIssued = Math.min(rec.minIssued, tick);
      rec.maxIssued = Math.max(rec.maxIssued, tick);
    }
    // Uniqueness itself: tick ranges issued for one worker id by different holdings (a process
    // under one assignment; a process may hold the same id again later) never overlap.
    // A holding is one unbroken run of one process under one assignment: a process may come
    // back to a worker id (even to an old assignment, after an etcd restore), which is a new run.
    const runKey = `${assignment}/${layout}/${workerId}`;
    let run = this.runs.get(process.id);
    if (run?.key !== runKey) {
      run = { key: runKey, n: (run?.n ?? 0) + 1 };
      this.runs.set(process.id, run);
    }
    const holding = `${process.id} (assignment ${assignment}, run ${run.n})`;
    // Ticks of one worker id compare within one layout; across layouts the 64-bit check above does.
    const rangeKey = `${layout}/${workerId}`;
    const byHolding = this.ranges.get(rangeKey) ?? new Map<string, { min: number; max: number }>();
    const mine = byHolding.get(holding) ?? { min: tick, max: tick };
    mine.min = Math.min(mine.min, tick);
    mine.max = Math.max(mine.max, tick);
    byHolding.set(holding, mine);
    this.ranges.set(rangeKey, byHolding);
    for (const [other, r] of byHolding) {
      if (other !== holding && r.min <= mine.max && mine.min <= r.max) {
        this.fail(
          `DUPLICATE RISK: ${holding} and ${other} issued overlapping ticks [${mine.min},${mine.max}] / [${r.min},${r.max}] on worker ${workerId}`,
        );
      }
    }
  }

  /**
   * Invariant 8: one layout per id space at a time, and a successor's IDs above every ID of the
   * layouts before it. At the moment of an issue no process of another layout may hold a valid
   * fence, and the layouts' ID ranges, in the order the layouts first issued, must not overlap.
   */
  private checkLayouts(process: IssuerView, id: bigint, workerId: number): void {
    const layout = process.layout.name;
    for (const other of this.processes) {
      if (other === process || !other.alive || other.layout.name === layout) continue;
      const f = other.fence();
      if (
        f &&
        other.monoMs() < f.fence.validUntilMonoMs &&
        !suspendedSince(f.fence, other.wallMs(), other.monoMs()) &&
        f.fence.ceilingTick > f.fence.floorTick
      ) {
        this.fail(
          `invariant 8: ${process.id} issued in the ${layout} layout (worker ${workerId}) while ${other.id} holds a valid fence in the ${other.layout.name} layout`,
        );
      }
    }
    const mine = this.layoutIds.get(layout) ?? { min: id, max: id };
    mine.min = id < mine.min ? id : mine.min;
    mine.max = id > mine.max ? id : mine.max;
    let earlier = true;
    for (const [name, r] of this.layoutIds) {
      if (name === layout) {
        earlier = false;
        continue;
      }
      // Layouts are kept in the order they first issued: before this one, or after it.
      if (earlier && id <= r.max)
        this.fail(
          `invariant 8: ${process.id} issued ${id} in the ${layout} layout, not above ${r.max}, the largest ID of the earlier ${name} layout`,
        );
      if (!earlier && id >= r.min)
        this.fail(
          `invariant 8: ${process.id} issued ${id} in the ${layout} layout after the ${name} layout started at ${r.min}`,
        );
    }
    this.layoutIds.set(layout, mine);
  }

  /**
   * Invariant 3, when a holding starts: its first tick is above every reservation any earlier
   * holder of the worker id has made durable so far. Checked at that moment (not over the whole
   * run), because after an etcd restore an old assignment can come back and reserve further.
   */
  private noteFirstIssue(assignment: number, rec: AssignmentRecord, tick: number): void {
    let earlierMax = -Infinity;
    let earlier = false;
    for (const [a, other] of this.assignments) {
      if (a === assignment || other.workerId !== rec.workerId || !other.confirmed) continue;
      // A tick of another layout is another time line: the successor's floor (checkLayouts) covers it.
      if (other.layout !== undefined && rec.layout !== undefined && other.layout !== rec.layout) continue;
      if (other.issued === 0 && a > assignment) continue;
      earlier = true;
      earlierMax = Math.max(earlierMax, other.maxDurable);
    }
    if (earlier) this.handovers++;
    if (tick <= earlierMax) {
      this.fail(
        `invariant 3: assignment ${assignment} on worker ${rec.workerId} issued tick ${tick}, not above an earlier holder's reservedUntil ${earlierMax}`,
      );
    }
  }
}
