/** IDs are held as prefix * LOW_MOD + low: both halves are exact JS numbers for every 63-bit ID. */
export const LOW_MOD = 10_000;
const LOW_MOD_BIG = BigInt(LOW_MOD);
const PADDED_LOW: readonly string[] = Array.from({ length: LOW_MOD }, (_, i) => String(i).padStart(4, "0"));

/** The decimal string of prefix * 10^4 + low. */
export function decimalOf(prefix: number, low: number): string {
  return prefix === 0 ? String(low) : String(prefix) + PADDED_LOW[low];
}

/** The ID prefix * 10^4 + low as a bigint. */
export function bigIntOf(prefix: number, low: number): bigint {
  return BigInt(prefix) * LOW_MOD_BIG + BigInt(low);
}

/**
 * The client's buffer: a ring of runs of consecutive IDs (a /v1/ids batch is a few runs,
 * one per tick), 24 bytes a run instead of a string an ID. Strings are made only when an
 * ID is handed out, from a cached decimal head plus a 4-digit table entry. Each run keeps
 * the time its batch was requested, so stale IDs can be dropped.
 *
 * Every ID pushed is handed out (take*) or dropped (drop*, clear) at most once: a run
 * leaves the ring when the cursor enters it, and the cursor only moves forward.
 */
export class IdRuns {
  private prefixes: Float64Array;
  private lows: Int32Array;
  private counts: Int32Array;
  private fetchedAts: Float64Array;
  /** Ring index of the first run not yet entered, and how many such runs are stored. */
  private head = 0;
  private runs = 0;
  // The cursor: the next ID is curPrefix * 10^4 + curLow; curLeft IDs are left in its run.
  private curPrefix = 0;
  private curLow = 0;
  private curLeft = 0;
  private curHead = "";
  private curFetchedAt = Infinity;
  /** IDs buffered (the cursor's run and the ring). Read on the hot path, so a plain field. */
  level = 0;
  /** Earliest fetch time among buffered IDs (Infinity when empty). */
  private oldest = Infinity;

  constructor(initialRuns = 64) {
    this.prefixes = new Float64Array(initialRuns);
    this.lows = new Int32Array(initialRuns);
    this.counts = new Int32Array(initialRuns);
    this.fetchedAts = new Float64Array(initialRuns);
  }

  /** Earliest fetch time of a buffered ID, or Infinity when none is buffered. */
  oldestFetchedAt(): number {
    return this.oldest;
  }

  /** Appends `count` consecutive IDs starting at prefix * 10^4 + low, requested at `fetchedAt`. */
  push(prefix: number, low: number, count: number, fetchedAt: number): void {
    if (count <= 0) return;
    this.level += count;
    if (fetchedAt < this.oldest) this.oldest = fetchedAt;
    if (this.curLeft === 0 && this.runs === 0) {
      this.enter(prefix, low, count, fetchedAt);
      return;
    }
    if (this.runs === this.prefixes.length) this.grow();
    const at = (this.head + this.runs) % this.prefixes.length;
    this.prefixes[at] = prefix;
    this.lows[at] = low;
    this.counts[at] = count;
    this.fetchedAts[at] = fetchedAt;
    this.runs++;
  }

  /** The next ID as a decimal string; the caller checks level > 0 first. */
  takeString(): string {
    const s = this.curPrefix === 0 ? String(this.curLow) : this.curHead + PADDED_LOW[this.curLow];
    this.step();
    return s;
  }

  /** The next ID as a bigint; the caller checks level > 0 first. */
  takeBigInt(): bigint {
    const id = bigIntOf(this.curPrefix, this.curLow);
    this.step();
    return id;
  }

  /** Drops every buffered ID requested at or before `limit`; returns how many. */
  dropFetchedUpTo(limit: number): number {
    if (this.oldest > limit) return 0;
    let dropped = 0;
    if (this.curFetchedAt <= limit) {
      dropped += this.curLeft;
      this.curLeft = 0;
    }
    const size = this.prefixes.length;
    for (let k = 0; k < this.runs; k++) {
      const at = (this.head + k) % size;
      if ((this.fetchedAts[at] as number) <= limit) {
        dropped += this.counts[at] as number;
        this.counts[at] = 0;
      }
    }
    this.level -= dropped;
    if (this.curLeft === 0) this.advance();
    this.recomputeOldest();
    return dropped;
  }

  /** Drops everything (close); returns how many. */
  clear(): number {
    const dropped = this.level;
    this.head = 0;
    this.runs = 0;
    this.curLeft = 0;
    this.curFetchedAt = Infinity;
    this.level = 0;
    this.oldest = Infinity;
    return dropped;
  }

  private step(): void {
    this.level--;
    if (--this.curLeft === 0) {
      const finished = this.curFetchedAt;
      this.advance();
      if (finished === this.oldest) this.recomputeOldest();
      return;
    }
    if (++this.curLow === LOW_MOD) {
      this.curLow = 0;
      this.curHead = String(++this.curPrefix);
    }
  }

  /** Enters the next run that still has IDs (the cursor's run is used up or dropped). */
  private advance(): void {
    const size = this.prefixes.length;
    while (this.curLeft === 0 && this.runs > 0) {
      const at = this.head;
      this.head = (this.head + 1) % size;
      this.runs--;
      const count = this.counts[at] as number;
      if (count > 0) {
        this.enter(
          this.prefixes[at] as number,
          this.lows[at] as number,
          count,
          this.fetchedAts[at] as number,
        );
      }
    }
    if (this.curLeft === 0) this.curFetchedAt = Infinity;
  }

  private enter(prefix: number, low: number, count: number, fetchedAt: number): void {
    this.curPrefix = prefix;
    this.curLow = low;
    this.curLeft = count;
    this.curHead = String(prefix);
    this.curFetchedAt = fetchedAt;
  }

  private recomputeOldest(): void {
    let oldest = this.curLeft > 0 ? this.curFetchedAt : Infinity;
    const size = this.prefixes.length;
    for (let k = 0; k < this.runs; k++) {
      const at = (this.head + k) % size;
      const fetchedAt = this.fetchedAts[at] as number;
      if ((this.counts[at] as number) > 0 && fetchedAt < oldest) oldest = fetchedAt;
    }
    this.oldest = oldest;
  }

  private grow(): void {
    const size = this.prefixes.length;
    const grown = size * 2;
    const copy = <T extends Float64Array | Int32Array>(from: T, to: T): T => {
      for (let k = 0; k < this.runs; k++) to[k] = from[(this.head + k) % size] as number;
      return to;
    };
    this.prefixes = copy(this.prefixes, new Float64Array(grown));
    this.lows = copy(this.lows, new Int32Array(grown));
    this.counts = copy(this.counts, new Int32Array(grown));
    this.fetchedAts = copy(this.fetchedAts, new Float64Array(grown));
    this.head = 0;
  }
}
