import { setTimeout as sleep } from "node:timers/promises";

/** Bounds for a poll loop. */
export type WaitOptions = { timeoutMs: number; intervalMs?: number };

/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value. Errors
 * thrown by the probe count as "not yet"; on timeout the error names `description` and the last
 * value or error seen.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs, intervalMs = 2_000 }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = `last result: ${JSON.stringify(value)}`;
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${description} (${last ?? "no result"})`);
}
