import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./work-queue.ts";

describe("work queue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("hands out each key once, in order, however often it was added", async () => {
    const q = new WorkQueue();
    q.add("ns/a");
    q.add("ns/b");
    q.add("ns/a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("ns/a");
    expect(await q.get()).toBe("ns/b");
    expect(q.length).toBe(0);
  });

  it("never gives a key to two workers: a key added while in flight comes back after done", async () => {
    const q = new WorkQueue();
    q.add("k");
    const first = await q.get();
    q.add("k");
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(first!);
    await Promise.resolve();
    expect(second).toBe("k");
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add("x");
    expect(await next).toBe("x");
  });

  it("requeues after a delay, keeping the earliest schedule", async () => {
    const q = new WorkQueue();
    q.addAfter("k", 1000);
    q.addAfter("k", 5000);
    q.addAfter("k", 500);
    vi.advanceTimersByTime(499);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("k");
    q.done("k");
    vi.advanceTimersByTime(10_000);
    expect(q.length).toBe(0);
  });

  it("backs off failed keys exponentially until forgotten", () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([q.addRateLimited("k"), q.addRateLimited("k"), q.addRateLimited("k")]).toEqual([100, 200, 400]);
    expect(q.failures("k")).toBe(3);
    q.forget("k");
    expect(q.addRateLimited("k")).toBe(100);
  });

  it("releases waiting workers on shutdown and ignores later adds", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.addAfter("later", 100);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add("k");
    expect(await q.get()).toBeUndefined();
    expect(q.pending).toBe(0);
  });
});
