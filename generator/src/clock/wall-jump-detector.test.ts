import { describe, expect, it } from "vitest";
import { readClocksTogether, WallJumpDetector } from "./wall-jump-detector.ts";

describe("reading the wall and monotonic clocks together", () => {
  it("discards a read the process was preempted in, so no phantom forward step fences a holder", () => {
    const detector = new WallJumpDetector(10);
    let mono = 0;
    let wall = 1_000_000;
    const tick = (ms: number) => {
      mono += ms;
      wall += ms;
    };
    // Each read takes 0.1 ms; the second observation is preempted 30 ms between its reads.
    const read = (preemptMs = 0) =>
      readClocksTogether(
        () => {
          const w = wall;
          tick(preemptMs);
          return w;
        },
        () => {
          tick(0.1);
          return mono;
        },
      );
    const steps: number[] = [];
    for (const preempt of [0, 30, 0, 0]) {
      tick(500);
      const clocks = read(preempt);
      if (clocks) steps.push(detector.observe(clocks.wallMs, clocks.monoMs));
    }
    expect(steps).toEqual([0, 0, 0]);

    // The same sequence read naively (wall, then monotonic) sees a step back, then one forward.
    const naive = new WallJumpDetector(10);
    const naiveSteps = [0, 30, 0].map((preempt) => {
      tick(500);
      const w = wall;
      tick(preempt);
      return naive.observe(w, mono);
    });
    expect(naiveSteps[1]).toBeLessThan(-10);
    expect(naiveSteps[2]).toBeGreaterThan(10);
  });

  it("still sees a real step of the wall clock", () => {
    const detector = new WallJumpDetector(10);
    let mono = 0;
    let wall = 5_000;
    const read = () =>
      readClocksTogether(
        () => wall,
        () => mono,
      );
    detector.observe(read()!.wallMs, read()!.monoMs);
    mono += 500;
    wall += 500 + 2_000;
    const clocks = read()!;
    expect(detector.observe(clocks.wallMs, clocks.monoMs)).toBe(2_000);
  });
});
