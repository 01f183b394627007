import type { LayoutMath } from "../../../contract/id-layout-math.ts";
import { LOW_MOD, splitId } from "./decimal-id-encoder.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
/**
 * The four-digit, zero-padded forms of 0..9999, the ASCII bytes packed little-endian
 * so that one DataView store writes an ID's last four digits.
 */
const LOW_DIGIT_QUADS = (() => {
  const table = new Uint32Array(LOW_MOD);
  for (let i = 0; i < LOW_MOD; i++)
    table[i] = Buffer.from(String(i).padStart(4, "0"), "latin1").readUInt32LE();
  return table;
})();
const OPEN = Buffer.from('{"ids":[', "latin1");
const CLOSE = Buffer.from("]}", "latin1");
/** Quotes, comma and at most 19 digits. */
const MAX_BYTES_PER_ID = 22;

/** Bytes a body of up to `maxIds` IDs may take: the size of the buffer IdBatchJsonWriter needs. */
export function batchBodyCapacity(maxIds: number): number {
  return OPEN.length + CLOSE.length + maxIds * MAX_BYTES_PER_ID;
}

/**
 * Writes a /v1/ids response body, `{"ids":["<id>",...]}`, straight into a Buffer. IDs in
 * a range are consecutive, so, as in decimal-id-encoder.ts, each is prefix * 10^4 + low
 * with both parts exact JS numbers, and the up to 10^4 IDs sharing a prefix have entries
 * of one length that differ only in their last four digits: the first entry is written
 * once, copied natively (doubling) over the run, and each ID then costs one 4-byte
 * store. No string per ID, one BigInt per range. Equal, byte for byte, to
 * JSON.stringify({ ids }) of the decimal strings.
 */
export class IdBatchJsonWriter {
  private readonly buf: Buffer;
  private readonly view: DataView;
  private pos: number;
  private ids = 0;

  /**
   * `buffer`, if given, is written into instead of a new one (reuse): it must hold
   * batchBodyCapacity(maxIds) bytes and not be in use elsewhere until the body is sent.
   */
  constructor(maxIds: number, buffer?: Buffer) {
    const capacity = batchBodyCapacity(maxIds);
    if (buffer && buffer.length < capacity)
      throw new RangeError(
        `a body of ${maxIds} IDs needs ${capacity} bytes, the buffer has ${buffer.length}`,
      );
    this.buf = buffer ?? Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = OPEN.copy(this.buf, 0);
  }

  /** Appends (tick, workerId, firstSequence + i) for i < count. */
  appendRange(math: LayoutMath, tick: number, workerId: number, firstSequence: number, count: number): void {
    let { prefix, low } = splitId(math, tick, workerId, firstSequence);
    for (let left = count; left > 0;) {
      const run = Math.min(left, LOW_MOD - low);
      if (prefix === 0) this.writeUnprefixed(low, run);
      else this.writeRun(prefix, low, run);
      left -= run;
      prefix += 1;
      low = 0;
    }
    this.ids += count;
  }

  /** The finished body. The writer must not be used afterwards. */
  finish(): Buffer {
    // Overwrite the trailing comma (if any ID was written) with the closing bracket.
    const end = this.ids > 0 ? this.pos - 1 : this.pos;
    return this.buf.subarray(0, end + CLOSE.copy(this.buf, end));
  }

  /** Writes prefix * 10^4 + low + i for i < count; low + count <= 10^4. */
  private writeRun(prefix: number, low: number, count: number): void {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = QUOTE;
    pos += buf.write(String(prefix), pos, "latin1");
    const firstLowAt = pos;
    pos += 4;
    buf[pos++] = QUOTE;
    buf[pos++] = COMMA;
    const entryLength = pos - start;
    const total = entryLength * count;
    // Doubling: log2(count) native copies fill the run with the first entry.
    for (let filled = entryLength; filled < total; filled *= 2) {
      buf.copyWithin(start + filled, start, start + Math.min(filled, total - filled));
    }
    const view = this.view;
    for (let i = 0, at = firstLowAt; i < count; i++, at += entryLength) {
      view.setUint32(at, LOW_DIGIT_QUADS[low + i] as number, true);
    }
    this.pos = start + total;
  }

  /** IDs below 10^4 (no prefix) have no leading zeros: rare enough for a string each. */
  private writeUnprefixed(low: number, count: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      buf[pos++] = QUOTE;
      pos += buf.write(String(low + i), pos, "latin1");
      buf[pos++] = QUOTE;
      buf[pos++] = COMMA;
    }
    this.pos = pos;
  }
}
