import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MalformedBatchError, readBatchBody } from "./batch-body.ts";
import { bigIntOf } from "./id-runs.ts";

const MAX_ID = (1n << 63n) - 1n;
const body = (ids: readonly (bigint | string)[]) =>
  new TextEncoder().encode(JSON.stringify({ ids: ids.map(String) }));

function read(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  readBatchBody(bytes, (prefix, low, count) => {
    const first = bigIntOf(prefix, low);
    for (let k = 0n; k < BigInt(count); k++) out.push(first + k);
  });
  return out;
}

describe("readBatchBody", () => {
  it("reads any strictly increasing batch back exactly, as runs of consecutive IDs", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_ID - 100_000n }),
        fc.array(fc.bigInt({ min: 1n, max: 20_000n }), { minLength: 1, maxLength: 200 }),
        (start, steps) => {
          const ids: bigint[] = [];
          let id = start;
          for (const step of steps) {
            // Steps of 1 make runs; a run crossing a multiple of 10^4 carries into the prefix.
            id += step % 3n === 0n ? step : 1n;
            if (id > MAX_ID) break;
            ids.push(id);
          }
          expect(read(body(ids))).toEqual(ids);
        },
      ),
    );
  });

  it("makes one run of a consecutive batch, across a carry into the next 10^4", () => {
    const runs: number[][] = [];
    const ids = Array.from({ length: 20 }, (_, k) => 387190794185869990n + BigInt(k));
    readBatchBody(body(ids), (prefix, low, count) => runs.push([prefix, low, count]));
    expect(runs).toEqual([[38719079418586, 9990, 20]]);
  });

  it("reads the largest ID and zero", () => {
    expect(read(body([0n, 1n, MAX_ID]))).toEqual([0n, 1n, MAX_ID]);
  });

  it.each([
    ["not JSON with an array", "{}"],
    ["a number instead of a string", '{"ids":[123]}'],
    ["20 digits", `{"ids":["${"1".repeat(20)}"]}`],
    ["an ID above 2^63 - 1", `{"ids":["${MAX_ID + 1n}"]}`],
    ["a repeated ID", '{"ids":["5","5"]}'],
    ["decreasing IDs", '{"ids":["6","5"]}'],
    ["a truncated body", '{"ids":["5","6'],
  ])("refuses %s", (_what, text) => {
    expect(() => read(new TextEncoder().encode(text))).toThrow(MalformedBatchError);
  });

  it("reads an empty batch as nothing", () => {
    expect(read(body([]))).toEqual([]);
  });
});
