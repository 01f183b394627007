import { describe, expect, it } from "vitest";
import { layoutMath, parseIdLayout, tickAt } from "../../../contract/id-layout.ts";
import type { IssuedRange } from "../issuing/issuer.ts";
import { Issuer, RefusalCode, WaitReason } from "../issuing/issuer.ts";
import { issueIds } from "./issue-ids.ts";

const open = { floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity };

function issuer(layout: object) {
  const i = new Issuer({ math: layoutMath(parseIdLayout(layout)), workerId: 0, maxBackwardWaitMs: 5 });
  i.setFence(open);
  return i;
}

describe("issueIds", () => {
  it("answers synchronously when no wait is needed", () => {
    const ranges: IssuedRange[] = [];
    const outcome = issueIds(issuer({}), 10, (r) => ranges.push(r), 100);
    expect(outcome).toEqual({ ok: true });
    expect(ranges.map((r) => r.count)).toEqual([10]);
  });

  it("waits for the next ticks when the sequence runs out, and reports the wait", async () => {
    const i = issuer({ timestampBits: 51, workerIdBits: 4, sequenceBits: 8, timeUnitMs: 10 });
    const ranges: IssuedRange[] = [];
    const waits: string[] = [];
    const outcome = await issueIds(i, 600, (r) => ranges.push(r), 1000, {
      onWait: (reason) => waits.push(reason),
    });
    expect(outcome).toEqual({ ok: true });
    expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(600);
    expect(new Set(ranges.map((r) => r.tick)).size).toBeGreaterThanOrEqual(3);
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(waits)).toEqual(new Set([WaitReason.SequenceExhausted]));
  });

  it("gives up with BUSY when the waiting would exceed the budget", async () => {
    const i = issuer({ timestampBits: 61, workerIdBits: 1, sequenceBits: 1, timeUnitMs: 1000 });
    const outcome = await issueIds(i, 5, () => {}, 50);
    expect(outcome).toMatchObject({ ok: false, refusal: { code: RefusalCode.Busy } });
  });

  it("returns the issuer's refusal", async () => {
    const i = issuer({});
    const now = tickAt(i.math, Date.now());
    i.setFence({ floorTick: -1, ceilingTick: now - 10, validUntilMonoMs: Infinity });
    expect(await issueIds(i, 1, () => {}, 50)).toMatchObject({
      ok: false,
      refusal: { code: RefusalCode.Fenced },
    });
  });
});
