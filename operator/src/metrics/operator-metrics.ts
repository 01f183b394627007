import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The operator's Prometheus metrics (prefix idfleet_), in their own registry. */
export function createOperatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "idfleet_process_" });
  return {
    registry,
    reconcileTotal: new Counter({
      name: "idfleet_reconcile_total",
      help: "Fleet reconciles, by result (success, requeue, error: retried with backoff, terminal: the spec cannot work)",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: "idfleet_reconcile_errors_total",
      help: "Fleet reconciles that failed and were retried with backoff",
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: "idfleet_reconcile_duration_seconds",
      help: "Time one fleet reconcile took",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    clockOffset: new Gauge({
      name: "idfleet_operator_clock_offset_seconds",
      help: "The operator's clock minus the API server's, the value nearest zero its last Date header allows (1 s resolution)",
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "idfleet_queue_depth",
      help: "Fleet keys waiting in the work queue",
      registers: [registry],
    }),
    leasesHeld: new Gauge({
      name: "idfleet_leases_held",
      help: "Worker-id leases held by a live holder, per fleet",
      labelNames: ["namespace", "fleet"] as const,
      registers: [registry],
    }),
    workerIdsAvailable: new Gauge({
      name: "idfleet_worker_ids_available",
      help: "Worker ids in the fleet's range that no fleet of its id space holds or is retiring",
      labelNames: ["namespace", "fleet"] as const,
      registers: [registry],
    }),
    workerIdsCapacity: new Gauge({
      name: "idfleet_worker_ids_capacity",
      help: "Size of the fleet's worker-id range",
      labelNames: ["namespace", "fleet"] as const,
      registers: [registry],
    }),
    ledgerRollbacks: new Counter({
      name: "idfleet_ledger_rollbacks_total",
      help: "Times a worker-id ledger was seen going back (an etcd restore or a hand edit); the operator then waits lease duration + grace before handing out its free ids",
      labelNames: ["idSpace"] as const,
      registers: [registry],
    }),
    workerIdsReachable: new Gauge({
      name: "idfleet_worker_ids_reachable",
      help: "Worker ids the fleet holds or could lease: its own in its range plus the free ones (what scaling can reach)",
      labelNames: ["namespace", "fleet"] as const,
      registers: [registry],
    }),
    replicasMax: new Gauge({
      name: "idfleet_replicas_max",
      help: "The most pods the fleet may ask for: spec.autoscaling.maxReplicas when autoscaling, else spec.replicas",
      labelNames: ["namespace", "fleet"] as const,
      registers: [registry],
    }),
    layoutExhaustion: new Gauge({
      name: "idfleet_layout_exhaustion_timestamp_seconds",
      help: "Unix time at which the fleet's timestamp bits run out (absent past year 275760)",
      labelNames: ["namespace", "fleet"] as const,
      registers: [registry],
    }),
    apiWrites: new Counter({
      name: "idfleet_api_writes_total",
      help: "Writes the operator sent to the API server, by kind and verb",
      labelNames: ["kind", "verb"] as const,
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: "idfleet_is_leader",
      help: "1 while this replica is the elected leader",
      registers: [registry],
    }),
  };
}

/** The operator's metrics. */
export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
