/**
 * An exponentially weighted consumption rate (IDs per millisecond) with a half-life in
 * wall time, fed with the running total of IDs handed out. Pure: the caller passes time.
 */
export class ConsumptionRate {
  private perMs = 0;
  private lastAt = Number.NaN;
  private lastTotal = 0;

  private readonly halfLifeMs: number;

  constructor(halfLifeMs = 500) {
    this.halfLifeMs = halfLifeMs;
  }

  /** Folds in what was consumed since the last observation (ignored within 1 ms, too noisy). */
  observe(now: number, totalConsumed: number): void {
    if (Number.isNaN(this.lastAt)) {
      this.lastAt = now;
      this.lastTotal = totalConsumed;
      return;
    }
    const dt = now - this.lastAt;
    if (dt < 1) return;
    const sample = (totalConsumed - this.lastTotal) / dt;
    const keep = 0.5 ** (dt / this.halfLifeMs);
    this.perMs = this.perMs * keep + sample * (1 - keep);
    this.lastAt = now;
    this.lastTotal = totalConsumed;
  }

  /** IDs per millisecond. */
  perMillisecond(): number {
    return this.perMs;
  }
}
