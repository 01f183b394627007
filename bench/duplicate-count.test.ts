import { describe, expect, it } from "vitest";
import { checkIdRun } from "./duplicate-count.ts";

describe("checkIdRun", () => {
  it("counts duplicates anywhere and order violations", () => {
    const ids = BigInt64Array.from([1n, 2n, 5n, 3n, 5n, 5n, 9n, 0n]);
    expect(checkIdRun(ids, ids.length)).toEqual({ count: 8, duplicates: 2, notIncreasing: 3 });
    expect(checkIdRun(ids, 3)).toEqual({ count: 3, duplicates: 0, notIncreasing: 0 });
  });
});
