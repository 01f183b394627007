import type { ClientClock, TimerHandle } from "./client-clock.ts";
import type { EndpointPool } from "./endpoint-pool.ts";
import { urlForAddress, type AddressLookup, type EndpointSource } from "./endpoint-resolver.ts";

/** A resolution is retried this soon when every address of a name failed. */
const RERESOLVE_ON_FAILURE_MS = 1000;

/** What the resolution needs from the client. */
export interface ResolutionHost {
  clock: ClientClock;
  lookup: AddressLookup;
  pool: EndpointPool;
  /** Resolve every this many ms; 0: never (URLs used as given). */
  everyMs: number;
  /** A name now stands for other addresses. */
  changed(source: string, urls: string[], change: { added: string[]; removed: string[] }): void;
  /** A resolution finished (new endpoints may take refills). */
  resolved(): void;
}

/**
 * Keeps the pool's endpoints in step with DNS: each configured name stands for every address
 * it resolves to (a headless Service: every pod), resolved on first use, every `everyMs`,
 * and early when every address of a name failed (the pods may have been replaced). A failed
 * or empty lookup keeps what the name stood for: a DNS hiccup is no reason to drop endpoints.
 */
export class EndpointResolution {
  private readonly host: ResolutionHost;
  private readonly names: EndpointSource[];
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private lastAt = -Infinity;
  private stopped = false;

  constructor(host: ResolutionHost, sources: readonly EndpointSource[]) {
    this.host = host;
    this.names = host.everyMs > 0 ? sources.filter((s) => s.hostname) : [];
  }

  /** Resolves if the last resolution is older than everyMs (called on each refill plan). */
  due(now: number): void {
    if (now - this.lastAt >= this.host.everyMs) this.start(now);
  }

  /** An endpoint of `source` failed: resolve again soon if none of its addresses is usable. */
  failed(source: string, now: number): void {
    const endpoints = this.host.pool.ofSource(source);
    if (endpoints.some((e) => e.usable(now) || e.inFlight > 0)) return;
    if (now - this.lastAt >= RERESOLVE_ON_FAILURE_MS) this.start(now);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
  }

  private start(now: number): void {
    if (this.stopped || this.running || this.names.length === 0) return;
    const { clock } = this.host;
    this.lastAt = now;
    this.running = Promise.all(this.names.map((name) => this.resolve(name))).then(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.timer !== undefined) clock.clearTimeout(this.timer);
      this.timer = clock.setTimeout(() => {
        this.timer = undefined;
        this.start(clock.now());
      }, this.host.everyMs);
      this.host.resolved();
    });
  }

  private async resolve(source: EndpointSource): Promise<void> {
    let addresses: string[];
    try {
      addresses = await this.host.lookup(source.hostname as string);
    } catch {
      return;
    }
    if (this.stopped || addresses.length === 0) return;
    const urls = addresses.map((a) => urlForAddress(source, a));
    const change = this.host.pool.setUrls(source.url, urls);
    if (change.added.length || change.removed.length) this.host.changed(source.url, urls, change);
  }
}
