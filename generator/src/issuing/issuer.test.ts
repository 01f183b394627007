import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { layoutMath, tickStartMs } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import type { IssueFence } from "./issue-fence.ts";
import { SEQUENCE_STARTS, SequenceStart } from "../../../contract/sequence-start.ts";
import { Issuer, RefusalCode, WaitReason } from "./issuer.ts";

const math = layoutMath(parseIdLayout({}));
const tiny = layoutMath(
  parseIdLayout({
    timestampBits: 59,
    workerIdBits: 2,
    sequenceBits: 2,
    timeUnitMs: 10,
    epoch: "2024-01-01T00:00:00Z",
  }),
);
const T0 = tickStartMs(math, 1_000_000);
const open: IssueFence = { floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity };

function issuer(m = math, maxBackwardWaitMs = 5, sequenceStart: SequenceStart = SequenceStart.zero) {
  const it = new Issuer({ math: m, workerId: 3, maxBackwardWaitMs, sequenceStart });
  it.setFence(open);
  return it;
}

describe("Issuer", () => {
  it("issues consecutive sequences in one tick and restarts at 0 on the next", () => {
    const i = issuer();
    expect(i.next(10, T0, 0)).toEqual({
      kind: "issued",
      tick: 1_000_000,
      workerId: 3,
      firstSequence: 0,
      count: 10,
    });
    expect(i.next(1, T0 + 0.5, 0)).toMatchObject({ tick: 1_000_000, firstSequence: 10, count: 1 });
    expect(i.next(5, T0 + 1, 0)).toMatchObject({ tick: 1_000_001, firstSequence: 0, count: 5 });
    expect(i.getCounters().issued).toBe(16);
  });

  it("waits for the next tick when the sequence is used up, counting the exhaustion once", () => {
    const i = issuer();
    expect(i.next(5000, T0, 0)).toMatchObject({ kind: "issued", count: 4096 });
    const wait = { kind: "wait", untilWallMs: T0 + 1, reason: WaitReason.SequenceExhausted };
    expect(i.next(1, T0, 0)).toEqual(wait);
    expect(i.next(1, T0 + 0.9, 0)).toEqual(wait);
    expect(i.getCounters().exhaustions).toBe(1);
    expect(i.next(904, T0 + 1, 0)).toMatchObject({ kind: "issued", firstSequence: 0, count: 904 });
    expect(i.takePeakTickUse()).toBe(4096);
    expect(i.takePeakTickUse()).toBe(904);
  });

  it("refuses once the clock is past the layout's last timestamp, instead of overflowing 63 bits", () => {
    const short = layoutMath(
      parseIdLayout({ timestampBits: 33, workerIdBits: 10, sequenceBits: 20, epoch: "2024-01-01T00:00:00Z" }),
    );
    const i = issuer(short);
    const lastTickMs = tickStartMs(short, short.maxTick);
    expect(i.next(1, lastTickMs, 0)).toMatchObject({ kind: "issued", tick: short.maxTick });
    expect(i.next(1, lastTickMs + 1, 0)).toMatchObject({
      kind: "refused",
      code: RefusalCode.LayoutExhausted,
      message: expect.stringMatching(
        /ran out on 2024-04-09T10:05:34.592Z; no more IDs fit. Use a layout that lasts longer/,
      ),
    });
    expect(i.check(lastTickMs + 86_400_000, 0)).toMatchObject({ code: RefusalCode.LayoutExhausted });
  });

  it("waits out a small backward step and refuses a large one until the clock catches up", () => {
    const i = issuer(math, 5);
    i.next(1, T0 + 100, 0);
    expect(i.next(1, T0 + 97, 0)).toEqual({
      kind: "wait",
      untilWallMs: T0 + 100,
      reason: WaitReason.ClockBackward,
    });
    expect(i.next(1, T0 + 50, 0)).toMatchObject({
      kind: "refused",
      code: RefusalCode.ClockBackward,
      retryAfterMs: 50,
    });
    expect(i.check(T0 + 50, 0)).toMatchObject({ code: RefusalCode.ClockBackward });
    expect(i.getCounters().backwardSteps).toBe(1);
    expect(i.next(1, T0 + 100, 0)).toMatchObject({ kind: "issued", tick: 1_000_100, firstSequence: 1 });
    i.next(1, T0 + 20, 0);
    expect(i.getCounters().backwardSteps).toBe(2);
  });

  it("refuses without a lease, after the lease validity and past the ceiling", () => {
    const i = new Issuer({ math, workerId: null, maxBackwardWaitMs: 5 });
    expect(i.next(1, T0, 0)).toMatchObject({ kind: "refused", code: RefusalCode.NotLeased });
    expect(() => i.setFence(open)).toThrow(/worker id first/);
    i.setWorkerId(1);
    i.setFence({ floorTick: 1_000_000, ceilingTick: 1_000_010, validUntilMonoMs: 500 });
    expect(i.next(1, T0 + 10, 499)).toMatchObject({ kind: "issued", tick: 1_000_010 });
    expect(i.next(1, T0 + 11, 499)).toMatchObject({ kind: "refused", code: RefusalCode.Fenced });
    expect(i.next(1, T0 + 10, 500)).toMatchObject({ kind: "refused", code: RefusalCode.Fenced });
    expect(() => i.setWorkerId(2)).toThrow(/unfenced/);
  });

  it("refuses when the wall clock ran ahead of the monotonic one since the fence was set (a VM suspend)", () => {
    const i = issuer();
    const anchor = { wallMs: T0, monoMs: 1_000 };
    i.setFence({ ...open, validUntilMonoMs: 13_000, anchor });
    // Both clocks moved together: fine, however much time passed.
    expect(i.next(1, T0 + 9_000, 10_000)).toMatchObject({ kind: "issued" });
    // The monotonic clock stood still for 5 s of wall time: the fence may have run out for real.
    expect(i.next(1, T0 + 14_000, 10_000)).toMatchObject({ kind: "refused", code: RefusalCode.Fenced });
    // A new fence (the next renewal) anchors afresh.
    i.setFence({ ...open, validUntilMonoMs: 22_000, anchor: { wallMs: T0 + 14_000, monoMs: 10_000 } });
    expect(i.next(1, T0 + 14_001, 10_001)).toMatchObject({ kind: "issued" });
  });

  it("issues only past the floor: waits when it is near, refuses when it is far", () => {
    const i = issuer();
    i.setFence({ ...open, floorTick: 1_000_003 });
    expect(i.next(1, T0 + 1, 0)).toEqual({
      kind: "wait",
      untilWallMs: T0 + 4,
      reason: WaitReason.BelowFloor,
    });
    expect(i.next(1, T0 - 100, 0)).toMatchObject({ kind: "refused", code: RefusalCode.ClockBehindFloor });
    expect(i.next(1, T0 + 4, 0)).toMatchObject({ kind: "issued", tick: 1_000_004 });
  });

  it("rolling: a tick starts after the previous tick's last sequence and never wraps inside itself", () => {
    const i = issuer(math, 5, SequenceStart.rolling);
    expect(i.next(1, T0, 0)).toMatchObject({ tick: 1_000_000, firstSequence: 0, count: 1 });
    expect(i.next(1, T0 + 1, 0)).toMatchObject({ tick: 1_000_001, firstSequence: 1, count: 1 });
    expect(i.next(3, T0 + 5, 0)).toMatchObject({ tick: 1_000_005, firstSequence: 2, count: 3 });
    expect(i.next(1, T0 + 6, 0)).toMatchObject({ firstSequence: 5 });
    // A tick starting high fills up at 2^S - 1 and waits; the next one starts at 0.
    expect(i.next(4090, T0 + 7, 0)).toMatchObject({ tick: 1_000_007, firstSequence: 6, count: 4090 });
    expect(i.next(10, T0 + 7, 0)).toEqual({
      kind: "wait",
      untilWallMs: T0 + 8,
      reason: WaitReason.SequenceExhausted,
    });
    expect(i.next(10, T0 + 8, 0)).toMatchObject({ tick: 1_000_008, firstSequence: 0, count: 10 });
    expect(i.takePeakTickUse()).toBe(4090);
  });

  it("starts a fresh sequence space on a new worker id", () => {
    const i = issuer();
    i.next(4096, T0, 0);
    i.setFence(null);
    i.setWorkerId(4);
    i.setFence(open);
    expect(i.next(1, T0, 0)).toMatchObject({
      kind: "issued",
      workerId: 4,
      tick: 1_000_000,
      firstSequence: 0,
    });
  });
});

