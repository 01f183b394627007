import type { Server } from "node:http";
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { performance } from "node:perf_hooks";
import { ApiServerClock } from "./clock/api-server-clock.ts";
import { startApiServerClockProbe } from "./clock/api-server-clock-probe.ts";
import { LeaseSync } from "./leases/lease-sync.ts";
import { kubeLeaseStore } from "./leases/kube-lease-store.ts";
import type { OperatorConfig } from "./config/operator-config.ts";
import { startFleetCaches, type FleetCaches } from "./kube/fleet-caches.ts";
import { ObjectWriter } from "./kube/object-writer.ts";
import { LeaderElector } from "./leader/leader-election.ts";
import { createOperatorMetrics, type OperatorMetrics } from "./metrics/operator-metrics.ts";
import { FleetController } from "./reconcile/fleet-controller.ts";
import { startOperatorServer } from "./http/operator-server.ts";
import { createOperatorLog, type OperatorLog } from "./log/operator-log.ts";

/** A running operator. */
export interface RunningOperator {
  metrics: OperatorMetrics;
  caches: FleetCaches;
  server: Server;
  isLeader: () => boolean;
  /** Queues a fleet key for reconcile (no-op unless leading). */
  enqueue: (key: string) => void;
  /** Resolves when leadership is lost (the process should exit then) or stop() was called. */
  stoppedLeading: Promise<void>;
  stop: () => Promise<void>;
}

// Every fleet is looked at again this often even without events (belt and braces over watches).
const RESYNC_MS = 5 * 60_000;

/**
 * Starts the operator: informers (always, so a standby has warm caches), leader election,
 * and the reconcile workers only while leading. Writes happen only on the leader.
 */
export async function startOperator(
  kubeConfig: KubeConfig,
  config: OperatorConfig,
  log: OperatorLog = createOperatorLog(),
): Promise<RunningOperator> {
  const metrics = createOperatorMetrics();
  const writer = new ObjectWriter(kubeConfig, metrics);
  let controller: FleetController | undefined;
  const enqueue = (key: string) => controller?.enqueue(key);
  const caches = startFleetCaches(kubeConfig, enqueue, log, config.watchNamespace);
  // Lost-state floors come from this clock: never behind the API server's (docs/lease-protocol.md, "Clocks").
  const serverClock = new ApiServerClock();
  const stopClockProbe = startApiServerClockProbe(kubeConfig, serverClock, log, (offsetMs) =>
    metrics.clockOffset.set(offsetMs / 1000),
  );
  const enqueueAll = () => {
    for (const f of caches.fleets.list())
      if (f.metadata?.namespace && f.metadata.name) enqueue(`${f.metadata.namespace}/${f.metadata.name}`);
  };

  let markStopped!: () => void;
  const stoppedLeading = new Promise<void>((resolve) => (markStopped = resolve));
  const abort = new AbortController();
  const elector = new LeaderElector(
    kubeConfig.makeApiClient(CoordinationV1Api),
    { ...config.leaderElection, leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    {
      onStartedLeading: () => {
        metrics.isLeader.set(1);
        void caches.waitForSync().then(() => {
          if (abort.signal.aborted) return;
          const store = kubeLeaseStore(kubeConfig.makeApiClient(CoreV1Api), caches, metrics, {
            ledgerNamespace: config.ledgerNamespace,
            ...(config.watchNamespace ? { watchNamespace: config.watchNamespace } : {}),
          });
          const leaseSync = new LeaseSync(store, {
            metrics,
            isLeader: () => elector.isLeader,
            clock: { wallMs: () => serverClock.notBehindMs(), monoMs: () => performance.now() },
          });
          controller = new FleetController(
            {
              caches,
              writer,
              leaseSync,
              defaultImage: config.generatorImage,
              ledgerNamespace: config.ledgerNamespace,
              now: () => new Date(),
              log,
            },
            metrics,
          );
          controller.start(config.workers);
          enqueueAll();
        });
      },
      onStoppedLeading: () => {
        metrics.isLeader.set(0);
        const c = controller;
        controller = undefined;
        void c?.stop();
        markStopped();
      },
      onNewLeader: (id) => log("info", "new leader", { identity: id }),
      log,
    },
  );
  const electing = elector.run(abort.signal);
  const resync = setInterval(enqueueAll, RESYNC_MS);
  resync.unref();

  const server = await startOperatorServer({
    host: config.host,
    port: config.port,
    registry: metrics.registry,
    ready: () =>
      caches.synced()
        ? { ok: true, reason: elector.isLeader ? "ready (leader)" : "ready (standby)" }
        : { ok: false, reason: "informer caches not synced yet" },
  });

  return {
    metrics,
    caches,
    server,
    isLeader: () => elector.isLeader,
    enqueue,
    stoppedLeading,
    async stop() {
      clearInterval(resync);
      stopClockProbe();
      abort.abort();
      await electing;
      await controller?.stop();
      await caches.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      markStopped();
    },
  };
}
