import { performance } from "node:perf_hooks";
import { WorkQueue } from "../queue/work-queue.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { describeError } from "../kube/api-errors.ts";
import { reconcileFleet, type ReconcileContext } from "./reconcile-fleet.ts";

/**
 * Runs reconciles off the work queue: `workers` keys at a time, never one key twice at
 * once (the queue guarantees it), failures retried with per-key backoff, successes
 * forgotten and requeued when the reconcile asks for it.
 */
export class FleetController {
  readonly queue = new WorkQueue();
  readonly #ctx: ReconcileContext;
  readonly #metrics: OperatorMetrics;
  #running: Promise<void>[] = [];

  constructor(ctx: ReconcileContext, metrics: OperatorMetrics) {
    this.#ctx = ctx;
    this.#metrics = metrics;
  }

  /** Queues a fleet key (namespace/name). */
  enqueue(key: string): void {
    this.queue.add(key);
    this.#metrics.queueDepth.set(this.queue.length);
  }

  /** Starts `workers` loops; they end when stop() shuts the queue down. */
  start(workers: number): void {
    for (let i = 0; i < workers; i++) this.#running.push(this.#work());
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.#running);
    this.#running = [];
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.#metrics.queueDepth.set(this.queue.length);
      const started = performance.now();
      try {
        const result = await reconcileFleet(key, this.#ctx);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          this.queue.addAfter(key, result.requeueAfterMs);
          this.#metrics.reconcileTotal.inc({ result: "requeue" });
        } else {
          this.#metrics.reconcileTotal.inc({ result: "success" });
        }
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        this.#metrics.reconcileTotal.inc({ result: "error" });
        this.#metrics.reconcileErrors.inc();
        this.#ctx.log(`reconcile ${key} failed (retry in ${delay} ms): ${describeError(err)}`);
      } finally {
        this.#metrics.reconcileDuration.observe((performance.now() - started) / 1000);
        this.queue.done(key);
        this.#metrics.queueDepth.set(this.queue.length);
      }
    }
  }
}
