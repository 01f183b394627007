import { LOW_MOD } from "./id-runs.ts";

/** A /v1/ids body the client cannot use: not the documented shape, or IDs not strictly increasing. */
export class MalformedBatchError extends Error {
  override readonly name = "MalformedBatchError";
}

/** Receives runs of consecutive IDs: prefix * 10^4 + low, and the count - 1 IDs after it. */
export type RunSink = (prefix: number, low: number, count: number) => void;

// 2^63 - 1 = 922337203685477 * 10^4 + 5807.
const MAX_PREFIX = 922_337_203_685_477;
const MAX_LOW_AT_MAX_PREFIX = 5807;

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Reads `{"ids":["…",…]}` (the generator's /v1/ids body) straight from its bytes into runs
 * of consecutive IDs, without JSON.parse or a BigInt per ID. The generator promises
 * strictly increasing IDs in one batch; anything else is refused, so the buffer never
 * holds an ID twice because of a garbled body. Returns how many IDs it read.
 */
export function readBatchBody(body: Uint8Array, onRun: RunSink): number {
  const fail = (what: string, at: number): never => {
    throw new MalformedBatchError(`unexpected /v1/ids body: ${what} at byte ${at}`);
  };
  let i = body.indexOf(OPEN);
  if (i < 0) fail('no "ids" array', 0);
  i++;
  let total = 0;
  let runPrefix = -1;
  let runLow = 0;
  let runCount = 0;
  let lastPrefix = -1;
  let lastLow = 0;
  for (;;) {
    while (i < body.length && isSpace(body[i] as number)) i++;
    if (body[i] === CLOSE && total === 0) break;
    if (body[i] !== QUOTE) fail("expected a quoted ID", i);
    const start = ++i;
    while (i < body.length && (body[i] as number) >= ZERO && (body[i] as number) <= NINE) i++;
    const digits = i - start;
    if (body[i] !== QUOTE || digits === 0 || digits > 19) fail("expected 1 to 19 digits", start);
    const lowStart = Math.max(start, i - 4);
    let prefix = 0;
    for (let k = start; k < lowStart; k++) prefix = prefix * 10 + ((body[k] as number) - ZERO);
    let low = 0;
    for (let k = lowStart; k < i; k++) low = low * 10 + ((body[k] as number) - ZERO);
    if (prefix > MAX_PREFIX || (prefix === MAX_PREFIX && low > MAX_LOW_AT_MAX_PREFIX)) {
      fail("an ID above 2^63 - 1", start);
    }
    if (prefix < lastPrefix || (prefix === lastPrefix && low <= lastLow)) {
      fail("IDs not strictly increasing", start);
    }
    const follows =
      (prefix === lastPrefix && low === lastLow + 1) ||
      (prefix === lastPrefix + 1 && low === 0 && lastLow === LOW_MOD - 1);
    if (follows && runPrefix >= 0) {
      runCount++;
    } else {
      if (runCount > 0) onRun(runPrefix, runLow, runCount);
      runPrefix = prefix;
      runLow = low;
      runCount = 1;
    }
    lastPrefix = prefix;
    lastLow = low;
    total++;
    i++;
    while (i < body.length && isSpace(body[i] as number)) i++;
    if (body[i] === COMMA) {
      i++;
      continue;
    }
    if (body[i] === CLOSE) break;
    fail("expected , or ]", i);
  }
  if (runCount > 0) onRun(runPrefix, runLow, runCount);
  return total;
}
