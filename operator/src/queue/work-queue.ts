import { KeyedBackoff, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";

/**
 * A work queue keyed by namespace/name with client-go's semantics: a key is queued at
 * most once, never handed to two workers at once (a key added while it is being
 * processed is queued again when that processing is done), failed keys come back after
 * an exponential per-key backoff, and keys can be scheduled for later (requeueAfter).
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #backoff: KeyedBackoff;
  #shuttingDown = false;

  constructor(backoff: BackoffOptions = DEFAULT_BACKOFF) {
    this.#backoff = new KeyedBackoff(backoff);
  }

  /** Queues `key` now. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // done() queues it again
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
  }

  /** Queues `key` after `delayMs`; an earlier pending schedule for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.#timers.set(key, { at, timer });
  }

  /** Queues `key` after its backoff delay and counts a failure; returns that delay. */
  addRateLimited(key: string): number {
    const delay = this.#backoff.next(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets `key`'s failure count after a success. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  /** Failures of `key` since the last forget. */
  failures(key: string): number {
    return this.#backoff.failures(key);
  }

  /** Next key to process; waits for one. Resolves undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys waiting, in flight, or scheduled for later. */
  get pending(): number {
    return this.#queue.length + this.#processing.size + this.#timers.size;
  }

  /** Stops handing out keys; waiting get() calls resolve undefined. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
