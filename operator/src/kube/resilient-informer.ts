import {
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from "@kubernetes/client-node";
import { KeyedBackoff } from "../queue/backoff.ts";
import { describeError } from "./api-errors.ts";
import type { OperatorLog } from "../log/operator-log.ts";

/** A watched, cached collection that keeps itself alive. */
export interface ResilientInformer<T extends KubernetesObject> {
  readonly cache: ObjectCache<T>;
  /** Resolves once the first list has succeeded. */
  readonly synced: Promise<void>;
  /** True once the first list has succeeded. */
  readonly hasSynced: () => boolean;
  stop(): Promise<void>;
}

/**
 * Starts an informer (list + watch into a cache) that restarts itself with exponential
 * backoff after any error: client-node informers stop for good on a watch error. A
 * restart watches from the last resourceVersion; if that is too old the server answers
 * 410 Gone and the informer relists.
 */
export function startResilientInformer<T extends KubernetesObject>(options: {
  kubeConfig: KubeConfig;
  what: string;
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  onChange: (obj: T, verb: "add" | "update" | "delete") => void;
  log: OperatorLog;
}): ResilientInformer<T> {
  const informer = makeInformer<T>(options.kubeConfig, options.path, options.list, options.labelSelector);
  const backoff = new KeyedBackoff({ baseDelayMs: 500, maxDelayMs: 30_000 });
  let stopped = false;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));
  let erroredSinceStart = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = async () => {
    erroredSinceStart = false;
    try {
      await informer.start();
    } catch (err) {
      onError(err);
      return;
    }
    if (!erroredSinceStart) {
      backoff.forget(options.what);
      if (!synced) {
        synced = true;
        markSynced();
      }
    }
  };
  const onError = (err: unknown) => {
    erroredSinceStart = true;
    if (stopped || restartTimer) return;
    const delay = backoff.next(options.what);
    options.log("warn", `informer ${options.what}: ${describeError(err)}; restarting in ${delay} ms`);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopped) void start();
    }, delay);
  };
  informer.on("error", onError);
  informer.on("add", (o) => options.onChange(o, "add"));
  informer.on("update", (o) => options.onChange(o, "update"));
  informer.on("delete", (o) => options.onChange(o, "delete"));
  void start();

  return {
    cache: informer,
    synced: syncedPromise,
    hasSynced: () => synced,
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}
