import {
  layoutExpiryProblem,
  tickAt,
  tickStartMs,
  type LayoutMath,
} from "../../../contract/id-layout-math.ts";
import { SequenceStart } from "../../../contract/sequence-start.ts";
import { suspendedSince, type IssueFence } from "./issue-fence.ts";

/** Why the issuer will not mint IDs right now. Stable codes: they appear in HTTP errors and /readyz. */
export const RefusalCode = {
  /** No worker-id lease (yet, or any more). */
  NotLeased: "NOT_LEASED",
  /** Outside the fence: lease not confirmed recently enough, or the clock passed reservedUntil. */
  Fenced: "FENCED",
  /** The wall clock stepped back further than maxBackwardWaitMs behind the last issued tick. */
  ClockBackward: "CLOCK_BACKWARD",
  /** The wall clock is further than maxBackwardWaitMs behind the fence floor (the previous holder's reservation). */
  ClockBehindFloor: "CLOCK_BEHIND_FLOOR",
  /** The clock is past the layout's last timestamp: no ID would fit in 63 bits (wrapping would repeat IDs). */
  LayoutExhausted: "LAYOUT_EXHAUSTED",
  /** Given by the HTTP edge, not the issuer: a request could not be served within its wait budget. */
  Busy: "BUSY",
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

/** Why the issuer asks the caller to wait (briefly) and ask again. */
export const WaitReason = {
  SequenceExhausted: "sequence-exhausted",
  ClockBackward: "clock-backward",
  BelowFloor: "below-floor",
} as const;
export type WaitReason = (typeof WaitReason)[keyof typeof WaitReason];

/** A run of consecutive IDs in one tick: sequences firstSequence .. firstSequence+count-1. */
export interface IssuedRange {
  kind: "issued";
  tick: number;
  workerId: number;
  firstSequence: number;
  count: number;
}

/** Nothing issued; ask again once the wall clock reads at least untilWallMs. */
export interface WaitDecision {
  kind: "wait";
  untilWallMs: number;
  reason: WaitReason;
}

/** Nothing issued and not worth waiting for in-request. */
export interface Refusal {
  kind: "refused";
  code: RefusalCode;
  message: string;
  retryAfterMs: number;
}

export type IssueDecision = IssuedRange | WaitDecision | Refusal;

/** Counters the issuer keeps; monotonic over the process lifetime (except the peak, which is taken). */
export interface IssuerCounters {
  issued: number;
  exhaustions: number;
  backwardSteps: number;
}

export interface IssuerOptions {
  math: LayoutMath;
  /** Null until a lease names one (lease mode); see setWorkerId. */
  workerId: number | null;
  /** Backward steps up to this long are waited out; longer ones stop issuing until the clock catches up. */
  maxBackwardWaitMs: number;
  /** Where each tick's sequence starts (default zero); see SequenceStart. */
  sequenceStart?: SequenceStart;
}

const NOT_LEASED_RETRY_MS = 1000;
const FENCED_RETRY_MS = 1000;
// Nothing will change without a new layout (a new fleet): tell clients not to hammer.
const LAYOUT_EXHAUSTED_RETRY_MS = 3_600_000;

/**
 * The issuing state machine: sequence per tick inside a fence, clock given by the caller
 * (wall ms and monotonic ms) so it has no I/O and can be driven by adversarial clocks in
 * tests. It never issues a tick outside the fence, never issues a (tick, sequence) twice
 * and never goes back in time: every ID it issues is greater than every ID before it.
 */
export class Issuer {
  readonly math: LayoutMath;
  readonly maxBackwardWaitMs: number;
  readonly sequenceStart: SequenceStart;
  private workerId: number | null = null;
  private fence: IssueFence | null = null;
  /** Last tick anything was issued from (-1: nothing yet). */
  private lastTick = -1;
  /** First sequence issued in lastTick (0 unless rolling). */
  private firstSequenceOfTick = 0;
  /** Next free sequence in lastTick; idsPerTick once the tick is full. */
  private nextSequence = 0;
  /** Tick whose exhaustion was last counted, so polling a full tick counts once. */
  private exhaustedTick = -1;
  private behind = false;
  private peakTickUse = 0;
  private readonly counters: IssuerCounters = { issued: 0, exhaustions: 0, backwardSteps: 0 };

  constructor(options: IssuerOptions) {
    this.math = options.math;
    this.maxBackwardWaitMs = options.maxBackwardWaitMs;
    this.sequenceStart = options.sequenceStart ?? SequenceStart.zero;
    if (options.workerId !== null) this.setWorkerId(options.workerId);
  }

  /**
   * Binds the issuer to a worker id. Only allowed while unfenced (setFence(null)), so no
   * issuing spans the switch; a different id starts a fresh sequence space (the new
   * fence's floor keeps it past the previous holder of that id).
   */
  setWorkerId(workerId: number): void {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > this.math.maxWorkerId) {
      throw new RangeError(`workerId ${workerId} must be between 0 and ${this.math.maxWorkerId}`);
    }
    if (workerId === this.workerId) return;
    if (this.fence) throw new Error("setWorkerId needs the issuer unfenced first (setFence(null))");
    this.workerId = workerId;
    this.lastTick = -1;
    this.firstSequenceOfTick = 0;
    this.nextSequence = 0;
    this.exhaustedTick = -1;
    this.behind = false;
  }

  getWorkerId(): number | null {
    return this.workerId;
  }

  /** Replaces the fence; null means not leased. A new floor above the last issued tick is respected at once. */
  setFence(fence: IssueFence | null): void {
    if (fence && this.workerId === null) throw new Error("setFence needs a worker id first (setWorkerId)");
    this.fence = fence;
  }

  getFence(): IssueFence | null {
    return this.fence;
  }

  /** The last tick an ID was issued from, or -1. */
  getLastTick(): number {
    return this.lastTick;
  }

  getCounters(): Readonly<IssuerCounters> {
    return this.counters;
  }

  /** Most IDs issued within one tick since the previous call (current tick included), then resets. */
  takePeakTickUse(): number {
    const peak = Math.max(this.peakTickUse, this.lastTick >= 0 ? this.tickUse() : 0);
    this.peakTickUse = 0;
    return peak;
  }

  /**
   * Issues up to `want` IDs (at least 1), all from one tick, or says why not. Call again
   * for the rest: a batch spanning ticks is several ranges.
   */
  next(want: number, wallMs: number, monoMs: number): IssueDecision {
    const blocked = this.check(wallMs, monoMs, true);
    if (blocked) return blocked;
    const tick = tickAt(this.math, wallMs);
    if (tick > this.lastTick) {
      if (this.lastTick >= 0 && this.tickUse() > this.peakTickUse) this.peakTickUse = this.tickUse();
      this.lastTick = tick;
      // Rolling: go on after the previous tick's last sequence; a full tick (next = 2^S) gives 0.
      this.firstSequenceOfTick =
        this.sequenceStart === SequenceStart.rolling ? this.nextSequence % this.math.idsPerTick : 0;
      this.nextSequence = this.firstSequenceOfTick;
    } else if (this.nextSequence >= this.math.idsPerTick) {
      if (this.exhaustedTick !== tick) {
        this.exhaustedTick = tick;
        this.counters.exhaustions += 1;
      }
      return {
        kind: "wait",
        untilWallMs: tickStartMs(this.math, tick + 1),
        reason: WaitReason.SequenceExhausted,
      };
    }
    const count = Math.max(1, Math.min(want, this.math.idsPerTick - this.nextSequence));
    const firstSequence = this.nextSequence;
    this.nextSequence += count;
    this.counters.issued += count;
    return { kind: "issued", tick, workerId: this.workerId as number, firstSequence, count };
  }

  /** IDs issued in lastTick so far. */
  private tickUse(): number {
    return this.nextSequence - this.firstSequenceOfTick;
  }

  /**
   * Why issuing would not succeed right now (refusal or wait), or null if it would.
   * Side-effect free apart from counting a new backward step when `record` is set.
   */
  check(wallMs: number, monoMs: number, record = false): Refusal | WaitDecision | null {
    const fence = this.fence;
    if (!fence) {
      return refuse(RefusalCode.NotLeased, "this generator holds no worker-id lease", NOT_LEASED_RETRY_MS);
    }
    if (!(monoMs < fence.validUntilMonoMs) || suspendedSince(fence, wallMs, monoMs)) {
      return refuse(
        RefusalCode.Fenced,
        "the worker-id lease has not been confirmed recently enough; issuing is paused until it is renewed",
        FENCED_RETRY_MS,
      );
    }
    const tick = tickAt(this.math, wallMs);
    if (tick < this.lastTick) {
      if (record && !this.behind) this.counters.backwardSteps += 1;
      if (record) this.behind = true;
      const resumeMs = tickStartMs(this.math, this.lastTick);
      const gapMs = resumeMs - wallMs;
      if (gapMs <= this.maxBackwardWaitMs) {
        return { kind: "wait", untilWallMs: resumeMs, reason: WaitReason.ClockBackward };
      }
      return refuse(
        RefusalCode.ClockBackward,
        `the wall clock is ${gapMs} ms behind the last issued timestamp (more than the ${this.maxBackwardWaitMs} ms maxBackwardWait); issuing resumes when it catches up`,
        gapMs,
      );
    }
    if (record) this.behind = false;
    if (tick <= fence.floorTick) {
      const resumeMs = tickStartMs(this.math, fence.floorTick + 1);
      const gapMs = resumeMs - wallMs;
      if (gapMs <= this.maxBackwardWaitMs) {
        return { kind: "wait", untilWallMs: resumeMs, reason: WaitReason.BelowFloor };
      }
      return refuse(
        RefusalCode.ClockBehindFloor,
        `the wall clock is ${gapMs} ms behind the previous holder's reservation for this worker id; issuing starts when it passes it`,
        gapMs,
      );
    }
    if (tick > this.math.maxTick) {
      return refuse(
        RefusalCode.LayoutExhausted,
        layoutExpiryProblem(this.math, wallMs) ?? "the ID layout's timestamp bits ran out",
        LAYOUT_EXHAUSTED_RETRY_MS,
      );
    }
    if (tick > fence.ceilingTick) {
      return refuse(
        RefusalCode.Fenced,
        `the clock passed the reserved time range (reservedUntil tick ${fence.ceilingTick}); issuing resumes when the reservation is extended`,
        FENCED_RETRY_MS,
      );
    }
    return null;
  }
}

function refuse(code: RefusalCode, message: string, retryAfterMs: number): Refusal {
  return { kind: "refused", code, message, retryAfterMs };
}
