import { describe, expect, it } from "vitest";
import { KeyedBackoff, backoffDelayMs } from "./backoff.ts";

describe("backoff", () => {
  it("doubles from the base delay and stops at the cap", () => {
    const o = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((f) => backoffDelayMs(f, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelayMs(5000, o)).toBe(1000);
  });

  it("counts failures per key until forget", () => {
    const b = new KeyedBackoff({ baseDelayMs: 10, maxDelayMs: 10_000 });
    expect([b.next("a"), b.next("a"), b.next("b"), b.next("a")]).toEqual([10, 20, 10, 40]);
    b.forget("a");
    expect(b.failures("a")).toBe(0);
    expect(b.next("a")).toBe(10);
    expect(b.failures("b")).toBe(1);
  });
});
