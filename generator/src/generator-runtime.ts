import { performance } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import type { GeneratorConfig } from "../../contract/generator-env.ts";
import { layoutMath } from "../../contract/id-layout-math.ts";
import { ClockHealth } from "./clock/clock-health.ts";
import { ntpServerName, startClockMonitor } from "./clock/clock-monitor.ts";
import { OK, ReadinessGate, type ConditionStatus } from "./health/readiness-gate.ts";
import { buildGeneratorApp } from "./http/generator-app.ts";
import { Issuer } from "./issuing/issuer.ts";
import { GeneratorMetrics } from "./metrics/generator-metrics.ts";
import { GeneratorTelemetry } from "./telemetry/generator-telemetry.ts";

/** Readiness condition names the generator registers (the lease keeper may add its own). */
export const Condition = {
  issuer: "issuer",
  clock: "clock",
} as const;

/** Clock status is re-evaluated at most this often on the request path. */
const CLOCK_STATUS_CACHE_MS = 100;
/** Utilization window outside lease mode (lease mode uses its renew interval). */
export const DEFAULT_TELEMETRY_WINDOW_MS = 10_000;

/**
 * Everything a generator process runs, whatever its mode: the issuer (unfenced until a
 * mode gives it a worker id and a fence), readiness, clock monitoring, telemetry,
 * metrics and the HTTP app. Modes (standalone, lease) only drive the issuer's fence.
 */
export interface GeneratorRuntime {
  config: GeneratorConfig;
  issuer: Issuer;
  readiness: ReadinessGate;
  clock: ClockHealth;
  telemetry: GeneratorTelemetry;
  metrics: GeneratorMetrics;
  app: FastifyInstance;
  /**
   * Calls `listener` with every wall-clock step against the monotonic clock (positive: forward).
   * A forward step with no monotonic progress is also what a suspended VM looks like on resume.
   */
  onClockJump(listener: (stepMs: number) => void): void;
  /** Stops background timers (clock polling, telemetry sampling). */
  stop(): void;
}

export async function createGeneratorRuntime(
  config: GeneratorConfig,
  options: { logger?: boolean; telemetryWindowMs?: number } = {},
): Promise<GeneratorRuntime> {
  const math = layoutMath(config.layout);
  const issuer = new Issuer({
    math,
    workerId: null,
    maxBackwardWaitMs: config.maxBackwardWaitMs,
    sequenceStart: config.sequenceStart,
  });
  const clock = new ClockHealth({
    servers: config.ntpServers.map(ntpServerName),
    maxDriftMs: config.maxDriftMs,
    // Three missed polls before the last sample stops counting.
    staleAfterMs: 3 * config.ntpPollSeconds * 1000 + 2000,
  });
  const telemetry = new GeneratorTelemetry(
    issuer,
    clock,
    options.telemetryWindowMs ?? DEFAULT_TELEMETRY_WINDOW_MS,
  );
  const readiness = new ReadinessGate();
  const metrics = new GeneratorMetrics({ issuer, telemetry, clock, readiness });

  readiness.define(Condition.issuer, () => {
    const blocked = issuer.check(Date.now(), performance.now());
    return blocked?.kind === "refused" ? { ok: false, reason: blocked.code, message: blocked.message } : OK;
  });
  readiness.define(Condition.clock, () => clock.evaluate(performance.now()).status);

  // A new sample or jump invalidates the cache at once: an answer proving the clock ahead must
  // stop issuing before the renewal it came with unfences the issuer.
  let cached: { status: ConditionStatus; atMono: number; revision: number } = {
    status: OK,
    atMono: -Infinity,
    revision: -1,
  };
  const clockStatus = () => {
    const now = performance.now();
    if (now - cached.atMono > CLOCK_STATUS_CACHE_MS || cached.revision !== clock.revision)
      cached = { status: clock.evaluate(now).status, atMono: now, revision: clock.revision };
    return cached.status;
  };

  const app = await buildGeneratorApp({
    issuer,
    readiness,
    clockStatus,
    metrics,
    idSpace: config.idSpace,
    maxBatch: config.maxBatch,
    logger: options.logger ?? false,
  });
  const jumpListeners: ((stepMs: number) => void)[] = [];
  const monitor = startClockMonitor({
    servers: config.ntpServers,
    pollSeconds: config.ntpPollSeconds,
    health: clock,
    onSample: (server, sample) => metrics.recordNtpSample(server, sample),
    onFailure: (server, error) => {
      metrics.recordNtpFailure(server);
      app.log.warn({ server, err: error.message }, "NTP query failed");
    },
    onJump: (stepMs) => {
      app.log.warn({ stepMs }, "wall clock jumped against the monotonic clock");
      for (const listener of jumpListeners) listener(stepMs);
    },
  });
  telemetry.start();

  return {
    config,
    issuer,
    readiness,
    clock,
    telemetry,
    metrics,
    app,
    onClockJump: (listener) => jumpListeners.push(listener),
    stop: () => {
      monitor.stop();
      telemetry.stop();
    },
  };
}
