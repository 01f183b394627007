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

  it("reads a body with one byte changed exactly as its array says, or refuses it", () => {
    // Runs of consecutive IDs (the fast path) across a carry, with a jump between them.
    const ids = [
      ...Array.from({ length: 30 }, (_, k) => 387190794185869985n + BigInt(k)),
      ...Array.from({ length: 30 }, (_, k) => 387190794190000000n + BigInt(k)),
    ];
    const text = JSON.stringify({ ids: ids.map(String) });
    const bytes = fc.constantFrom(...'0123456789", ]a'.split("").map((c) => c.charCodeAt(0)));
    fc.assert(
      fc.property(fc.nat(text.length - 1), bytes, (at, byte) => {
        const changed = new TextEncoder().encode(text);
        changed[at] = byte;
        let got: bigint[] | undefined;
        try {
          got = read(changed);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedBatchError);
        }
        const mutated = new TextDecoder().decode(changed);
        let array: unknown;
        try {
          const open = mutated.indexOf("[");
          array = JSON.parse(mutated.slice(open, mutated.indexOf("]", open) + 1));
        } catch {
          array = undefined;
        }
        const valid =
          Array.isArray(array) &&
          array.every((id) => typeof id === "string" && /^\d{1,19}$/.test(id) && BigInt(id) <= MAX_ID) &&
          array.every((id, k) => k === 0 || BigInt(id as string) > BigInt(array[k - 1] as string));
        if (got === undefined) expect(valid).toBe(false);
        else expect(got).toEqual((array as string[]).map(BigInt));
      }),
      { numRuns: 3000 },
    );
  });
});
