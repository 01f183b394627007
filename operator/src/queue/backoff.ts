/** Per-key exponential backoff: base * 2^failures, capped. Failures are counted until forget(). */
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Default retry pacing: 100 ms doubling up to 2 minutes. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 100, maxDelayMs: 120_000 };

/** Delay before retry number `failures` (0 = first retry). */
export function backoffDelayMs(failures: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  // 2^failures overflows to Infinity past ~1024 failures; min() keeps the cap.
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, failures));
}

/** Counts failures per key and says how long to wait before the next try. */
export class KeyedBackoff {
  readonly #failures = new Map<string, number>();
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    this.#options = options;
  }

  /** Records one more failure of `key` and returns the delay before retrying it. */
  next(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return backoffDelayMs(failures, this.#options);
  }

  /** Failures recorded for `key` since the last forget. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Clears `key`'s failures after a success. */
  forget(key: string): void {
    this.#failures.delete(key);
  }
}
