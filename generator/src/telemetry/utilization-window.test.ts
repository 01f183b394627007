import { describe, expect, it } from "vitest";
import { layoutMath } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import { UtilizationWindow } from "./utilization-window.ts";

const math = layoutMath(parseIdLayout({}));

describe("UtilizationWindow", () => {
  it("is zero before two samples", () => {
    const w = new UtilizationWindow(math, 10_000);
    expect(w.read()).toEqual({ mean: 0, peak: 0 });
    w.record(0, 0, 0);
    expect(w.read()).toEqual({ mean: 0, peak: 0 });
  });

  it("computes the mean against 2^S per tick and the peak tick over the window", () => {
    const w = new UtilizationWindow(math, 10_000);
    w.record(0, 0, 0);
    w.record(1000, 409_600, 4096); // 409,600 IDs in 1000 ticks = 10% of 4096/tick; one full tick
    expect(w.read()).toEqual({ mean: 0.1, peak: 1 });
    w.record(2000, 409_600, 0);
    expect(w.read().mean).toBeCloseTo(0.05);
  });

  it("forgets samples older than the window", () => {
    const w = new UtilizationWindow(math, 2000);
    w.record(0, 0, 0);
    w.record(1000, 4_096_000, 4096);
    for (let t = 2000; t <= 5000; t += 1000) w.record(t, 4_096_000 + (t - 1000) * 2048, 2048);
    expect(w.read()).toEqual({ mean: 0.5, peak: 0.5 });
  });
});
