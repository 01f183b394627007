/**
 * Detects steps of the wall clock by comparing how far it moved with how far the
 * monotonic clock moved since the previous observation. Both advance together however
 * late the observation runs, so event-loop lag is not a jump; NTP slewing (<= 500 ppm)
 * stays far below any sensible threshold.
 */
export class WallJumpDetector {
  private last: { wallMs: number; monoMs: number } | null = null;
  readonly thresholdMs: number;

  constructor(thresholdMs: number) {
    this.thresholdMs = thresholdMs;
  }

  /** Returns the step since the last observation in ms (positive: wall jumped forward), or 0 below the threshold. */
  observe(wallMs: number, monoMs: number): number {
    const last = this.last;
    this.last = { wallMs, monoMs };
    if (!last) return 0;
    const step = wallMs - last.wallMs - (monoMs - last.monoMs);
    return Math.abs(step) > this.thresholdMs ? step : 0;
  }
}

/** Reads straddling more than this much monotonic time say nothing about a step. */
export const MAX_READ_SPREAD_MS = 2;

/**
 * The wall and monotonic clocks read together: the monotonic clock on both sides of the wall
 * clock, so a process preempted between the reads (a busy node) is not mistaken for a wall-clock
 * step, which would fence a healthy holder until its next renewal. Null when the reads were too
 * far apart to count.
 */
export function readClocksTogether(
  wallMs: () => number,
  monoMs: () => number,
): { wallMs: number; monoMs: number } | null {
  const before = monoMs();
  const wall = wallMs();
  const after = monoMs();
  if (after - before > MAX_READ_SPREAD_MS) return null;
  return { wallMs: wall, monoMs: (before + after) / 2 };
}
