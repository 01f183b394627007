import {
  ApiException,
  Observable,
  type ConfigurationOptions,
  type CoreV1Api,
  type V1ConfigMap,
} from "@kubernetes/client-node";

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
          await withTimeout(
            (options) => core.readNamespacedConfigMap({ name, namespace }, options),
            timeoutMs,
            `read ${name}`,
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
          await withTimeout(
            (options) => core.replaceNamespacedConfigMap({ name, namespace, body }, options),
            timeoutMs,
            `replace ${name}`,
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

// Runs one API call and gives up after `timeoutMs`, aborting the HTTP request too: while the API
// server hangs, the keeper retries every second or two, and each abandoned request would otherwise
// hold a socket until the HTTP client's own timeout, minutes later. An aborted write may still be
// applied by the server; the caller treats a timeout as "unknown", never as "not written".
async function withTimeout<T>(
  call: (options: ConfigurationOptions) => Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ConfigMapTimeout(`${what}: no answer within ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  const promise = call({
    middleware: [
      {
        // The object-parameter API hands per-call middleware to its observable layer as is.
        pre: (context) => {
          context.setSignal(abort.signal);
          return new Observable(Promise.resolve(context));
        },
        post: (context) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: "append",
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => undefined);
  }
}
