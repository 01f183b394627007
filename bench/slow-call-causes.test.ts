import { describe, expect, it } from "vitest";
import { causeOf, countCauses, SlowCallCause, type SlowCall } from "./slow-call-causes.ts";

const call = (over: Partial<SlowCall>): SlowCall => ({
  startMs: 100,
  durationMs: 4,
  missed: false,
  runqueueWaitMs: 0,
  ...over,
});

describe("causeOf", () => {
  it("names a buffer miss first, then a GC pause covering half the call, then descheduling", () => {
    const gc = [{ startMs: 101, durationMs: 2.5 }];
    expect(causeOf(call({ missed: true, runqueueWaitMs: 4 }), gc)).toBe(SlowCallCause.Miss);
    expect(causeOf(call({ runqueueWaitMs: 4 }), gc)).toBe(SlowCallCause.Gc);
    // Only the part of a pause inside the call counts: 1 ms of 4 here.
    expect(causeOf(call({ runqueueWaitMs: 2 }), [{ startMs: 95, durationMs: 6 }])).toBe(
      SlowCallCause.Descheduled,
    );
    expect(causeOf(call({ runqueueWaitMs: 1.9 }), [{ startMs: 95, durationMs: 6 }])).toBe(
      SlowCallCause.Other,
    );
    expect(causeOf(call({ runqueueWaitMs: -1 }), [])).toBe(SlowCallCause.Other);
  });

  it("counts every cause", () => {
    expect(countCauses([call({ missed: true }), call({}), call({ runqueueWaitMs: 3 })], [])).toEqual({
      "buffer miss": 1,
      "GC pause": 0,
      descheduled: 1,
      other: 1,
    });
  });
});
