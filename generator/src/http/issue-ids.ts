import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { appendDecimalIds } from "../encoding/decimal-id-encoder.ts";
import {
  RefusalCode,
  type Issuer,
  type Refusal,
  type WaitDecision,
  type WaitReason,
} from "../issuing/issuer.ts";

/** Waits shorter than this are spun (blocking the event loop at most this long); longer ones sleep. */
export const SPIN_BELOW_MS = 2;

export type IssueOutcome = { ok: true; ids: string[] } | { ok: false; refusal: Refusal };

export interface IssueHooks {
  onWait?: (reason: WaitReason, seconds: number) => void;
}

/**
 * Issues `count` IDs as decimal strings, doing the waiting the issuer asks for: a spin
 * for sub-tick waits, a sleep for longer ones. Synchronous when no wait is needed (the
 * common case), so /v1/id costs no promise. Total waiting is capped at `budgetMs`.
 */
export function issueDecimalIds(
  issuer: Issuer,
  count: number,
  budgetMs: number,
  hooks: IssueHooks = {},
): IssueOutcome | Promise<IssueOutcome> {
  const ids: string[] = [];
  const blocked = issueUntilBlocked(issuer, count, ids);
  if (!blocked) return { ok: true, ids };
  if (blocked.kind === "refused") return { ok: false, refusal: blocked };
  return finishWithWaits(issuer, count, budgetMs, hooks, ids, blocked);
}

/** Issues into `ids` until it holds `count` (null) or the issuer says wait or no. */
function issueUntilBlocked(issuer: Issuer, count: number, ids: string[]): WaitDecision | Refusal | null {
  for (;;) {
    const decision = issuer.next(count - ids.length, Date.now(), performance.now());
    if (decision.kind !== "issued") return decision;
    appendDecimalIds(
      issuer.math,
      decision.tick,
      decision.workerId,
      decision.firstSequence,
      decision.count,
      ids,
    );
    if (ids.length === count) return null;
  }
}

async function finishWithWaits(
  issuer: Issuer,
  count: number,
  budgetMs: number,
  hooks: IssueHooks,
  ids: string[],
  firstWait: WaitDecision,
): Promise<IssueOutcome> {
  const startMono = performance.now();
  let wait = firstWait;
  for (;;) {
    const waitStart = performance.now();
    if (waitStart - startMono > budgetMs) {
      return {
        ok: false,
        refusal: {
          kind: "refused",
          code: RefusalCode.Busy,
          message: `could not issue ${count} IDs within ${budgetMs} ms; ask for fewer or retry`,
          retryAfterMs: 1000,
        },
      };
    }
    const waitMs = wait.untilWallMs - Date.now();
    if (waitMs >= SPIN_BELOW_MS) await sleep(Math.min(waitMs - 1, budgetMs));
    // Spin the last stretch: a timer cannot hit a sub-millisecond tick boundary. Bounded
    // on the monotonic clock, so a wall clock stepping back cannot hold the loop.
    const spinUntilMono = performance.now() + SPIN_BELOW_MS;
    while (Date.now() < wait.untilWallMs && performance.now() < spinUntilMono);
    hooks.onWait?.(wait.reason, (performance.now() - waitStart) / 1000);
    const blocked = issueUntilBlocked(issuer, count, ids);
    if (!blocked) return { ok: true, ids };
    if (blocked.kind === "refused") return { ok: false, refusal: blocked };
    wait = blocked;
  }
}
