import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  RefusalCode,
  type IssuedRange,
  type Issuer,
  type Refusal,
  type WaitDecision,
  type WaitReason,
} from "../issuing/issuer.ts";

/** Waits shorter than this are spun (blocking the event loop at most this long); longer ones sleep. */
export const SPIN_BELOW_MS = 2;

/** Why a request gets no IDs: the issuer's refusal codes, or another guard's (e.g. the clock's). */
export interface NotIssued {
  code: string;
  message: string;
  retryAfterMs: number;
}

export type IssueOutcome = { ok: true } | { ok: false; refusal: NotIssued };

/** Receives each issued range, in order (an encoder: a decimal string, a JSON body). */
export type RangeSink = (range: IssuedRange) => void;

export interface IssueHooks {
  onWait?: (reason: WaitReason, seconds: number) => void;
}

/**
 * Issues `count` IDs into `sink`, doing the waiting the issuer asks for: a spin for
 * sub-tick waits, a sleep for longer ones. Synchronous when no wait is needed (the
 * common case). Total waiting is capped at `budgetMs`.
 */
export function issueIds(
  issuer: Issuer,
  count: number,
  sink: RangeSink,
  budgetMs: number,
  hooks: IssueHooks = {},
): IssueOutcome | Promise<IssueOutcome> {
  const progress = { issued: 0 };
  const blocked = issueUntilBlocked(issuer, count, sink, progress);
  if (!blocked) return { ok: true };
  if (blocked.kind === "refused") return { ok: false, refusal: blocked };
  return finishWithWaits(issuer, count, sink, progress, budgetMs, hooks, blocked);
}

/** Issues until `count` IDs went to the sink (null), or returns why the issuer stopped. */
function issueUntilBlocked(
  issuer: Issuer,
  count: number,
  sink: RangeSink,
  progress: { issued: number },
): WaitDecision | Refusal | null {
  for (;;) {
    const decision = issuer.next(count - progress.issued, Date.now(), performance.now());
    if (decision.kind !== "issued") return decision;
    sink(decision);
    progress.issued += decision.count;
    if (progress.issued === count) return null;
  }
}

async function finishWithWaits(
  issuer: Issuer,
  count: number,
  sink: RangeSink,
  progress: { issued: number },
  budgetMs: number,
  hooks: IssueHooks,
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
    const blocked = issueUntilBlocked(issuer, count, sink, progress);
    if (!blocked) return { ok: true };
    if (blocked.kind === "refused") return { ok: false, refusal: blocked };
    wait = blocked;
  }
}
