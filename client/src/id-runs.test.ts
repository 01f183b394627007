import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bigIntOf, IdRuns } from "./id-runs.ts";

interface Run {
  prefix: number;
  low: number;
  count: number;
  at: number;
}

const run = fc.record({
  // Prefixes near 10^4 boundaries and up to the largest ID's.
  prefix: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 922_337_203_685_476 })),
  low: fc.oneof(fc.integer({ min: 9700, max: 9999 }), fc.integer({ min: 0, max: 9999 })),
  count: fc.integer({ min: 1, max: 300 }),
  at: fc.integer({ min: 0, max: 100 }),
});

const idsOf = (r: Run) => Array.from({ length: r.count }, (_, k) => bigIntOf(r.prefix, r.low) + BigInt(k));

describe("IdRuns", () => {
  it("hands out exactly the pushed IDs in order, as strings or bigints, then drops only what is stale", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            run.map((r) => ({ push: r })),
            fc.nat(500).map((take) => ({ take })),
            fc.nat(100).map((dropUpTo) => ({ dropUpTo })),
          ),
        ),
        (steps) => {
          const runs = new IdRuns(2);
          // The model: a queue of [id, fetchedAt].
          let model: [bigint, number][] = [];
          for (const step of steps) {
            if ("push" in step) {
              runs.push(step.push.prefix, step.push.low, step.push.count, step.push.at);
              model.push(...idsOf(step.push).map((id): [bigint, number] => [id, step.push.at]));
            } else if ("take" in step) {
              const n = Math.min(step.take, runs.level);
              for (let k = 0; k < n; k++) {
                const expected = model.shift()![0];
                expect(k % 2 ? runs.takeBigInt() : BigInt(runs.takeString())).toBe(expected);
              }
            } else {
              const before = model.length;
              model = model.filter(([, at]) => at > step.dropUpTo);
              expect(runs.dropFetchedUpTo(step.dropUpTo)).toBe(before - model.length);
            }
            expect(runs.level).toBe(model.length);
            expect(runs.oldestFetchedAt()).toBe(model.reduce((min, [, at]) => Math.min(min, at), Infinity));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("writes decimal strings with zero-padded low digits and small IDs without padding", () => {
    const runs = new IdRuns();
    runs.push(38719079418586, 9998, 3, 0);
    runs.push(0, 7, 1, 0);
    expect([runs.takeString(), runs.takeString(), runs.takeString(), runs.takeString()]).toEqual([
      "387190794185869998",
      "387190794185869999",
      "387190794185870000",
      "7",
    ]);
  });
});
