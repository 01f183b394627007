import { describe, expect, it } from "vitest";
import { encodeId, layoutMath } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import { auditRun, findDuplicates, findNotIssued, IdCollector } from "./id-audit.ts";

const math = layoutMath(parseIdLayout({}));
const batch = (worker: number, fromTick: number, ticks: number, perTick: number): bigint[] => {
  const ids: bigint[] = [];
  for (let t = fromTick; t < fromTick + ticks; t++)
    for (let s = 0; s < perTick; s++) ids.push(encodeId(math, t, worker, s));
  return ids;
};

describe("chaos ID audit", () => {
  it("passes a clean run spread over several chunks", () => {
    const c = new IdCollector(math);
    // 2.5 M IDs: more than two 1 Mi chunks.
    for (let i = 0; i < 250; i++) c.addBatch("uid-a", "f-0", batch(1, 1000 + i * 10, 10, 1000), i);
    c.addBatch("uid-b", "f-1", batch(2, 1000, 5, 10), 0);
    const report = auditRun(math, c, [
      { podUid: "uid-a", workerId: 1 },
      { podUid: "uid-b", workerId: 2 },
    ]);
    expect(report.idsChecked).toBe(2_500_050);
    expect(report.distinctIds).toBe(2_500_050);
    expect(report.duplicates).toBe(0);
    expect(report.unleasedBatches).toEqual([]);
    expect(report.holderOverlaps).toEqual([]);
    expect(report.workerIdsSeen).toEqual([1, 2]);
  });

  it("flags an injected duplicate among millions and decodes it", () => {
    const c = new IdCollector(math);
    for (let i = 0; i < 150; i++) c.addBatch("uid-a", "f-0", batch(7, 5000 + i * 10, 10, 1000), i);
    const injected = encodeId(math, 5123, 7, 42);
    c.addBatch("uid-a", "f-0", [injected], 999);
    const report = auditRun(math, c, [{ podUid: "uid-a", workerId: 7 }]);
    expect(report.duplicates).toBe(1);
    expect(report.duplicateExamples).toEqual([
      { id: injected.toString(), timestamp: 5123, workerId: 7, sequence: 42, times: 2 },
    ]);
  });

  it("counts every extra copy", () => {
    const sorted = new BigUint64Array([1n, 2n, 2n, 2n, 3n, 9n, 9n]);
    const d = findDuplicates(math, sorted);
    expect(d.duplicates).toBe(3);
    expect(d.distinctIds).toBe(4);
    expect(d.duplicateExamples.map((e) => [e.id, e.times])).toEqual([
      ["2", 3],
      ["9", 2],
    ]);
  });

  it("flags two pod instances whose ticks on one worker id interleave, even without a duplicate", () => {
    const c = new IdCollector(math);
    c.addBatch("uid-old", "f-0", batch(3, 100, 50, 1), 0); // ticks 100..149, sequence 0
    c.addBatch("uid-new", "f-0", batch(3, 149, 10, 2).slice(1), 1); // starts in tick 149 at sequence 1
    const report = auditRun(math, c, [
      { podUid: "uid-old", workerId: 3 },
      { podUid: "uid-new", workerId: 3 },
    ]);
    expect(report.duplicates).toBe(0);
    expect(report.holderOverlaps).toEqual([
      {
        workerId: 3,
        earlier: { podName: "f-0", podUid: "uid-old", maxTick: 149 },
        later: { podName: "f-0", podUid: "uid-new", minTick: 149 },
      },
    ]);
  });

  it("accepts successive holders of one worker id with disjoint ticks", () => {
    const c = new IdCollector(math);
    c.addBatch("uid-old", "f-0", batch(3, 100, 50, 1), 0);
    c.addBatch("uid-new", "f-0", batch(3, 150, 10, 1), 1);
    c.addBatch(
      "uid-old",
      "f-0",
      batch(3, 120, 5, 1).map((id) => id + 1n),
      0,
    ); // same holder, other sequences
    expect(
      auditRun(math, c, [
        { podUid: "uid-old", workerId: 3 },
        { podUid: "uid-new", workerId: 3 },
      ]).holderOverlaps,
    ).toEqual([]);
  });

  it("checks IDs pulled through the Service for duplicates, though no pod is named for them", () => {
    const c = new IdCollector(math);
    const ids = batch(6, 300, 3, 4);
    c.addBatch("uid-a", "f-0", ids, 0);
    c.addUnattributed(ids.slice(5, 7)); // the same pod answered through the Service
    c.addUnattributed(batch(6, 400, 1, 2));
    const report = auditRun(math, c, [{ podUid: "uid-a", workerId: 6 }]);
    expect(report.idsChecked).toBe(16);
    expect(report.duplicates).toBe(2);
    expect(report.unleasedBatches).toEqual([]);
    expect(report.podInstancesSeen).toBe(1);
  });

  it("flags IDs carrying a worker id no lease named for that pod", () => {
    const c = new IdCollector(math);
    c.addBatch("uid-a", "f-0", batch(4, 10, 1, 5), 0);
    const report = auditRun(math, c, [{ podUid: "uid-a", workerId: 5 }]);
    expect(report.unleasedBatches).toHaveLength(1);
    expect(report.unleasedBatches[0]).toMatchObject({ podUid: "uid-a", workerId: 4, count: 5 });
  });

  it("finds IDs handed out that were never issued, and decodes them", () => {
    const issued = new BigUint64Array(batch(4, 100, 3, 5)).sort();
    const stray = encodeId(math, 101, 4, 7);
    const handed = new BigUint64Array([issued[0]!, issued[3]!, stray, issued[14]!]).sort();
    expect(findNotIssued(math, handed, issued)).toEqual({
      notIssued: 1,
      examples: [{ id: stray.toString(), timestamp: 101, workerId: 4, sequence: 7 }],
    });
    expect(findNotIssued(math, issued, issued).notIssued).toBe(0);
    expect(findNotIssued(math, new BigUint64Array([stray]), new BigUint64Array(0)).notIssued).toBe(1);
  });
});
