import { performance } from "node:perf_hooks";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";

/** Waits longer than this sleep on a timer first; the last stretch is left to Atomics.wait. */
export const TIMER_ABOVE_MS = 2;
/** How far past the expected end a wait may run on the monotonic clock (the wall clock stepped back). */
export const MONOTONIC_SLACK_MS = 1;

/** The clocks a waiter reads: Date.now() and performance.now() unless a test gives others. */
export interface WaiterClocks {
  wallMs: () => number;
  monoMs: () => number;
}

const SYSTEM_CLOCKS: WaiterClocks = { wallMs: Date.now, monoMs: () => performance.now() };

/**
 * Waits until the wall clock (Date.now(), which the issuer reads) reaches a millisecond,
 * precisely and without burning a CPU. Timers cannot do it (libuv fires them up to a
 * millisecond late, skipping ticks of a 1 ms layout) and spinning holds a whole core,
 * which counts against the pod's CPU limit and drives CPU autoscaling for nothing. So
 * each wait first lets the event loop run (other requests' I/O overlaps the wait), then
 * sleeps the sub-millisecond rest with Atomics.wait, the one sub-millisecond sleep Node
 * has: it blocks the event loop, but for less than TIMER_ABOVE_MS. Date.now() only has
 * millisecond resolution, so the rest is estimated on the monotonic clock, from the
 * largest (wall − monotonic) seen: a lower bound of the true offset, so a wait ends late
 * by that bound's error (less than a millisecond, shrinking as samples come in), never
 * early. Waits for one millisecond end in the order they began.
 */
export class WallClockWaiter {
  private readonly clocks: WaiterClocks;
  private readonly sleepCell = new Int32Array(new SharedArrayBuffer(4));
  /** Largest (Date.now() − performance.now()) seen: at most the true offset, once stable. */
  private wallMinusMono = -Infinity;

  constructor(clocks: WaiterClocks = SYSTEM_CLOCKS) {
    this.clocks = clocks;
  }

  /**
   * Resolves once Date.now() >= untilWallMs, or, should the wall clock step back meanwhile,
   * once the time it then had to go has passed on the monotonic clock (plus
   * MONOTONIC_SLACK_MS): the caller re-checks the clock either way.
   */
  async until(untilWallMs: number): Promise<void> {
    const deadlineMono =
      this.clocks.monoMs() + Math.max(0, untilWallMs - this.clocks.wallMs()) + MONOTONIC_SLACK_MS;
    for (;;) {
      await nextTurn();
      const mono = this.clocks.monoMs();
      const wall = this.clocks.wallMs();
      if (wall >= untilWallMs || mono >= deadlineMono) return;
      this.observe(wall, mono);
      // Positive: wall < untilWallMs, and observe() keeps mono + bound below wall + 1.
      const restMs = Math.min(untilWallMs - (mono + this.wallMinusMono), deadlineMono - mono);
      if (restMs > TIMER_ABOVE_MS) {
        await sleep(Math.floor(restMs) - 1);
        continue;
      }
      Atomics.wait(this.sleepCell, 0, 0, restMs);
      // Return at once if the time came: the I/O that arrived meanwhile can wait until the
      // tick's IDs are issued, which takes microseconds.
      if (this.clocks.wallMs() >= untilWallMs || this.clocks.monoMs() >= deadlineMono) return;
    }
  }

  /** Tightens the offset bound with a sample; resets it if the wall clock stepped back. */
  private observe(wall: number, mono: number): void {
    const sample = wall - mono;
    // Date.now() truncates, so a sample is less than a millisecond below the true offset; a
    // whole millisecond below the bound means the bound is too high: the clock stepped back.
    if (sample > this.wallMinusMono || sample <= this.wallMinusMono - 1) this.wallMinusMono = sample;
  }
}
