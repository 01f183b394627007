import type { LayoutMath } from "../../../contract/id-layout-math.ts";

interface Sample {
  monoMs: number;
  issued: number;
  peakTickUse: number;
}

/** Sequence utilization over a sliding window, from periodic samples of the issuer's counters. */
export interface Utilization {
  /** IDs issued in the window / (2^S x ticks in the window): the mean fraction of the layout's ceiling used. */
  mean: number;
  /** The fullest single tick in the window, as a fraction of 2^S. */
  peak: number;
}

/**
 * Sliding-window sequence utilization. The mean is what capacity planning and the HPA
 * want (issued rate / ceiling); the peak shows bursts that hit the per-tick limit even
 * when the mean is low. Pure: the caller supplies the monotonic time and counters.
 */
export class UtilizationWindow {
  private readonly samples: Sample[] = [];
  private readonly math: LayoutMath;
  readonly windowMs: number;

  constructor(math: LayoutMath, windowMs: number) {
    this.math = math;
    this.windowMs = windowMs;
  }

  /** Records the issuer's cumulative issued count and the peak tick use since the previous sample. */
  record(monoMs: number, issued: number, peakTickUse: number): void {
    this.samples.push({ monoMs, issued, peakTickUse });
    // Keep one sample at or before the window start, so the mean covers the whole window.
    while (this.samples.length > 2 && (this.samples[1] as Sample).monoMs <= monoMs - this.windowMs) {
      this.samples.shift();
    }
  }

  read(): Utilization {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.monoMs <= first.monoMs) return { mean: 0, peak: 0 };
    const ticks = (last.monoMs - first.monoMs) / this.math.layout.timeUnitMs;
    const mean = Math.min(1, (last.issued - first.issued) / (ticks * this.math.idsPerTick));
    let peakUse = 0;
    for (let i = 1; i < this.samples.length; i++)
      peakUse = Math.max(peakUse, (this.samples[i] as Sample).peakTickUse);
    return { mean, peak: peakUse / this.math.idsPerTick };
  }
}
