import { describe, expect, it } from "vitest";
import { OK, ReadinessGate } from "./readiness-gate.ts";

describe("ReadinessGate", () => {
  it("is ready only when every condition is ok, listing the failing ones", () => {
    const gate = new ReadinessGate();
    expect(gate.evaluate()).toEqual({ ready: true, conditions: {}, failing: [] });
    gate.set("lease", OK);
    let drift = 0;
    gate.define("clock", () =>
      drift > 100 ? { ok: false, reason: "CLOCK_DRIFT", message: `offset ${drift} ms` } : OK,
    );
    expect(gate.evaluate().ready).toBe(true);
    drift = 250;
    expect(gate.evaluate()).toEqual({
      ready: false,
      conditions: { lease: OK, clock: { ok: false, reason: "CLOCK_DRIFT", message: "offset 250 ms" } },
      failing: [{ condition: "clock", reason: "CLOCK_DRIFT", message: "offset 250 ms" }],
    });
    gate.set("lease", { ok: false, reason: "NOT_LEASED", message: "waiting for a lease" });
    expect(gate.evaluate().failing.map((f) => f.reason)).toEqual(["NOT_LEASED", "CLOCK_DRIFT"]);
  });
});
