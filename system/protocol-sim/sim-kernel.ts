/*
 * The deterministic core of the lease-protocol simulation: one real ("true") time line,
 * an event queue, a seeded random source, and processes with their own wall clock (offset,
 * steps) and monotonic clock (bounded rate drift) that can be paused (SIGSTOP) or killed.
 */

/** Small seeded PRNG (mulberry32): the same seed replays the same run. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

/** A binary-heap event queue on true time. */
export class Kernel {
  now = 0;
  private heap: Scheduled[] = [];
  private seq = 0;

  at(time: number, run: () => void): void {
    const item = { at: Math.max(time, this.now), seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Scheduled, h[parent] as Scheduled)) break;
      [h[i], h[parent]] = [h[parent] as Scheduled, h[i] as Scheduled];
      i = parent;
    }
  }

  after(delay: number, run: () => void): void {
    this.at(this.now + delay, run);
  }

  /**
   * Set by whoever resolves a promise inside an event (a simulated API answer or timer for
   * async code): the run loop then lets every continuation finish before time moves on.
   */
  settleAfterEvent = false;

  /** Runs events until `until` (true time). */
  async runUntil(until: number): Promise<void> {
    const h = this.heap;
    while (h.length > 0 && (h[0] as Scheduled).at <= until) {
      const top = h[0] as Scheduled;
      const last = h.pop() as Scheduled;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l] as Scheduled, h[m] as Scheduled)) m = l;
          if (r < h.length && before(h[r] as Scheduled, h[m] as Scheduled)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m] as Scheduled, h[i] as Scheduled];
          i = m;
        }
      }
      this.now = top.at;
      top.run();
      if (this.settleAfterEvent) {
        this.settleAfterEvent = false;
        // A macrotask boundary drains every chained microtask (await after await).
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    this.now = until;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A process: its callbacks run only while it is alive and not paused (a paused process
 * runs them, in order, when resumed, as a SIGCONT'd Node process would).
 */
export class SimProcess {
  alive = true;
  private pausedQueue: (() => void)[] | null = null;
  /** Wall clock = true time + offset (+ steps). */
  wallOffsetMs: number;
  private monoRate: number;
  /** Monotonic reading at `rateSince` (true time), from which the current rate applies. */
  private monoBase: number;
  private rateSince: number;
  readonly kernel: Kernel;
  readonly name: string;

  constructor(kernel: Kernel, name: string, wallOffsetMs: number, monoRate: number) {
    this.kernel = kernel;
    this.name = name;
    this.wallOffsetMs = wallOffsetMs;
    this.monoRate = monoRate;
    this.rateSince = kernel.now;
    this.monoBase = 1_000_000 * (1 + (name.length % 7));
  }

  wallMs(): number {
    return (
      this.kernel.now +
      this.wallOffsetMs +
      this.wallDriftMs +
      (this.kernel.now - this.wallRateSince) * (this.wallRate - 1)
    );
  }

  /** Wall-clock rate (1: true time) since `wallRateSince`, and what earlier rates added up to. */
  private wallRate = 1;
  private wallRateSince = 0;
  private wallDriftMs = 0;

  /** From now on the wall clock runs at `rate`, continuing from its current reading (steps still apply). */
  setWallRate(rate: number): void {
    this.wallDriftMs += (this.kernel.now - this.wallRateSince) * (this.wallRate - 1);
    this.wallRateSince = this.kernel.now;
    this.wallRate = rate;
  }

  monoMs(): number {
    const until = this.suspendedSince ?? this.kernel.now;
    return this.monoBase + (until - this.rateSince) * this.monoRate;
  }

  /** Since when (true time) the process is suspended: its monotonic clock stands still meanwhile. */
  private suspendedSince: number | null = null;

  /**
   * A VM suspend: the process stops like a paused one, but its monotonic clock stops too
   * (performance.now() does not count a suspend) while its wall clock goes on.
   */
  suspend(): void {
    if (!this.alive || this.suspendedSince !== null) return;
    this.suspendedSince = this.kernel.now;
    this.pause();
  }

  /** The VM resumes: the monotonic clock goes on from where it stopped. */
  wake(): void {
    if (this.suspendedSince === null) return;
    this.monoBase = this.monoMs();
    this.rateSince = this.kernel.now;
    this.suspendedSince = null;
    this.resume();
  }

  /**
   * From now on the monotonic clock runs at `rate` (monotonic ms per true ms), continuing
   * from its current reading. Timers armed before keep their true-time deadline.
   */
  setMonoRate(rate: number): void {
    this.monoBase = this.monoMs();
    this.rateSince = this.kernel.now;
    if (this.suspendedSince !== null) this.suspendedSince = this.kernel.now;
    this.monoRate = rate;
  }

  get paused(): boolean {
    return this.pausedQueue !== null;
  }

  /** Runs `fn` in this process now, or when it is resumed; never once it is dead. */
  deliver(fn: () => void): void {
    if (!this.alive) return;
    if (this.pausedQueue) this.pausedQueue.push(fn);
    else fn();
  }

  /** A timer of `monoDelayMs` on this process's monotonic clock. */
  timer(monoDelayMs: number, fn: () => void): void {
    this.kernel.after(Math.max(0, monoDelayMs) / this.monoRate, () => this.deliver(fn));
  }

  pause(): void {
    if (this.alive && !this.pausedQueue) this.pausedQueue = [];
  }

  resume(): void {
    const queue = this.pausedQueue ?? [];
    this.pausedQueue = null;
    while (queue.length > 0 && this.alive) {
      const fn = queue.shift() as () => void;
      fn();
    }
  }

  kill(): void {
    this.alive = false;
    this.pausedQueue = null;
  }
}
