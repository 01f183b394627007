import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { WallClockWaiter } from "./wall-clock-waiter.ts";

/** A wall clock at `offsetMs` from the monotonic one, with Date.now()'s millisecond truncation. */
function steppableClocks(offsetMs: number) {
  const clocks = {
    offsetMs,
    monoMs: () => performance.now(),
    wallMs: () => Math.floor(performance.now() + clocks.offsetMs),
  };
  return clocks;
}

describe("WallClockWaiter", () => {
  it("resolves once Date.now() reaches the target, never before", async () => {
    const waiter = new WallClockWaiter();
    for (let i = 0; i < 50; i++) {
      const target = Date.now() + 1 + (i % 3);
      await waiter.until(target);
      expect(Date.now()).toBeGreaterThanOrEqual(target);
    }
  });

  it("resolves for a target already passed", async () => {
    await new WallClockWaiter().until(Date.now() - 10);
  });

  it("lets pending work run before it sleeps (other requests' I/O overlaps the wait)", async () => {
    const order: string[] = [];
    setImmediate(() => order.push("other work"));
    await new WallClockWaiter().until(Date.now() + 1).then(() => order.push("waited"));
    expect(order).toEqual(["other work", "waited"]);
  });

  it("keeps the event loop free during long waits", async () => {
    let timerFired = false;
    setTimeout(() => (timerFired = true), 2);
    await new WallClockWaiter().until(Date.now() + 40);
    expect(timerFired).toBe(true);
  });

  it("ends waits for the same millisecond in the order they began", async () => {
    const waiter = new WallClockWaiter();
    const target = Date.now() + 2;
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((n) => waiter.until(target).then(() => order.push(n))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it("never ends early after the wall clock steps against the monotonic clock by less than a millisecond", async () => {
    const clocks = steppableClocks(1_000_000.3);
    const waiter = new WallClockWaiter(clocks);
    for (const step of [0, -0.7, 0.4, -0.2, -0.95, 0.9]) {
      clocks.offsetMs += step;
      for (let i = 0; i < 15; i++) {
        const target = clocks.wallMs() + 1;
        await waiter.until(target);
        expect(clocks.wallMs()).toBeGreaterThanOrEqual(target);
      }
    }
  });

  it("sleeps rather than polls after the wall clock steps back by less than a millisecond", async () => {
    const clocks = steppableClocks(1_000_000.9);
    let reads = 0;
    const counted = { monoMs: clocks.monoMs, wallMs: () => (reads++, clocks.wallMs()) };
    const waiter = new WallClockWaiter(counted);
    for (let i = 0; i < 20; i++) await waiter.until(clocks.wallMs() + 1);
    clocks.offsetMs -= 0.8;
    reads = 0;
    const waits = 20;
    for (let i = 0; i < waits; i++) await waiter.until(clocks.wallMs() + 1);
    // A handful of clock reads per wait; polling until the millisecond turns would take hundreds.
    expect(reads / waits).toBeLessThan(20);
  });

  it("ends on the monotonic clock when the wall clock steps back during the wait", async () => {
    const clocks = steppableClocks(1_000_000);
    const waiter = new WallClockWaiter(clocks);
    const target = clocks.wallMs() + 5;
    const waiting = waiter.until(target);
    clocks.offsetMs -= 3_600_000;
    await waiting;
    // Ended without the wall clock getting there: the caller re-checks and decides.
    expect(clocks.wallMs()).toBeLessThan(target);
  });
});
