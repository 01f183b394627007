import { performance } from "node:perf_hooks";
import type { ClockHealth } from "../clock/clock-health.ts";
import type { Issuer } from "../issuing/issuer.ts";
import { UtilizationWindow, type Utilization } from "./utilization-window.ts";

/**
 * What the generator reports about itself; the lease keeper writes it into the lease on
 * every renewal (clockOffsetMs, clockHealthy, sequenceUtilization, sequenceExhaustions).
 */
export interface TelemetrySnapshot {
  /** Local minus NTP reference, ms (positive: local clock ahead); null when not measured. */
  clockOffsetMs: number | null;
  clockHealthy: boolean;
  /** Mean sequence utilization over the last window (IDs issued / (2^S x ticks)), 0..1. */
  sequenceUtilization: number;
  /** Fullest single tick in the last window, 0..1. */
  sequenceUtilizationPeak: number;
  /** Ticks in which the sequence ran out, since the process started. */
  sequenceExhaustions: number;
}

/** How often the issuer's counters are sampled into the utilization window. */
export const TELEMETRY_SAMPLE_EVERY_MS = 1000;

/** Samples the issuer's counters and combines them with clock health into snapshots. */
export class GeneratorTelemetry {
  private readonly issuer: Issuer;
  private readonly clock: ClockHealth;
  private readonly window: UtilizationWindow;
  private timer: NodeJS.Timeout | undefined;

  constructor(issuer: Issuer, clock: ClockHealth, windowMs: number) {
    this.issuer = issuer;
    this.clock = clock;
    this.window = new UtilizationWindow(issuer.math, windowMs);
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), TELEMETRY_SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes a sample now (also called by the timer). */
  sample(): void {
    this.window.record(performance.now(), this.issuer.getCounters().issued, this.issuer.takePeakTickUse());
  }

  utilization(): Utilization {
    return this.window.read();
  }

  snapshot(): TelemetrySnapshot {
    const clock = this.clock.evaluate(performance.now());
    const utilization = this.window.read();
    return {
      clockOffsetMs: clock.offsetMs,
      clockHealthy: clock.healthy,
      sequenceUtilization: utilization.mean,
      sequenceUtilizationPeak: utilization.peak,
      sequenceExhaustions: this.issuer.getCounters().exhaustions,
    };
  }
}
