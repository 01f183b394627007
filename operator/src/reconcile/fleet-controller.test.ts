import { describe, expect, it } from "vitest";
import type { LogLevel } from "../log/operator-log.ts";
import { createOperatorMetrics } from "../metrics/operator-metrics.ts";
import { FleetController } from "./fleet-controller.ts";
import type { ReconcileContext } from "./reconcile-fleet.ts";
import { TerminalError } from "./terminal-error.ts";

const KEY = "ns/fleet";

/** A controller whose reconcile answers from `outcomes` in turn, and what it logged. */
function controllerWith(outcomes: (() => Promise<{ requeueAfterMs?: number }>)[]) {
  const logs: { level: LogLevel; message: string }[] = [];
  const ctx = { log: (level: LogLevel, message: string) => logs.push({ level, message }) };
  const metrics = createOperatorMetrics();
  let calls = 0;
  const controller = new FleetController(ctx as unknown as ReconcileContext, metrics, () => {
    const next = outcomes[Math.min(calls, outcomes.length - 1)]!;
    calls++;
    return next();
  });
  return { controller, logs, metrics, calls: () => calls };
}

/** Runs one reconcile of KEY on a single worker and waits until it is done. */
async function reconcileOnce(controller: FleetController, calls: () => number): Promise<void> {
  const before = calls();
  controller.enqueue(KEY);
  for (let i = 0; i < 100 && calls() === before; i++) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 5));
}

async function results(metrics: ReturnType<typeof createOperatorMetrics>): Promise<Record<string, number>> {
  const metric = await metrics.reconcileTotal.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

describe("FleetController outcomes", () => {
  it("retries a failure with backoff and logs each one", async () => {
    const { controller, logs, metrics, calls } = controllerWith([
      () => Promise.reject(new Error("apiserver down")),
    ]);
    controller.start(1);
    try {
      await reconcileOnce(controller, calls);
      expect(controller.queue.failures(KEY)).toBe(1);
      expect(logs).toEqual([
        { level: "error", message: expect.stringContaining("apiserver down") as string },
      ]);
      expect(await results(metrics)).toEqual({ error: 1 });
    } finally {
      await controller.stop();
    }
  });

  it("does not retry a terminal spec problem with backoff, and logs it once", async () => {
    const problem = "spec.layout.epoch 2999-01-01T00:00:00Z is in the future";
    const { controller, logs, metrics, calls } = controllerWith([
      () => Promise.reject(new TerminalError(problem)),
      () => Promise.reject(new TerminalError(problem)),
      () => Promise.resolve({}),
      () => Promise.reject(new TerminalError(problem)),
    ]);
    controller.start(1);
    try {
      await reconcileOnce(controller, calls);
      await reconcileOnce(controller, calls);
      expect(controller.queue.failures(KEY)).toBe(0);
      expect(controller.queue.length).toBe(0);
      expect(logs.map((l) => l.message)).toEqual([expect.stringContaining(problem)]);
      // Fixed, then broken again: worth saying again.
      await reconcileOnce(controller, calls);
      await reconcileOnce(controller, calls);
      expect(logs).toHaveLength(2);
      expect(logs.every((l) => l.level === "error")).toBe(true);
      expect(await results(metrics)).toEqual({ terminal: 3, success: 1 });
    } finally {
      await controller.stop();
    }
  });

  it("keeps the lease observation of a terminal fleet going", async () => {
    const { controller, calls } = controllerWith([() => Promise.reject(new TerminalError("expired", 20))]);
    controller.start(1);
    try {
      await reconcileOnce(controller, calls);
      const first = calls();
      for (let i = 0; i < 100 && calls() === first; i++) await new Promise((r) => setTimeout(r, 5));
      expect(calls()).toBeGreaterThan(first);
      expect(controller.queue.failures(KEY)).toBe(0);
    } finally {
      await controller.stop();
    }
  });
});
