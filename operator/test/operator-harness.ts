import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { parseLeaseData, serializeLeaseData, type LeaseData } from "../../contract/lease-record.ts";
import { FleetResource } from "../../contract/fleet-spec.ts";
import { startOperator, type RunningOperator } from "../src/operator.ts";

/**
 * Starts an in-process operator watching one namespace, electing on a Lease in it (or in
 * `electionNamespace`), keeping its id spaces' ledgers in it (or in `ledgerNamespace`).
 */
export function startTestOperator(
  kubeConfig: KubeConfig,
  namespace: string,
  identity: string,
  electionNamespace = namespace,
  ledgerNamespace = namespace,
): Promise<RunningOperator> {
  return startOperator(
    kubeConfig,
    {
      generatorImage: "idfleet/generator:test",
      host: "127.0.0.1",
      port: 0,
      workers: 2,
      watchNamespace: namespace,
      leaderElection: { namespace: electionNamespace, name: "idfleet-operator", identity },
      ledgerNamespace,
    },
    () => undefined,
  );
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Total API writes the operator made so far. */
export async function writeCount(op: RunningOperator): Promise<number> {
  const metric = await op.metrics.apiWrites.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/** Creates a fleet through the API. */
export async function createFleet(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
) {
  const { group, version, plural, apiVersion, kind } = FleetResource;
  await kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group,
    version,
    plural,
    namespace,
    body: { apiVersion, kind, metadata: { name, namespace }, spec },
  });
}

/** Changes a fleet through the API with a JSON patch. */
export async function patchFleet(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  ops: { op: "add" | "replace" | "remove"; path: string; value?: unknown }[],
) {
  const { group, version, plural } = FleetResource;
  await kubeConfig
    .makeApiClient(CustomObjectsApi)
    .patchNamespacedCustomObject({ group, version, plural, namespace, name, body: ops });
}

/** Deletes a fleet through the API (its finalizer may keep it a while). */
export async function deleteFleet(kubeConfig: KubeConfig, namespace: string, name: string) {
  const { group, version, plural } = FleetResource;
  await kubeConfig
    .makeApiClient(CustomObjectsApi)
    .deleteNamespacedCustomObject({ group, version, plural, namespace, name });
}

/** Reads a fleet through the API (undefined once it is gone). */
export async function readFleet(kubeConfig: KubeConfig, namespace: string, name: string) {
  const { group, version, plural } = FleetResource;
  try {
    return (await kubeConfig
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group, version, plural, namespace, name })) as {
      metadata: { generation: number; finalizers?: string[] };
      spec: Record<string, unknown>;
      status?: Record<string, unknown> & {
        conditions?: {
          type: string;
          status: string;
          reason: string;
          message: string;
          observedGeneration?: number;
        }[];
      };
    };
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Confirms or renews a lease as its holder's generator would (Active, one more renewal), with `change`. */
export async function renewAsHolder(
  core: CoreV1Api,
  namespace: string,
  name: string,
  change: Partial<LeaseData>,
) {
  const current = await core.readNamespacedConfigMap({ name, namespace });
  const lease = parseLeaseData(current.data);
  return core.replaceNamespacedConfigMap({
    name,
    namespace,
    body: {
      ...current,
      data: serializeLeaseData({ ...lease, state: "Active", renewCount: lease.renewCount + 1, ...change }),
    },
  });
}
