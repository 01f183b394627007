/**
 * Reads a Retry-After header (delay in seconds, or an HTTP date) as milliseconds from
 * `now`; undefined when absent or unreadable. Capped at `maxMs`, so a generator that
 * says "an hour" is still probed again within that bound.
 */
export function retryAfterMs(
  header: string | null | undefined,
  now: number,
  maxMs: number,
): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (!Number.isFinite(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), maxMs);
}