type Step =
  | { op: "wall"; deltaMs: number }
  | { op: "mono"; deltaMs: number }
  | { op: "fence"; floorOffset: number; ceilingOffset: number; validForMs: number }
  | { op: "unfence" }
  | { op: "next"; want: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("wall" as const),
      deltaMs: fc.double({ min: -25, max: 25, noNaN: true }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("wall" as const),
      deltaMs: fc.double({ min: -200, max: 200, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("wall" as const),
      deltaMs: fc.integer({ min: -5000, max: 5000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("mono" as const), deltaMs: fc.integer({ min: 0, max: 300 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("fence" as const),
      floorOffset: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -50, max: 50 })),
      ceilingOffset: fc.oneof(fc.integer({ min: -2, max: 4 }), fc.integer({ min: -20, max: 200 })),
      validForMs: fc.integer({ min: 0, max: 1000 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "unfence" as const }) },
  {
    weight: 8,
    arbitrary: fc.record({ op: fc.constant("next" as const), want: fc.integer({ min: 1, max: 9 }) }),
  },
);

describe.each(SEQUENCE_STARTS)("Issuer under adversarial clocks, sequence start %s", (sequenceStart) => {
  it("issues strictly increasing IDs, always inside the fence that was set", () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 300 }),
        fc.integer({ min: 0, max: 20 }),
        (steps, maxBackwardWaitMs) => {
          const m = tiny;
          const i = new Issuer({ math: m, workerId: 2, maxBackwardWaitMs, sequenceStart });
          let wall = tickStartMs(m, 10_000);
          let mono = 0;
          let fence: IssueFence | null = null;
          let last: [number, number] = [-1, -1];
          let previousTickEnd = -1;
          for (const s of steps) {
            if (s.op === "wall") wall += s.deltaMs;
            else if (s.op === "mono") mono += s.deltaMs;
            else if (s.op === "unfence") i.setFence((fence = null));
            else if (s.op === "fence") {
              const now = Math.floor((wall - m.epochMs) / m.layout.timeUnitMs);
              // A lease keeper only ever raises the floor; the ceiling may lag the clock.
              const floorTick = Math.max(fence?.floorTick ?? -1, now + s.floorOffset);
              fence = {
                floorTick,
                ceilingTick: now + s.ceilingOffset,
                validUntilMonoMs: mono + s.validForMs,
              };
              i.setFence(fence);
            } else {
              const d = i.next(s.want, wall, mono);
              if (d.kind !== "issued") continue;
              expect(fence).not.toBeNull();
              const f = fence as IssueFence;
              expect(mono).toBeLessThan(f.validUntilMonoMs);
              expect(d.tick).toBeGreaterThan(f.floorTick);
              expect(d.tick).toBeLessThanOrEqual(f.ceilingTick);
              expect(d.count).toBeGreaterThanOrEqual(1);
              expect(d.count).toBeLessThanOrEqual(s.want);
              expect(d.firstSequence + d.count).toBeLessThanOrEqual(m.idsPerTick);
              const first: [number, number] = [d.tick, d.firstSequence];
              expect(first[0] > last[0] || (first[0] === last[0] && first[1] > last[1])).toBe(true);
              if (d.tick > last[0]) {
                // A new tick starts at 0, or (rolling) right after the last sequence issued.
                const rolled = (previousTickEnd + 1) % m.idsPerTick;
                expect(d.firstSequence).toBe(
                  sequenceStart === SequenceStart.rolling && last[0] >= 0 ? rolled : 0,
                );
              }
              last = [d.tick, d.firstSequence + d.count - 1];
              previousTickEnd = last[1];
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("never fails to make progress on a clock that only moves forward", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 25, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (deltas) => {
          const i = new Issuer({ math: tiny, workerId: 0, maxBackwardWaitMs: 5, sequenceStart });
          i.setFence(open);
          let wall = tickStartMs(tiny, 50);
          for (const delta of deltas) {
            wall += delta;
            const d = i.next(3, wall, 0);
            if (d.kind === "refused") throw new Error(`refused on a forward clock: ${d.message}`);
            if (d.kind === "wait") {
              expect(d.reason).toBe(WaitReason.SequenceExhausted);
              expect(d.untilWallMs).toBeGreaterThan(wall);
              expect(i.next(3, d.untilWallMs, 0).kind).toBe("issued");
              wall = d.untilWallMs;
            }
          }
        },
      ),
    );
  });
});
