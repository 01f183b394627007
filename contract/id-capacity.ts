import { tickStartMs, type LayoutMath } from "./id-layout-math.ts";

// How long a layout lasts and what its IDs grow into, for the fleet status, the alerts
// and the layout document.

/** Number.MAX_SAFE_INTEGER + 1: from here on a JavaScript number cannot hold every ID exactly. */
const SAFE_INTEGER_LIMIT_BITS = 53;

/**
 * The start of the first tick whose IDs exceed Number.MAX_SAFE_INTEGER (2^53 - 1), i.e. when
 * a client that parses IDs into JavaScript numbers starts losing digits. Every ID of that
 * tick is >= 2^53 and every earlier ID is below it. The epoch itself when worker id and
 * sequence bits together exceed 53 (high worker ids pass 2^53 from the start); null when
 * the date is past year 275760.
 */
export function idsPassSafeIntegerAt(math: LayoutMath): Date | null {
  const shift = math.layout.workerIdBits + math.layout.sequenceBits;
  const tick = shift > SAFE_INTEGER_LIMIT_BITS ? 0 : 2 ** (SAFE_INTEGER_LIMIT_BITS - shift);
  const ms = tickStartMs(math, tick);
  return Math.abs(ms) <= 8.64e15 ? new Date(ms) : null;
}
