/**
 * Large Buffers for reuse, in power-of-two size classes. Batch bodies are large (220 KB
 * for 10,000 IDs) and short-lived: allocating each afresh costs page faults and, worse,
 * V8 counts them as external memory and runs a full mark-compact every few dozen
 * batches, pausing the process for milliseconds (whole ticks of a 1 ms layout go
 * unissued). A Buffer comes back with give() once nothing reads it any more (its
 * response was handed to the kernel); one that never comes back (a client gone
 * mid-response) is simply collected.
 */
export class BufferPool {
  private readonly minBytes: number;
  private readonly maxFreeBytes: number;
  private readonly free = new Map<number, Buffer[]>();
  private freeBytesNow = 0;

  /**
   * Requests below `minBytes` get a plain new Buffer (small ones are cheap); larger ones
   * are rounded up to a power of two and reused. At most `maxFreeBytes` wait for reuse.
   */
  constructor(options: { minBytes: number; maxFreeBytes: number }) {
    this.minBytes = options.minBytes;
    this.maxFreeBytes = options.maxFreeBytes;
  }

  /** An uninitialized Buffer of at least `bytes`: a returned one of its size class if any. */
  take(bytes: number): Buffer {
    if (bytes < this.minBytes) return Buffer.allocUnsafe(bytes);
    const size = 2 ** Math.ceil(Math.log2(bytes));
    const reused = this.free.get(size)?.pop();
    if (!reused) return Buffer.allocUnsafeSlow(size);
    this.freeBytesNow -= size;
    return reused;
  }

  /** Returns a Buffer from take() (not a slice of it); the caller must not touch it afterwards. */
  give(buffer: Buffer): void {
    const size = buffer.length;
    const pooled =
      size >= this.minBytes &&
      Number.isInteger(Math.log2(size)) &&
      buffer.byteOffset === 0 &&
      buffer.buffer.byteLength === size;
    if (!pooled || this.freeBytesNow + size > this.maxFreeBytes) return;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.freeBytesNow += size;
  }

  /** Bytes waiting for reuse. */
  get freeBytes(): number {
    return this.freeBytesNow;
  }
}
