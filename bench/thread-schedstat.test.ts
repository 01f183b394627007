import { describe, expect, it } from "vitest";
import { runqueueWaitClock } from "./thread-schedstat.ts";

describe("runqueueWaitClock", () => {
  it.runIf(process.platform === "linux")("reads a wait time that never goes back", () => {
    const clock = runqueueWaitClock()!;
    const first = clock.read();
    const until = Date.now() + 20;
    while (Date.now() < until); // a stretch on a CPU, preempted or not
    const second = clock.read();
    clock.close();
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThanOrEqual(first);
  });
});
