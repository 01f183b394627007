import type { ServerTimeSample } from "../../../contract/server-time.ts";
import { KubeApiTimeout, type KubeApiClient, type KubeApiResponse } from "../kube/kube-api-client.ts";

/** A ConfigMap object as the API server returns it; only the fields the keeper touches are typed. */
export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  data?: Record<string, string>;
  [field: string]: unknown;
}

/** A ConfigMap as the lease keeper handles it: its data, and the object to write back. */
export interface StoredConfigMap {
  resourceVersion: string;
  data: Record<string, string>;
  /** The object as read, so a replace keeps its labels and owner references. */
  object: ConfigMapObject;
}

/** Another writer changed the ConfigMap since it was read (HTTP 409). */
export class ConfigMapConflict extends Error {}
/** The ConfigMap does not exist (HTTP 404). */
export class ConfigMapMissing extends Error {}
/** No answer in time; the request may still be applied later. */
export class ConfigMapTimeout extends Error {}

/** Reads and conditionally replaces ConfigMaps in one namespace. */
export interface ConfigMapStore {
  /** The ConfigMap, or null when it does not exist. */
  read(name: string): Promise<StoredConfigMap | null>;
  /** Replaces `previous` with new data, conditioned on its resourceVersion. */
  replace(previous: StoredConfigMap, data: Record<string, string>): Promise<StoredConfigMap>;
}

export interface ConfigMapStoreOptions {
  /** Called with every response that carries a `Date` header (the clock check without NTP). */
  onServerTime?: (sample: ServerTimeSample) => void;
}

/** The Kubernetes API behind a ConfigMapStore: GET and PUT on one namespace's ConfigMaps. */
export function kubernetesConfigMapStore(
  api: KubeApiClient,
  namespace: string,
  timeoutMs: number,
  options: ConfigMapStoreOptions = {},
): ConfigMapStore {
  const path = (name: string) =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
  const call = async (method: string, name: string, body?: ConfigMapObject): Promise<KubeApiResponse> => {
    let res: KubeApiResponse;
    try {
      res = await api.request(method, path(name), body, timeoutMs);
    } catch (error) {
      const message = `${method} ConfigMap ${name}: ${(error as Error).message}`;
      if (error instanceof KubeApiTimeout) throw new ConfigMapTimeout(message, { cause: error });
      throw new Error(message, { cause: error });
    }
    if (res.serverDateMs !== null)
      options.onServerTime?.({
        sentWallMs: res.sentWallMs,
        receivedWallMs: res.receivedWallMs,
        serverDateMs: res.serverDateMs,
      });
    return res;
  };
  return {
    async read(name) {
      const res = await call("GET", name);
      if (res.status === 404) return null;
      return stored(expectOk(res, "read", name));
    },
    async replace(previous, data) {
      const name = previous.object.metadata?.name ?? "";
      const body: ConfigMapObject = {
        ...previous.object,
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { ...previous.object.metadata, resourceVersion: previous.resourceVersion },
        data,
      };
      return stored(expectOk(await call("PUT", name, body), "replace", name));
    },
  };
}

/** The object of a 2xx answer; 409, 404 and everything else as the keeper's errors. */
function expectOk(res: KubeApiResponse, what: string, name: string): ConfigMapObject {
  if (res.status >= 200 && res.status < 300) {
    try {
      return JSON.parse(res.body) as ConfigMapObject;
    } catch {
      throw new Error(`${what} ConfigMap ${name}: HTTP ${res.status} with a body that is not JSON`);
    }
  }
  if (res.status === 409) throw new ConfigMapConflict(`ConfigMap ${name} was changed by another writer`);
  if (res.status === 404) throw new ConfigMapMissing(`ConfigMap ${name} does not exist`);
  throw new Error(`${what} ConfigMap ${name}: HTTP ${res.status}: ${statusMessage(res.body)}`);
}

/** The message of a Kubernetes Status body, or the start of whatever came back. */
function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown; reason?: unknown };
    if (typeof status.message === "string") return `${String(status.reason ?? "")} ${status.message}`.trim();
  } catch {
    // not JSON: show the text
  }
  return body.slice(0, 300) || "(empty body)";
}

function stored(object: ConfigMapObject): StoredConfigMap {
  return { resourceVersion: object.metadata?.resourceVersion ?? "", data: object.data ?? {}, object };
}
