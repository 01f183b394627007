import { performance } from "node:perf_hooks";
import { parseGeneratorEnv, type GeneratorConfig, type LeaseMode } from "../../contract/generator-env.ts";
import { layoutMath } from "../../contract/id-layout-math.ts";
import { fleetKey, leaseNameForPod, ledgerNameForIdSpace } from "../../contract/lease-record.ts";
import { spaceLayoutOf } from "../../contract/id-space-layout.ts";
import type { ServerTimeSample } from "../../contract/server-time.ts";
import { IN_FLIGHT_BUDGET_SECONDS } from "../../contract/shutdown-timing.ts";
import { createGeneratorRuntime, type GeneratorRuntime } from "./generator-runtime.ts";
import { startStandaloneFence } from "./issuing/standalone-fence.ts";
import { fileReservationMemory, reservationFileOf } from "./lease/reservation-memory.ts";
import { gracefulShutdownOf } from "./shutdown/graceful-shutdown.ts";

/**
 * A running mode drives the issuer's worker id and fence. On shutdown (shutdown-sequence.ts),
 * once no request is left, main calls `stop` (no more fence updates), unfences the issuer,
 * then calls `release` (lease mode: write Released).
 */
export interface ModeHandle {
  stop(): void;
  release(): Promise<void>;
}

/** Standalone: a fixed worker id and a fence that advances in memory (no Kubernetes). */
function startStandalone(runtime: GeneratorRuntime, workerId: number): ModeHandle {
  runtime.issuer.setWorkerId(workerId);
  const stopFence = startStandaloneFence(runtime.issuer);
  return { stop: stopFence, release: async () => {} };
}

/**
 * Lease mode: acquire and renew this pod's worker-id lease (docs/lease-protocol.md),
 * setting the issuer's fence from it and writing runtime.telemetry.snapshot() on renewal.
 */
async function startLeaseMode(runtime: GeneratorRuntime, mode: LeaseMode): Promise<ModeHandle> {
  // Loaded only here: a standalone generator does not pay for TLS and the lease code at start-up.
  const [
    { inClusterAccess, KubeApiClient },
    { kubernetesConfigMapStore },
    { renewalRetryTiming },
    keeperModule,
  ] = await Promise.all([
    import("./kube/kube-api-client.ts"),
    import("./lease/configmap-store.ts"),
    import("./lease/lease-holding.ts"),
    import("./lease/lease-keeper.ts"),
  ]);
  const { LEASE_CONDITION, LeaseKeeper } = keeperModule;
  const math = layoutMath(runtime.config.layout);
  const reserveAheadTicks = Math.ceil(mode.reserveAheadMs / math.layout.timeUnitMs);
  const { requestTimeoutMs } = renewalRetryTiming(
    mode.renewIntervalSeconds * 1000,
    reserveAheadTicks * math.layout.timeUnitMs,
  );
  // Every answer's Date header checks the clock when no NTP servers are configured.
  const onServerTime = (sample: ServerTimeSample) =>
    runtime.clock.recordServerTime(sample, performance.now());
  const store = kubernetesConfigMapStore(
    new KubeApiClient(inClusterAccess()),
    mode.podNamespace,
    requestTimeoutMs,
    { onServerTime },
  );
  const ledgerStore =
    mode.ledgerNamespace === mode.podNamespace
      ? store
      : kubernetesConfigMapStore(
          new KubeApiClient(inClusterAccess()),
          mode.ledgerNamespace,
          requestTimeoutMs,
          { onServerTime },
        );
  const keeper = new LeaseKeeper({
    store,
    ledgerStore,
    reservationMemory: fileReservationMemory(reservationFileOf(mode.podUid), (message) =>
      runtime.app.log.warn(message),
    ),
    issuer: runtime.issuer,
    readiness: runtime.readiness,
    report: () => {
      const t = runtime.telemetry.snapshot();
      const failing = runtime.readiness
        .evaluate()
        .failing.filter((f) => f.condition !== LEASE_CONDITION)
        .map((f) => `${f.condition}: ${f.message}`);
      return {
        clockOffsetMs: t.clockOffsetMs,
        clockHealthy: t.clockHealthy,
        sequenceUtilization: t.sequenceUtilization,
        sequenceExhaustions: t.sequenceExhaustions,
        message: failing.length ? failing.join("; ").slice(0, 1000) : null,
      };
    },
    math,
    settings: {
      fleet: fleetKey(mode.podNamespace, mode.fleet),
      layout: spaceLayoutOf(runtime.config.layout),
      podName: mode.podName,
      podUid: mode.podUid,
      leaseName: leaseNameForPod(mode.podName),
      leaseDurationMs: mode.leaseDurationSeconds * 1000,
      safetyMarginMs: mode.safetyMarginSeconds * 1000,
      reserveAheadTicks,
    },
    ledgerName: ledgerNameForIdSpace(runtime.config.idSpace),
    renewIntervalMs: mode.renewIntervalSeconds * 1000,
    log: (level, message, fields) => runtime.app.log[level](fields ?? {}, message),
    onRenewFailure: (reason) => runtime.metrics.recordRenewFailure(reason),
  });
  keeper.start();
  runtime.onClockJump((stepMs) => {
    if (stepMs > 0)
      keeper.fenceUntilRenewed(
        `the wall clock jumped ${Math.round(stepMs)} ms ahead of the monotonic clock (a suspended VM?)`,
      );
  });
  return {
    stop: () => void keeper.stop(),
    release: () => (mode.releaseOnShutdown ? keeper.release() : keeper.stop()),
  };
}

function readConfig(): GeneratorConfig {
  try {
    return parseGeneratorEnv(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const runtime = await createGeneratorRuntime(config, {
    logger: true,
    // The lease reports utilization over its last renewal interval.
    ...(config.mode.kind === "lease" ? { telemetryWindowMs: config.mode.renewIntervalSeconds * 1000 } : {}),
  });
  const { app, issuer } = runtime;

  // In-process drain, not a preStop sleep: only the process can add Connection: close and
  // say why it is unready (docs/serving.md, "Why an in-process drain"). Installed before the
  // mode starts, so a SIGTERM during start-up still releases a lease acquired meanwhile.
  let mode: ModeHandle | undefined;
  const shutdown = gracefulShutdownOf(app, {
    timing: { drainMs: config.drainSeconds * 1000, inFlightBudgetMs: IN_FLIGHT_BUDGET_SECONDS * 1000 },
    readiness: runtime.readiness,
    stopIssuing: () => {
      mode?.stop();
      issuer.setFence(null);
    },
    release: async () => mode?.release(),
    exit: () => {
      runtime.stop();
      process.exit(0);
    },
  });
  process.on("SIGTERM", () => shutdown.signal("SIGTERM"));
  // Ctrl-C in a terminal: no endpoints to drain from.
  process.on("SIGINT", () => shutdown.signal("SIGINT", false));

  try {
    mode =
      config.mode.kind === "standalone"
        ? startStandalone(runtime, config.mode.workerId)
        : await startLeaseMode(runtime, config.mode);
  } catch (error) {
    app.log.error((error as Error).message);
    runtime.stop();
    process.exit(2);
  }

  await app.listen({ host: config.host, port: config.port });
  const math = layoutMath(config.layout);
  app.log.info(
    {
      mode: config.mode.kind,
      workerId: issuer.getWorkerId(),
      idSpace: config.idSpace,
      layout: config.layout,
      capacityIdsPerSecond: math.idsPerSecondPerWorker,
      timestampExhaustsAt: math.exhaustsAt?.toISOString() ?? "after year 275760",
    },
    "generator ready",
  );
}

await main();
