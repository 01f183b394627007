import { describe, expect, it } from "vitest";
import { readRefill } from "./refill-outcome.ts";

const ok = (ids: string[]) => ({
  kind: "ok" as const,
  body: new TextEncoder().encode(JSON.stringify({ ids })),
});
const status = (code: number, message: string, retryAfterMs?: number) => ({
  kind: "status" as const,
  status: code,
  code: code === 400 ? "INVALID_PARAMETER" : "FENCED",
  message,
  retryAfterMs,
});

describe("readRefill", () => {
  it("reads a batch into runs", () => {
    expect(readRefill(ok(["100000", "100001", "100005"]), 3)).toEqual({
      kind: "batch",
      runs: [10, 0, 2, 10, 5, 1],
      ids: 3,
    });
  });

  it("learns the fleet's batch limit from its 400", () => {
    expect(readRefill(status(400, "count: must be at most 2000 (IDGEN_MAX_BATCH, ...)"), 10_000)).toEqual({
      kind: "smaller-batches",
      maxBatch: 2000,
    });
    expect(readRefill(status(400, "count: must be at most 2000"), 1000).kind).toBe("failed");
  });

  it("fails on refusals (keeping Retry-After), short batches and garbled bodies", () => {
    expect(readRefill(status(503, "lease not confirmed", 1000), 5)).toEqual({
      kind: "failed",
      problem: { reason: "503 FENCED: lease not confirmed", retryAfterMs: 1000 },
    });
    expect(readRefill(ok(["1", "2"]), 3)).toEqual({
      kind: "failed",
      problem: { reason: "asked for 3 IDs, got 2" },
    });
    expect(readRefill(ok(["2", "1"]), 2)).toMatchObject({
      kind: "failed",
      problem: { reason: /not strictly increasing/ },
    });
    expect(readRefill({ kind: "timeout", message: "no answer within 5 ms" }, 1)).toEqual({
      kind: "failed",
      problem: { reason: "timeout: no answer within 5 ms" },
    });
  });
});
