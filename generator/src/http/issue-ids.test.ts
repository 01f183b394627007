import { describe, expect, it, vi } from "vitest";
import { layoutMath, tickAt, tickStartMs } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import type { IssuedRange } from "../issuing/issuer.ts";
import { Issuer, RefusalCode, WaitReason } from "../issuing/issuer.ts";
import { WallClockWaiter } from "../clock/wall-clock-waiter.ts";
import { issueIds, type IssueWaiting } from "./issue-ids.ts";

const open = { floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity };

function waiting(budgetMs: number, extra: Partial<IssueWaiting> = {}): IssueWaiting {
  const waiter = new WallClockWaiter();
  return { budgetMs, until: (wallMs) => waiter.until(wallMs), ...extra };
}

function issuer(layout: object) {
  const i = new Issuer({ math: layoutMath(parseIdLayout(layout)), workerId: 0, maxBackwardWaitMs: 5 });
  i.setFence(open);
  return i;
}

describe("issueIds", () => {
  it("answers synchronously when no wait is needed", () => {
    const ranges: IssuedRange[] = [];
    const outcome = issueIds(issuer({}), 10, (r) => ranges.push(r), waiting(100));
    expect(outcome).toEqual({ ok: true });
    expect(ranges.map((r) => r.count)).toEqual([10]);
  });

  it("waits for the next ticks when the sequence runs out, and reports the wait", async () => {
    const i = issuer({ timestampBits: 51, workerIdBits: 4, sequenceBits: 8, timeUnitMs: 10 });
    const ranges: IssuedRange[] = [];
    const waits: string[] = [];
    const outcome = await issueIds(
      i,
      600,
      (r) => ranges.push(r),
      waiting(1000, { onWait: (reason) => waits.push(reason) }),
    );
    expect(outcome).toEqual({ ok: true });
    expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(600);
    expect(new Set(ranges.map((r) => r.tick)).size).toBeGreaterThanOrEqual(3);
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(waits)).toEqual(new Set([WaitReason.SequenceExhausted]));
  });

  it("gives up with BUSY, without waiting, when the wait would exceed the budget", async () => {
    const i = issuer({ timestampBits: 61, workerIdBits: 1, sequenceBits: 1, timeUnitMs: 1000 });
    // Start 1 ms into a 1 s tick: the next tick is 999 ms away, far past the 50 ms budget. With the
    // real clock, a run landing in a tick's last 50 ms would wait once, legitimately.
    vi.useFakeTimers({ toFake: ["Date"], now: tickStartMs(i.math, tickAt(i.math, Date.now())) + 1 });
    try {
      let waited = 0;
      const outcome = await issueIds(i, 5, () => {}, waiting(50, { until: async () => void waited++ }));
      expect(outcome).toMatchObject({ ok: false, refusal: { code: RefusalCode.Busy } });
      expect(waited).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("returns the issuer's refusal", async () => {
    const i = issuer({});
    const now = tickAt(i.math, Date.now());
    i.setFence({ floorTick: -1, ceilingTick: now - 10, validUntilMonoMs: Infinity });
    expect(await issueIds(i, 1, () => {}, waiting(50))).toMatchObject({
      ok: false,
      refusal: { code: RefusalCode.Fenced },
    });
  });

  it("serves concurrent calls in turn while they wait: each batch increasing, no ID twice", async () => {
    // 16 IDs per 1 ms tick: each batch spans several ticks, the others wait meanwhile.
    const i = issuer({ timestampBits: 51, workerIdBits: 8, sequenceBits: 4, timeUnitMs: 1 });
    const batches: number[][] = [[], [], [], []];
    const outcomes = await Promise.all(
      batches.map((ids) =>
        issueIds(
          i,
          100,
          (r) => {
            for (let s = 0; s < r.count; s++) ids.push(r.tick * 16 + r.firstSequence + s);
          },
          waiting(2000),
        ),
      ),
    );
    expect(outcomes).toEqual(batches.map(() => ({ ok: true })));
    for (const ids of batches) {
      expect(ids).toHaveLength(100);
      for (let k = 1; k < ids.length; k++) expect(ids[k] as number).toBeGreaterThan(ids[k - 1] as number);
    }
    expect(new Set(batches.flat()).size).toBe(400);
  });
});
