import { describe, expect, it } from "vitest";
import { BreakerState, CircuitBreaker } from "./circuit-breaker.ts";

describe("CircuitBreaker", () => {
  it("opens on a failure, backs off exponentially, lets one probe through, closes on success", () => {
    const b = new CircuitBreaker({ baseCooldownMs: 100, maxCooldownMs: 350 });
    expect(b.canRequest(0)).toBe(true);
    b.onFailure(0);
    expect(b.stateAt(99)).toBe(BreakerState.Open);
    expect(b.canRequest(99)).toBe(false);
    expect(b.canRequest(100)).toBe(true);
    b.onRequest(100);
    expect(b.canRequest(100)).toBe(false); // one probe at a time
    b.onFailure(100);
    expect(b.reopensAt()).toBe(300);
    b.onRequest(300);
    b.onFailure(300);
    expect(b.reopensAt()).toBe(650); // capped at 350
    b.onRequest(650);
    b.onSuccess();
    expect(b.stateAt(650)).toBe(BreakerState.Closed);
    b.onFailure(700);
    expect(b.reopensAt()).toBe(800); // the backoff starts over
  });

  it("rests at least as long as Retry-After says", () => {
    const b = new CircuitBreaker({ baseCooldownMs: 100, maxCooldownMs: 350 });
    b.onFailure(0, 1000);
    expect(b.reopensAt()).toBe(1000);
  });
});
