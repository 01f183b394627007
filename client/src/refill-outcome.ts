import { readBatchBody } from "./batch-body.ts";
import type { GetOutcome } from "./generator-transport.ts";

/** Why a request to an endpoint failed, and how long the endpoint asked to be left alone. */
export interface RefillProblem {
  /** e.g. "503 FENCED: ...", "timeout: no answer within 1000 ms", "unreachable: ECONNREFUSED". */
  reason: string;
  retryAfterMs?: number;
}

/** What a /v1/ids answer means for the client. */
export type RefillOutcome =
  /** IDs to buffer: runs as [prefix, low, count] triples (see IdRuns). */
  | { kind: "batch"; runs: number[]; ids: number }
  /** The fleet serves smaller batches than asked for (IDGEN_MAX_BATCH): ask for this many, not elsewhere. */
  | { kind: "smaller-batches"; maxBatch: number }
  | { kind: "failed"; problem: RefillProblem };

/** A failed GET as a problem (anything but a 200). */
export function problemOf(outcome: Exclude<GetOutcome, { kind: "ok" }>): RefillProblem {
  if (outcome.kind !== "status") return { reason: `${outcome.kind}: ${outcome.message}` };
  const reason = `${outcome.status} ${outcome.code}: ${outcome.message}`;
  return outcome.retryAfterMs === undefined ? { reason } : { reason, retryAfterMs: outcome.retryAfterMs };
}

/**
 * Reads the answer to `GET /v1/ids?count=<asked>`. A 400 saying "at most N" with N below
 * what was asked is the fleet's batch limit, not a broken endpoint. A body that is not
 * exactly `asked` strictly increasing IDs is a failure (nothing of it is buffered).
 */
export function readRefill(outcome: GetOutcome, asked: number): RefillOutcome {
  if (outcome.kind !== "ok") {
    const limit =
      outcome.kind === "status" && outcome.status === 400 ? /at most (\d+)/.exec(outcome.message) : null;
    if (limit && Number(limit[1]) >= 1 && Number(limit[1]) < asked) {
      return { kind: "smaller-batches", maxBatch: Number(limit[1]) };
    }
    return { kind: "failed", problem: problemOf(outcome) };
  }
  const runs: number[] = [];
  let ids: number;
  try {
    ids = readBatchBody(outcome.body, (prefix, low, count) => runs.push(prefix, low, count));
  } catch (error) {
    return { kind: "failed", problem: { reason: (error as Error).message } };
  }
  if (ids !== asked) return { kind: "failed", problem: { reason: `asked for ${asked} IDs, got ${ids}` } };
  return { kind: "batch", runs, ids };
}
