import { performance } from "node:perf_hooks";
import {
  RefusalCode,
  type IssuedRange,
  type Issuer,
  type Refusal,
  type WaitDecision,
  type WaitReason,
} from "../issuing/issuer.ts";

/** Why a request gets no IDs: the issuer's refusal codes, or another guard's (e.g. the clock's). */
export interface NotIssued {
  code: string;
  message: string;
  retryAfterMs: number;
}

export type IssueOutcome = { ok: true } | { ok: false; refusal: NotIssued };

/** Receives each issued range, in order (an encoder: a decimal string, a JSON body). */
export type RangeSink = (range: IssuedRange) => void;

/** How a call waits when the issuer asks it to. */
export interface IssueWaiting {
  /** Total time one call may spend waiting; a wait that would end later is refused (BUSY) at once. */
  budgetMs: number;
  /**
   * Resolves once Date.now() >= wallMs, or about that long later on the monotonic clock
   * if the wall clock stepped back (WallClockWaiter.until). Should let other requests'
   * I/O run meanwhile.
   */
  until: (wallMs: number) => Promise<void>;
  onWait?: (reason: WaitReason, seconds: number) => void;
}

/**
 * Issues `count` IDs into `sink`, waiting whenever the issuer asks, e.g. for the next
 * tick once a tick's sequence is used up. Synchronous when no wait is needed (the common
 * case). Every ID comes from the issuer, so its fence, ceiling and sequence rules hold
 * whatever other requests issue while this one waits.
 */
export function issueIds(
  issuer: Issuer,
  count: number,
  sink: RangeSink,
  waiting: IssueWaiting,
): IssueOutcome | Promise<IssueOutcome> {
  const progress = { issued: 0 };
  const blocked = issueUntilBlocked(issuer, count, sink, progress);
  if (!blocked) return { ok: true };
  if (blocked.kind === "refused") return { ok: false, refusal: blocked };
  return finishWithWaits(issuer, count, sink, progress, waiting, blocked);
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
  waiting: IssueWaiting,
  firstWait: WaitDecision,
): Promise<IssueOutcome> {
  const startMono = performance.now();
  let wait = firstWait;
  for (;;) {
    const waitStart = performance.now();
    // Time spent is measured on the monotonic clock, so a wall clock stepping back cannot stretch it.
    if (waitStart - startMono + (wait.untilWallMs - Date.now()) > waiting.budgetMs) {
      return {
        ok: false,
        refusal: {
          code: RefusalCode.Busy,
          message: `could not issue ${count} IDs within ${waiting.budgetMs} ms; ask for fewer or retry`,
          retryAfterMs: 1000,
        },
      };
    }
    await waiting.until(wait.untilWallMs);
    waiting.onWait?.(wait.reason, (performance.now() - waitStart) / 1000);
    const blocked = issueUntilBlocked(issuer, count, sink, progress);
    if (!blocked) return { ok: true };
    if (blocked.kind === "refused") return { ok: false, refusal: blocked };
    wait = blocked;
  }
}
