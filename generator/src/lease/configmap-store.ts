import { ApiException, type CoreV1Api, type V1ConfigMap } from "@kubernetes/client-node";
import { callWithTimeout } from "../../../contract/api-call-timeout.ts";

/** A ConfigMap as the lease keeper handles it: its data, and the object to write back. */
export interface StoredConfigMap {
  resourceVersion: string;
  data: Record<string, string>;
  /** The object as read, so a replace keeps its labels and owner references. */
  object: V1ConfigMap;
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

/** The Kubernetes API behind a ConfigMapStore (client-node 2.x: one object argument per call). */
export function kubernetesConfigMapStore(
  core: CoreV1Api,
  namespace: string,
  timeoutMs: number,
): ConfigMapStore {
  return {
    async read(name) {
      try {
        return stored(
          await callWithTimeout(
            (options) => core.readNamespacedConfigMap({ name, namespace }, options),
            timeoutMs,
            () => timedOut(`read ${name}`, timeoutMs),
          ),
        );
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return null;
        throw translate(error, name);
      }
    },
    async replace(previous, data) {
      const name = previous.object.metadata?.name ?? "";
      const body: V1ConfigMap = {
        ...previous.object,
        metadata: { ...previous.object.metadata, resourceVersion: previous.resourceVersion },
        data,
      };
      try {
        return stored(
          await callWithTimeout(
            (options) => core.replaceNamespacedConfigMap({ name, namespace, body }, options),
            timeoutMs,
            () => timedOut(`replace ${name}`, timeoutMs),
          ),
        );
      } catch (error) {
        throw translate(error, name);
      }
    },
  };
}

function stored(object: V1ConfigMap): StoredConfigMap {
  return { resourceVersion: object.metadata?.resourceVersion ?? "", data: object.data ?? {}, object };
}

function translate(error: unknown, name: string): Error {
  if (error instanceof ApiException) {
    if (error.code === 409) return new ConfigMapConflict(`ConfigMap ${name} was changed by another writer`);
    if (error.code === 404) return new ConfigMapMissing(`ConfigMap ${name} does not exist`);
    return new Error(`ConfigMap ${name}: HTTP ${error.code}: ${String(error.message).slice(0, 300)}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function timedOut(what: string, timeoutMs: number): ConfigMapTimeout {
  return new ConfigMapTimeout(`${what}: no answer within ${timeoutMs} ms`);
}
