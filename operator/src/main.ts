import { KubeConfig } from "@kubernetes/client-node";
import { parseOperatorConfig } from "./config/operator-config.ts";
import { startOperator } from "./operator.ts";

const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);

let config;
try {
  config = parseOperatorConfig(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const operator = await startOperator(kubeConfig, config, log);
log(
  `idfleet operator ${config.leaderElection.identity} serving /healthz /readyz /metrics on ${config.host}:${config.port}`,
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: releasing leadership and stopping`);
  await operator.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// A replica that lost leadership restarts clean rather than guess what its workers were doing.
await operator.stoppedLeading;
if (!stopping) {
  log("lost leadership; exiting so the replica restarts as a standby");
  process.exit(1);
}
