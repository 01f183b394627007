import { performance } from "node:perf_hooks";
import { WorkQueue } from "../queue/work-queue.ts";
import type { OperatorMetrics } from "../metrics/operator-metrics.ts";
import { describeError } from "../kube/api-errors.ts";
import { reconcileFleet, type ReconcileContext, type ReconcileResult } from "./reconcile-fleet.ts";
import { TerminalError } from "./terminal-error.ts";

/**
 * Runs reconciles off the work queue: `workers` keys at a time, never one key twice at
 * once (the queue guarantees it), failures retried with per-key backoff, successes
 * forgotten and requeued when the reconcile asks for it, terminal spec problems
 * (TerminalError) logged once and not retried.
 */
export class FleetController {
  readonly queue = new WorkQueue();
  readonly #ctx: ReconcileContext;
  readonly #metrics: OperatorMetrics;
  readonly #reconcile: (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;
  #running: Promise<void>[] = [];
  /** Per key, the terminal problem last logged, so a fleet stuck on its spec is logged once. */
  readonly #terminalReported = new Map<string, string>();

  /** `reconcile` is the port tests replace; the operator runs reconcileFleet. */
  constructor(
    ctx: ReconcileContext,
    metrics: OperatorMetrics,
    reconcile: (key: string, ctx: ReconcileContext) => Promise<ReconcileResult> = reconcileFleet,
  ) {
    this.#ctx = ctx;
    this.#metrics = metrics;
    this.#reconcile = reconcile;
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
        const result = await this.#reconcile(key, this.#ctx);
        this.queue.forget(key);
        this.#terminalReported.delete(key);
        if (result.requeueAfterMs !== undefined) {
          this.queue.addAfter(key, result.requeueAfterMs);
          this.#metrics.reconcileTotal.inc({ result: "requeue" });
        } else {
          this.#metrics.reconcileTotal.inc({ result: "success" });
        }
      } catch (err) {
        if (err instanceof TerminalError) this.#terminal(key, err);
        else this.#retry(key, err);
      } finally {
        this.#metrics.reconcileDuration.observe((performance.now() - started) / 1000);
        this.queue.done(key);
        this.#metrics.queueDepth.set(this.queue.length);
      }
    }
  }

  /** A failure that may pass: retried with per-key exponential backoff. */
  #retry(key: string, err: unknown): void {
    this.#terminalReported.delete(key);
    const delay = this.queue.addRateLimited(key);
    this.#metrics.reconcileTotal.inc({ result: "error" });
    this.#metrics.reconcileErrors.inc();
    this.#ctx.log("error", `reconcile failed, retrying in ${delay} ms: ${describeError(err)}`, {
      fleet: key,
      retryInMs: delay,
    });
  }

  /** A spec problem no retry fixes: no backoff, logged once, requeued only for lease observation. */
  #terminal(key: string, err: TerminalError): void {
    this.queue.forget(key);
    if (err.requeueAfterMs !== undefined) this.queue.addAfter(key, err.requeueAfterMs);
    this.#metrics.reconcileTotal.inc({ result: "terminal" });
    if (this.#terminalReported.get(key) === err.message) return;
    this.#terminalReported.set(key, err.message);
    this.#ctx.log("error", `fleet spec cannot work, not retrying until it changes: ${err.message}`, {
      fleet: key,
    });
  }
}
