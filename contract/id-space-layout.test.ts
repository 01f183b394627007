import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeId, tickAt, tickStartMs } from "./id-layout-math.ts";
import {
  highWaterIdAt,
  MAX_SUCCESSION_WAIT_MS,
  sameSpaceLayout,
  spaceLayoutMath,
  successionStart,
  type SpaceLayout,
} from "./id-space-layout.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");

/** Random valid layouts with epochs in the past (tick 1..1000 ms, W and S 1..20 bits). */
const layoutArb: fc.Arbitrary<SpaceLayout> = fc
  .record({
    workerIdBits: fc.integer({ min: 1, max: 20 }),
    sequenceBits: fc.integer({ min: 1, max: 20 }),
    timeUnitMs: fc.constantFrom(1, 2, 10, 100, 1000),
    epochMs: fc.integer({ min: Date.parse("2010-01-01T00:00:00Z"), max: NOW - 1 }),
  })
  .map((l) => ({ ...l, timestampBits: 63 - l.workerIdBits - l.sequenceBits }));

describe("one layout per id space", () => {
  it("tells layouts apart by every field, and an epoch by its instant", () => {
    const a: SpaceLayout = {
      timestampBits: 41,
      workerIdBits: 10,
      sequenceBits: 12,
      timeUnitMs: 1,
      epochMs: 0,
    };
    expect(sameSpaceLayout(a, { ...a })).toBe(true);
    for (const change of [
      { workerIdBits: 9, timestampBits: 42 },
      { sequenceBits: 11, timestampBits: 42 },
      { timeUnitMs: 2 },
      { epochMs: 1 },
    ])
      expect(sameSpaceLayout(a, { ...a, ...change })).toBe(false);
  });

  it("bounds every ID a layout can issue up to a tick by its high-water mark", () => {
    fc.assert(
      fc.property(layoutArb, fc.nat(), fc.nat(), fc.nat(), (layout, t, w, s) => {
        const math = spaceLayoutMath(layout);
        const tick = t % 1_000_000;
        const id = encodeId(math, tick, w % (math.maxWorkerId + 1), s % (math.maxSequence + 1));
        expect(id).toBeLessThanOrEqual(highWaterIdAt(math, tick));
      }),
    );
  });

  it("starts a successor above every ID its predecessor may have issued, or refuses it with the numbers", () => {
    fc.assert(
      fc.property(layoutArb, layoutArb, fc.integer({ min: 0, max: 600_000 }), (old, next, aheadMs) => {
        // The predecessor's holders reserved up to `aheadMs` past now.
        const oldMath = spaceLayoutMath(old);
        const mark = highWaterIdAt(oldMath, tickAt(oldMath, NOW + aheadMs));
        const start = successionStart(mark, next, NOW);
        const nextMath = spaceLayoutMath(next);
        if (!start.ok) {
          expect(start.message).toMatch(/the highest ID this id space may already hold/);
          return;
        }
        // Every ID of the successor (ticks above its floor) is above every old ID...
        expect(encodeId(nextMath, start.floorTick + 1, 0, 0)).toBeGreaterThan(mark);
        // ...and the floor is the last tick that is not: no wait longer than needed.
        if (start.floorTick >= 0) expect(encodeId(nextMath, start.floorTick, 0, 0)).toBeLessThanOrEqual(mark);
        expect(start.firstTickStartMs).toBe(tickStartMs(nextMath, start.floorTick + 1));
        expect(start.firstTickStartMs - NOW).toBeLessThanOrEqual(MAX_SUCCESSION_WAIT_MS);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a successor that would first rise above the old IDs too late, and names an epoch that starts at once", () => {
    const old: SpaceLayout = {
      timestampBits: 41,
      workerIdBits: 10,
      sequenceBits: 12,
      timeUnitMs: 1,
      epochMs: Date.parse("2024-01-01T00:00:00Z"),
    };
    const mark = highWaterIdAt(spaceLayoutMath(old), tickAt(spaceLayoutMath(old), NOW));
    // Same bits, an epoch a day later: its IDs are a day behind.
    const later = { ...old, epochMs: old.epochMs + 86_400_000 };
    const refused = successionStart(mark, later, NOW);
    expect(refused).toMatchObject({ ok: false });
    if (!refused.ok) {
      expect(refused.message).toMatch(/86401 s from now .* an epoch of 2023-12-31T23:59:59.000Z or earlier/);
    }
    // Fewer bits below the timestamp: never above the old IDs before the layout ends.
    const narrow = { ...old, timestampBits: 61, workerIdBits: 1, sequenceBits: 1 };
    expect(successionStart(mark, narrow, NOW)).toMatchObject({ ok: false });
    // More worker bits from the same epoch: IDs twice as large, at once.
    const wider = { ...old, timestampBits: 40, workerIdBits: 11 };
    const started = successionStart(mark, wider, NOW);
    expect(started).toMatchObject({ ok: true });
    if (started.ok) expect(started.firstTickStartMs).toBeLessThan(NOW);
  });
});
