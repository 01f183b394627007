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

/** Whether body[a, a + n) and body[b, b + n) hold the same bytes (four at a time). */
function sameBytes(view: DataView, a: number, b: number, n: number): boolean {
  let k = 0;
  for (; k + 4 <= n; k += 4) if (view.getUint32(a + k, true) !== view.getUint32(b + k, true)) return false;
  for (; k < n; k++) if (view.getUint8(a + k) !== view.getUint8(b + k)) return false;
  return true;
}

/** The four decimal digits at body[at, at + 4) as a number, or -1 if one is not a digit. */
function fourDigits(body: Uint8Array, at: number): number {
  const a = (body[at] as number) - ZERO;
  const b = (body[at + 1] as number) - ZERO;
  const c = (body[at + 2] as number) - ZERO;
  const d = (body[at + 3] as number) - ZERO;
  // A byte below "0" wraps to a large unsigned value: one comparison per digit.
  if (a >>> 0 > 9 || b >>> 0 > 9 || c >>> 0 > 9 || d >>> 0 > 9) return -1;
  return a * 1000 + b * 100 + c * 10 + d;
}

/**
 * Reads `{"ids":["…",…]}` (the generator's /v1/ids body) straight from its bytes into runs
 * of consecutive IDs, without JSON.parse or a BigInt per ID. The generator promises
 * strictly increasing IDs in one batch; anything else is refused, so the buffer never
 * holds an ID twice because of a garbled body. Returns how many IDs it read.
 *
 * Most IDs are the last one plus one with the same head: those are checked by comparing
 * their head bytes with the last ID's and reading only the four low digits (a 10,000-ID
 * body in well under a millisecond, so a refill landing does not hold up the application).
 */
export function readBatchBody(body: Uint8Array, onRun: RunSink): number {
  const fail = (what: string, at: number): never => {
    throw new MalformedBatchError(`unexpected /v1/ids body: ${what} at byte ${at}`);
  };
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const end = body.length;
  let i = body.indexOf(OPEN);
  if (i < 0) fail('no "ids" array', 0);
  i++;
  let total = 0;
  let runPrefix = -1;
  let runLow = 0;
  let runCount = 0;
  let lastPrefix = -1;
  let lastLow = 0;
  // Where the last ID's digits start and how many there are (0: none read yet).
  let lastStart = 0;
  let lastDigits = 0;
  for (;;) {
    while (i < end && isSpace(body[i] as number)) i++;
    if (body[i] === CLOSE && total === 0) break;
    if (body[i] !== QUOTE) fail("expected a quoted ID", i);
    const start = ++i;
    const head = lastDigits - 4;
    if (
      head > 0 &&
      lastLow < LOW_MOD - 1 &&
      lastPrefix < MAX_PREFIX &&
      start + lastDigits < end &&
      body[start + lastDigits] === QUOTE &&
      fourDigits(body, start + head) === lastLow + 1 &&
      sameBytes(view, lastStart, start, head)
    ) {
      // The last ID plus one, written with as many digits: it extends the run.
      lastLow++;
      runCount++;
      lastStart = start;
      i = start + lastDigits;
    } else {
      while (i < end && (body[i] as number) >= ZERO && (body[i] as number) <= NINE) i++;
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
      lastStart = start;
      lastDigits = digits;
    }
    total++;
    i++;
    while (i < end && isSpace(body[i] as number)) i++;
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
