import { tickAt, type LayoutMath } from "../../../contract/id-layout-math.ts";
import type { IssueFence } from "./issue-fence.ts";
import type { Issuer } from "./issuer.ts";

/**
 * The fence of a standalone generator (fixed worker id, no lease): nothing below it, a
 * ceiling `aheadMs` past the wall clock, and no expiry. Standalone mode is for local
 * development and benchmarks: nothing stops two processes started with the same
 * IDGEN_WORKER_ID from issuing the same IDs.
 */
export function standaloneFence(math: LayoutMath, wallMs: number, aheadMs: number): IssueFence {
  return { floorTick: -1, ceilingTick: tickAt(math, wallMs + aheadMs), validUntilMonoMs: Infinity };
}

/** How far ahead the standalone fence reaches, and how often it is pushed forward. */
export const STANDALONE_AHEAD_MS = 60_000;
export const STANDALONE_ADVANCE_EVERY_MS = 1_000;

/**
 * Keeps a standalone issuer's ceiling ahead of the wall clock. Returns a stop function.
 * The ceiling only ever rises, so a wall clock stepping back never lowers it.
 */
export function startStandaloneFence(issuer: Issuer, wallNow: () => number = Date.now): () => void {
  const advance = () => {
    const next = standaloneFence(issuer.math, wallNow(), STANDALONE_AHEAD_MS);
    const current = issuer.getFence();
    if (!current || next.ceilingTick > current.ceilingTick) issuer.setFence(next);
  };
  advance();
  const timer = setInterval(advance, STANDALONE_ADVANCE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
