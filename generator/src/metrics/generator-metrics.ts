import { performance } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { tickStartMs } from "../../../contract/id-layout-math.ts";
import { GENERATOR_METRIC_PREFIX, GeneratorMetric } from "../../../contract/metric-names.ts";
import type { ClockHealth } from "../clock/clock-health.ts";
import type { SntpSample } from "../clock/sntp-packet.ts";
import type { ReadinessGate } from "../health/readiness-gate.ts";
import type { Issuer } from "../issuing/issuer.ts";
import type { GeneratorTelemetry } from "../telemetry/generator-telemetry.ts";

export interface MetricSources {
  issuer: Issuer;
  telemetry: GeneratorTelemetry;
  clock: ClockHealth;
  readiness: ReadinessGate;
}

/**
 * The generator's Prometheus metrics. Values the issuer and clock already track are
 * read at scrape time (collect), so the request path pays nothing for them; events only
 * the edges see (waits, refusals, NTP replies) are recorded through the methods below.
 */
export class GeneratorMetrics {
  readonly registry = new Registry();
  private readonly waitSeconds: Counter<"reason">;
  private readonly refusals: Counter<"code">;
  private readonly ntpOffset: Gauge<"server">;
  private readonly ntpRoundTrip: Gauge<"server">;
  private readonly ntpFailures: Counter<"server">;
  private readonly batchSize: Histogram;
  private readonly renewFailures: Counter<"reason">;

  constructor(sources: MetricSources) {
    const { issuer, telemetry, clock, readiness } = sources;
    const math = issuer.math;
    const registers = [this.registry];
    const p = GENERATOR_METRIC_PREFIX;
    collectDefaultMetrics({ register: this.registry, prefix: p });

    /** A counter mirroring a cumulative value kept elsewhere. */
    const mirroredCounter = (name: string, help: string, read: () => number) =>
      new Counter({
        name: p + name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name: p + name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });

    mirroredCounter("ids_issued_total", "IDs issued by this process.", () => issuer.getCounters().issued);
    mirroredCounter(
      "sequence_exhaustions_total",
      "Ticks in which the sequence ran out and issuing waited for the next tick.",
      () => issuer.getCounters().exhaustions,
    );
    mirroredCounter(
      "clock_backward_steps_total",
      "Times the wall clock was seen behind the last issued timestamp.",
      () => issuer.getCounters().backwardSteps,
    );
    mirroredCounter(
      "clock_jumps_total",
      "Wall-clock steps detected against the monotonic clock.",
      () => clock.jumps,
    );
    gauge(
      GeneratorMetric.sequenceUtilization,
      "Mean sequence utilization over the telemetry window: IDs issued / (2^S x ticks).",
      () => telemetry.utilization().mean,
    );
    gauge(
      "sequence_utilization_peak",
      "Fullest single tick in the telemetry window, as a fraction of 2^S.",
      () => telemetry.utilization().peak,
    );
    gauge(
      "clock_offset_seconds",
      "Local clock minus NTP reference (median of fresh samples); NaN when unknown.",
      () => {
        const offset = clock.evaluate(performance.now()).offsetMs;
        return offset === null ? Number.NaN : offset / 1000;
      },
    );
    gauge("clock_healthy", "1 when the clock is in sync within max drift (or no NTP is configured).", () =>
      clock.evaluate(performance.now()).healthy ? 1 : 0,
    );
    gauge("ready", "1 when /readyz reports ready.", () => (readiness.evaluate().ready ? 1 : 0));
    gauge(
      "worker_id",
      "Worker id this process issues with; -1 when it has none.",
      () => issuer.getWorkerId() ?? -1,
    );
    gauge(
      "fence_floor_tick",
      "Issue only ticks above this (previous holder's reservation); NaN when not leased.",
      () => issuer.getFence()?.floorTick ?? Number.NaN,
    );
    gauge(
      "fence_ceiling_tick",
      "Issue only ticks up to this (reservedUntil); NaN when not leased.",
      () => issuer.getFence()?.ceilingTick ?? Number.NaN,
    );
    gauge(
      "fence_headroom_seconds",
      "Time from now until the end of the reserved range (reservedUntil); NaN when not leased.",
      () => {
        const fence = issuer.getFence();
        return fence ? (tickStartMs(math, fence.ceilingTick + 1) - Date.now()) / 1000 : Number.NaN;
      },
    );
    gauge("last_issued_tick", "Tick of the most recent ID; -1 before the first.", () => issuer.getLastTick());
    gauge(
      "timestamp_exhaustion_timestamp_seconds",
      "Unix time at which the layout's timestamp bits run out; NaN if beyond year 275760.",
      () => (math.exhaustsAt ? math.exhaustsAt.getTime() / 1000 : Number.NaN),
    );
    gauge(
      "capacity_ids_per_second",
      "Layout ceiling for one worker: 2^S IDs per tick.",
      () => math.idsPerSecondPerWorker,
    );

    this.waitSeconds = new Counter({
      name: `${p}sequence_wait_seconds_total`,
      help: "Time requests spent waiting to issue, by reason (sequence-exhausted, clock-backward, below-floor).",
      labelNames: ["reason"],
      registers,
    });
    this.refusals = new Counter({
      name: `${p}refusals_total`,
      help: "Requests answered 503 because issuing was not allowed, by code.",
      labelNames: ["code"],
      registers,
    });
    this.ntpOffset = new Gauge({
      name: `${p}ntp_offset_seconds`,
      help: "Last measured local-minus-server offset per NTP server.",
      labelNames: ["server"],
      registers,
    });
    this.ntpRoundTrip = new Gauge({
      name: `${p}ntp_round_trip_seconds`,
      help: "Last measured round trip per NTP server.",
      labelNames: ["server"],
      registers,
    });
    this.ntpFailures = new Counter({
      name: `${p}ntp_failures_total`,
      help: "Failed NTP queries per server (timeouts, unusable replies).",
      labelNames: ["server"],
      registers,
    });
    this.renewFailures = new Counter({
      name: `${p}lease_renew_failures_total`,
      help: "Lease renewals that did not confirm the lease, by reason (api_error, conflict, reassigned, lost).",
      labelNames: ["reason"],
      registers,
    });
    this.batchSize = new Histogram({
      name: `${p}batch_size`,
      help: "IDs requested per /v1/ids call.",
      buckets: [1, 10, 100, 1000, 10_000, 100_000],
      registers,
    });
  }

  recordWait(reason: string, seconds: number): void {
    this.waitSeconds.inc({ reason }, seconds);
  }

  recordRefusal(code: string): void {
    this.refusals.inc({ code });
  }

  recordNtpSample(server: string, sample: SntpSample): void {
    this.ntpOffset.set({ server }, sample.offsetMs / 1000);
    this.ntpRoundTrip.set({ server }, sample.roundTripMs / 1000);
  }

  recordNtpFailure(server: string): void {
    this.ntpFailures.inc({ server });
  }

  recordRenewFailure(reason: string): void {
    this.renewFailures.inc({ reason });
  }

  recordBatch(count: number): void {
    this.batchSize.observe(count);
  }
}
