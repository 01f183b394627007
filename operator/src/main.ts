import { KubeConfig } from "@kubernetes/client-node";
import { parseOperatorConfig } from "./config/operator-config.ts";
import { parseCustomMetricsEnv } from "./custom-metrics/custom-metrics-env.ts";
import { startCustomMetricsServer } from "./custom-metrics/custom-metrics-server.ts";
import { leaseReportSourceFromCaches } from "./custom-metrics/lease-reports.ts";
import { createOperatorLog } from "./log/operator-log.ts";
import { startOperator } from "./operator.ts";

const log = createOperatorLog();

let config;
let customMetrics;
try {
  config = parseOperatorConfig(process.env);
  customMetrics = parseCustomMetricsEnv(process.env);
} catch (err) {
  // Bad settings: say which and exit 2, as every idfleet command does on bad input.
  log("error", (err as Error).message);
  process.exit(2);
}
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const operator = await startOperator(kubeConfig, config, log);
log("info", "idfleet operator serving /healthz /readyz /metrics", {
  identity: config.leaderElection.identity,
  address: `${config.host}:${config.port}`,
});
// Every replica serves custom.metrics.k8s.io from its own informer cache, leader or not.
const metricsApi = customMetrics.enabled
  ? await startCustomMetricsServer({
      kubeConfig,
      namespace: process.env.POD_NAMESPACE ?? "idfleet-system",
      serviceName: customMetrics.serviceName,
      port: customMetrics.port,
      windowSeconds: customMetrics.windowSeconds,
      ...(customMetrics.tlsFiles ? { tlsFiles: customMetrics.tlsFiles } : {}),
      source: leaseReportSourceFromCaches(operator.caches),
      log: (level, message, fields) => log(level, message, { component: "custom-metrics", ...fields }),
    })
  : undefined;
if (metricsApi)
  log("info", "custom metrics API (custom.metrics.k8s.io) serving HTTPS", { port: metricsApi.port });

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log("info", "releasing leadership and stopping", { signal });
  await metricsApi?.close();
  await operator.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// A replica that lost leadership restarts clean rather than guess what its workers were doing.
await operator.stoppedLeading;
if (!stopping) {
  log("warn", "lost leadership; exiting so the replica restarts as a standby");
  process.exit(1);
}
