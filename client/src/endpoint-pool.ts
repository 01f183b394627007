import { BreakerState, CircuitBreaker, type BreakerSettings } from "./circuit-breaker.ts";

/** One generator address the client refills from, with its breaker and record. */
export class Endpoint {
  readonly breaker: CircuitBreaker;
  /** Refills in flight. */
  inFlight = 0;
  served = 0;
  failures = 0;
  /** The last failure, for the error next() rejects with. */
  lastProblem: string | undefined;
  /** Set once its /v1/layout matched the client's (or it has no such route). */
  layoutChecked = false;
  /** Set when it must never be used (it serves another layout). */
  excluded: string | undefined;

  readonly url: string;
  /** The configured endpoint it was resolved from. */
  readonly source: string;

  constructor(url: string, source: string, breakerSettings: BreakerSettings) {
    this.url = url;
    this.source = source;
    this.breaker = new CircuitBreaker(breakerSettings);
  }

  usable(now: number): boolean {
    return this.excluded === undefined && this.breaker.canRequest(now);
  }
}

/**
 * The endpoints refills go to: every address of every configured endpoint. Picks the
 * least loaded usable one, round robin among equals, so refills spread over the fleet.
 */
export class EndpointPool {
  private readonly bySource = new Map<string, Endpoint[]>();
  private cursor = 0;

  private readonly breakerSettings: BreakerSettings;

  constructor(breakerSettings: BreakerSettings) {
    this.breakerSettings = breakerSettings;
  }

  /**
   * Sets the addresses `source` stands for. Endpoints that stay keep their breaker and
   * record; ones that are gone are dropped (their refills in flight still finish).
   */
  setUrls(source: string, urls: readonly string[]): { added: string[]; removed: string[] } {
    const before = this.bySource.get(source) ?? [];
    const keep = new Map(before.map((e) => [e.url, e]));
    const next = [...new Set(urls)].map(
      (url) => keep.get(url) ?? new Endpoint(url, source, this.breakerSettings),
    );
    this.bySource.set(source, next);
    const urlsNow = new Set(next.map((e) => e.url));
    return {
      added: next.filter((e) => !keep.has(e.url)).map((e) => e.url),
      removed: before.filter((e) => !urlsNow.has(e.url)).map((e) => e.url),
    };
  }

  all(): Endpoint[] {
    return [...this.bySource.values()].flat();
  }

  ofSource(source: string): readonly Endpoint[] {
    return this.bySource.get(source) ?? [];
  }

  /** An endpoint that may take a refill now with fewer than `limit` in flight, or undefined. */
  pick(now: number, limit: number): Endpoint | undefined {
    const all = this.all();
    let best: Endpoint | undefined;
    for (let k = 0; k < all.length; k++) {
      const e = all[(this.cursor + k) % all.length] as Endpoint;
      if (e.inFlight >= limit || !e.usable(now)) continue;
      if (!best || e.inFlight < best.inFlight) best = e;
    }
    if (best) this.cursor = (all.indexOf(best) + 1) % Math.max(1, all.length);
    return best;
  }

  /** Endpoints whose breaker lets a request through now. */
  usableCount(now: number): number {
    return this.all().filter((e) => e.usable(now)).length;
  }

  /** The earliest time an open breaker allows its probe (Infinity when none is open). */
  nextReopenAt(): number {
    let at = Infinity;
    for (const e of this.all()) {
      if (e.excluded === undefined && e.breaker.reopensAt() > 0) at = Math.min(at, e.breaker.reopensAt());
    }
    return at;
  }

  /** One line per endpoint: what happened there, for errors and logs. */
  describe(now: number): string {
    const lines = this.all().map((e) => {
      const state = e.excluded ? "excluded" : e.breaker.stateAt(now);
      const rest =
        state === BreakerState.Open ? ` until ${Math.max(0, e.breaker.reopensAt() - now)} ms from now` : "";
      const problem = e.excluded ?? e.lastProblem;
      return `${e.url} (${state}${rest}; ${e.served} refills served, ${e.failures} failed${problem ? `; last: ${problem}` : ""})`;
    });
    return lines.length ? lines.join("; ") : "no endpoints";
  }
}
