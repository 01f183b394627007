import type { LayoutMath } from "../../../contract/id-layout.ts";
import { LOW_MOD, splitId } from "./decimal-id-encoder.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
/** The four-digit, zero-padded forms of 0..9999 as ASCII bytes, 4 per entry. */
const LOW_DIGITS = (() => {
  const table = new Uint8Array(LOW_MOD * 4);
  for (let i = 0; i < LOW_MOD; i++) table.set(Buffer.from(String(i).padStart(4, "0"), "latin1"), i * 4);
  return table;
})();
const OPEN = Buffer.from('{"ids":[', "latin1");
const CLOSE = Buffer.from("]}", "latin1");
/** Quotes, comma and at most 19 digits. */
const MAX_BYTES_PER_ID = 22;

/**
 * Writes a /v1/ids response body, `{"ids":["<id>",...]}`, straight into a Buffer. IDs in
 * a range are consecutive, so, as in decimal-id-encoder.ts, each is prefix * 10^4 + low
 * with both parts exact JS numbers: the prefix's digits are written once per 10^4 IDs
 * and each ID copies them plus four digits from a table. No string per ID, one BigInt
 * per range. Equal, byte for byte, to JSON.stringify({ ids }) of the decimal strings.
 */
export class IdBatchJsonWriter {
  private readonly buf: Buffer;
  private pos: number;
  private readonly prefixDigits = Buffer.alloc(16);
  private ids = 0;

  constructor(maxIds: number) {
    this.buf = Buffer.allocUnsafe(OPEN.length + CLOSE.length + maxIds * MAX_BYTES_PER_ID);
    this.pos = OPEN.copy(this.buf, 0);
  }

  /** Appends (tick, workerId, firstSequence + i) for i < count. */
  appendRange(math: LayoutMath, tick: number, workerId: number, firstSequence: number, count: number): void {
    let { prefix, low } = splitId(math, tick, workerId, firstSequence);
    const buf = this.buf;
    const digits = this.prefixDigits;
    let prefixLength = this.setPrefix(prefix);
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      buf[pos++] = QUOTE;
      if (prefixLength === 0) {
        // IDs below 10^4 have no prefix and no leading zeros.
        pos += buf.write(String(low), pos, "latin1");
      } else {
        for (let j = 0; j < prefixLength; j++) buf[pos++] = digits[j] as number;
        const at = low * 4;
        buf[pos++] = LOW_DIGITS[at] as number;
        buf[pos++] = LOW_DIGITS[at + 1] as number;
        buf[pos++] = LOW_DIGITS[at + 2] as number;
        buf[pos++] = LOW_DIGITS[at + 3] as number;
      }
      buf[pos++] = QUOTE;
      buf[pos++] = COMMA;
      if (++low === LOW_MOD) {
        low = 0;
        prefixLength = this.setPrefix(++prefix);
      }
    }
    this.pos = pos;
    this.ids += count;
  }

  /** The finished body. The writer must not be used afterwards. */
  finish(): Buffer {
    // Overwrite the trailing comma (if any ID was written) with the closing bracket.
    const end = this.ids > 0 ? this.pos - 1 : this.pos;
    return this.buf.subarray(0, end + CLOSE.copy(this.buf, end));
  }

  /** Stores the prefix's ASCII digits; returns how many (0 for no prefix). */
  private setPrefix(prefix: number): number {
    if (prefix === 0) return 0;
    return this.prefixDigits.write(String(prefix), 0, "latin1");
  }
}
