import { hostname } from "node:os";
import { z } from "zod";
import { formatIssues } from "../../../contract/id-layout.ts";

/** Environment variables of the operator process. */
export const OperatorEnv = {
  generatorImage: "IDFLEET_GENERATOR_IMAGE",
  host: "IDFLEET_HOST",
  port: "IDFLEET_PORT",
  workers: "IDFLEET_WORKERS",
  leaderElectionNamespace: "IDFLEET_LEADER_ELECTION_NAMESPACE",
  leaderElectionName: "IDFLEET_LEADER_ELECTION_NAME",
  identity: "IDFLEET_IDENTITY",
  watchNamespace: "IDFLEET_WATCH_NAMESPACE",
  ledgerNamespace: "IDFLEET_LEDGER_NAMESPACE",
  podNamespace: "POD_NAMESPACE",
  podName: "POD_NAME",
  kubeconfig: "KUBECONFIG",
} as const;

const schema = z.object({
  [OperatorEnv.generatorImage]: z.string().min(1).default("idfleet/generator:dev"),
  [OperatorEnv.host]: z.string().default("0.0.0.0"),
  [OperatorEnv.port]: z.coerce.number().int().min(0).max(65535).default(8081),
  [OperatorEnv.workers]: z.coerce.number().int().min(1).max(64).default(2),
  [OperatorEnv.leaderElectionNamespace]: z.string().optional(),
  [OperatorEnv.leaderElectionName]: z.string().default("idfleet-operator"),
  [OperatorEnv.identity]: z.string().optional(),
  [OperatorEnv.watchNamespace]: z.string().optional(),
  [OperatorEnv.ledgerNamespace]: z.string().optional(),
  [OperatorEnv.podNamespace]: z.string().optional(),
  [OperatorEnv.podName]: z.string().optional(),
});

/** The operator's settings. */
export interface OperatorConfig {
  generatorImage: string;
  host: string;
  port: number;
  workers: number;
  /** Only this namespace's fleets; all namespaces when undefined. */
  watchNamespace?: string;
  leaderElection: { namespace: string; name: string; identity: string };
  /**
   * Where the worker-id ledgers of every id space live (one per space, outliving its
   * fleets): the operator's own namespace unless IDFLEET_LEDGER_NAMESPACE says otherwise.
   */
  ledgerNamespace: string;
}

/** Reads the operator's settings from its environment; throws naming each bad variable. */
export function parseOperatorConfig(env: Record<string, string | undefined>): OperatorConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) throw new Error(`invalid operator environment: ${formatIssues(parsed.error.issues)}`);
  const e = parsed.data;
  const ownNamespace =
    e[OperatorEnv.leaderElectionNamespace] ?? e[OperatorEnv.podNamespace] ?? "idfleet-system";
  return {
    generatorImage: e[OperatorEnv.generatorImage],
    host: e[OperatorEnv.host],
    port: e[OperatorEnv.port],
    workers: e[OperatorEnv.workers],
    ...(e[OperatorEnv.watchNamespace] ? { watchNamespace: e[OperatorEnv.watchNamespace] } : {}),
    leaderElection: {
      namespace: ownNamespace,
      name: e[OperatorEnv.leaderElectionName],
      identity: e[OperatorEnv.identity] ?? e[OperatorEnv.podName] ?? `${hostname()}-${process.pid}`,
    },
    ledgerNamespace: e[OperatorEnv.ledgerNamespace] ?? e[OperatorEnv.podNamespace] ?? ownNamespace,
  };
}
