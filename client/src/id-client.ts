import { idBounds, type IdBounds } from "../../contract/id-bounds.ts";
import { decodeId, parseIdString, type DecodedId, type LayoutMath } from "../../contract/id-layout-math.ts";
import { systemClock, type ClientClock, type TimerHandle } from "./client-clock.ts";
import { IdClientClosedError, IdFleetUnavailableError } from "./client-errors.ts";
import type { ClientEvents, ClientStats } from "./client-events.ts";
import { clientSettings, type ClientSettings, type IdClientOptions } from "./client-options.ts";
import { ConsumptionRate } from "./consumption-rate.ts";
import { layoutMismatch, readFleetLayout, type FleetLayout } from "./fleet-layout.ts";
import { problemOf, readRefill, type RefillProblem } from "./refill-outcome.ts";
import { EndpointPool, type Endpoint } from "./endpoint-pool.ts";
import { dnsLookup, parseEndpoint, type EndpointSource } from "./endpoint-resolver.ts";
import { EndpointResolution } from "./endpoint-resolution.ts";
import { fetchTransport, type GeneratorTransport, type GetOutcome } from "./generator-transport.ts";
import { IdRuns } from "./id-runs.ts";
import { planPrefetch, type PrefetchSettings } from "./prefetch-policy.ts";

/** The client an application holds: IDs from a local buffer that refills from the fleet. */
export interface IdClient {
  /** The next ID as a decimal string ("387190794185867264"). */
  next(): Promise<string>;
  /** The next ID as a bigint. */
  nextBigInt(): Promise<bigint>;
  /** `count` IDs (1..1,000,000), as decimal strings in increasing order. */
  take(count: number): Promise<string[]>;
  /** Takes an ID apart with the fleet's layout. Throws until the layout is known (after the first ID). */
  decode(id: string | bigint): DecodedId;
  /** The smallest and largest ID with from <= time < to (Date or epoch ms), for range queries. */
  bounds(from: Date | number, to: Date | number): IdBounds;
  /** The fleet's layout (fetched from /v1/layout with the first refill). */
  layout(): Promise<LayoutMath>;
  /** Counters and gauges for monitoring. */
  stats(): ClientStats;
  /** Stops refills and timers; waiting calls reject with IdClientClosedError. */
  close(): Promise<void>;
}

/** Creates a client. Nothing is fetched until the first call. */
export function createIdClient(options: IdClientOptions): IdClient {
  return new PrefetchingIdClient(options);
}

/** The hot path reads the clock once per this many calls (a power of two), besides a timer. */
const FRESHNESS_STRIDE_MASK = 63;
const MAX_TAKE = 1_000_000;
/** A refill is overdue after at least this long (see overdueAfterMs). */
const OVERDUE_MIN_MS = 100;

const WaiterKind = { String: 0, BigInt: 1, Take: 2 } as const;
type WaiterKind = (typeof WaiterKind)[keyof typeof WaiterKind];

interface Waiter {
  kind: WaiterKind;
  count: number;
  since: number;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

/** Compares decimal IDs numerically (no leading zeros: shorter is smaller). */
const byNumber = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

class PrefetchingIdClient implements IdClient {
  private readonly settings: ClientSettings;
  private readonly clock: ClientClock;
  private readonly transport: GeneratorTransport;
  private readonly events: ClientEvents;
  private readonly prefetch: PrefetchSettings;
  private readonly runs = new IdRuns();
  private readonly pool: EndpointPool;
  private readonly sources: EndpointSource[];
  private readonly rate = new ConsumptionRate(200);
  private batchFloor = 0;

  // Hot-path state.
  private calls = 0;
  /**
   * The buffer level below which a call asks for a refill: where the last plan would start
   * one, given what is in flight; -Infinity while a refill is scheduled or a planned one
   * found no endpoint (a refill reporting back, or the retry timer, plans again).
   */
  private refillBelow = 0;
  private refillScheduled = false;

  private closed = false;
  private maxBatch: number;
  private inFlightIds = 0;
  private refillsInFlight = 0;
  private latencyMs = 5;
  private lastServedAt = -Infinity;
  /** The fleet's layout, from the first endpoint's /v1/layout. */
  private fleetLayout: FleetLayout | undefined;
  private readonly layoutWaiters: {
    since: number;
    resolve: (math: LayoutMath) => void;
    reject: (error: Error) => void;
  }[] = [];
  private readonly waiters: Waiter[] = [];
  private waiterHead = 0;
  private waitingIds = 0;
  private readonly counts = { fetched: 0, refills: 0, failovers: 0, droppedStale: 0, waited: 0 };
  private staleTimer: TimerHandle | undefined;
  private staleTimerAt = Infinity;
  private deadlineTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private readonly resolution: EndpointResolution;

  constructor(options: IdClientOptions) {
    this.settings = clientSettings(options);
    this.sources = this.settings.endpoints.map(parseEndpoint);
    this.clock = options.clock ?? systemClock;
    this.transport = options.transport ?? fetchTransport();
    this.events = options.events ?? {};
    this.maxBatch = this.settings.maxBatch;
    this.prefetch = {
      minBatch: this.settings.minBatch,
      maxAgeMs: this.settings.maxAgeMs,
      latencyCover: 3,
      minCoverMs: 1000,
      maxInFlightPerEndpoint: 4,
    };
    this.pool = new EndpointPool({ baseCooldownMs: 250, maxCooldownMs: 5000 });
    // Until a name is resolved, its URL is used as given (fetch resolves it itself).
    for (const source of this.sources) this.pool.setUrls(source.url, [source.url]);
    this.resolution = new EndpointResolution(
      {
        clock: this.clock,
        lookup: options.lookup ?? dnsLookup,
        pool: this.pool,
        everyMs: this.settings.resolveEveryMs,
        changed: (source, endpoints, change) =>
          this.emit(() => this.events.endpointsChanged?.({ source, endpoints, ...change })),
        resolved: () => this.refill(),
      },
      this.sources,
    );
  }

  // The hot path: two small methods V8 inlines around one take from the buffer.
  next(): Promise<string> {
    if (!this.canTake()) return this.wait(WaiterKind.String, 1) as Promise<string>;
    const id = this.runs.takeString();
    this.tookOne();
    return Promise.resolve(id);
  }

  nextBigInt(): Promise<bigint> {
    if (!this.canTake()) return this.wait(WaiterKind.BigInt, 1) as Promise<bigint>;
    const id = this.runs.takeBigInt();
    this.tookOne();
    return Promise.resolve(id);
  }

  /**
   * Whether a call may take from the buffer now: only beyond what waiting calls are owed (a
   * take(n) waiting for its n IDs is not starved by calls after it), and, every 64th call,
   * after dropping what went stale.
   */
  private canTake(): boolean {
    return (
      this.runs.level > this.waitingIds && ((++this.calls & FRESHNESS_STRIDE_MASK) !== 0 || this.fresh())
    );
  }

  /** After a take: below the refill threshold, ask for a refill. */
  private tookOne(): void {
    if (this.runs.level < this.refillBelow) this.refillSoon();
  }

  take(count: number): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_TAKE) {
      return Promise.reject(
        new RangeError(`take(count): count must be a whole number from 1 to ${MAX_TAKE}, got ${count}`),
      );
    }
    this.dropStale(this.clock.now());
    if (this.runs.level >= count && this.waiterHead === this.waiters.length) {
      const ids = this.takeStrings(count);
      if (this.runs.level < this.refillBelow) this.refillSoon();
      return Promise.resolve(ids);
    }
    return this.wait(WaiterKind.Take, count) as Promise<string[]>;
  }

  decode(id: string | bigint): DecodedId {
    return decodeId(this.requireMath(), typeof id === "bigint" ? id : parseIdString(String(id)));
  }

  bounds(from: Date | number, to: Date | number): IdBounds {
    const ms = (t: Date | number) => (t instanceof Date ? t.getTime() : t);
    return idBounds(this.requireMath(), ms(from), ms(to));
  }

  layout(): Promise<LayoutMath> {
    if (this.fleetLayout) return Promise.resolve(this.fleetLayout.math);
    if (this.closed) return Promise.reject(new IdClientClosedError());
    const promise = new Promise<LayoutMath>((resolve, reject) => {
      this.layoutWaiters.push({ since: this.clock.now(), resolve, reject });
    });
    // A batch fetch reads the layout first, from an endpoint not yet checked.
    if (this.refillsInFlight === 0) this.refill(1);
    this.clock.setTimeout(() => this.expireWaiters(), this.settings.failAfterMs, true);
    return promise;
  }

  stats(): ClientStats {
    const now = this.clock.now();
    return {
      buffered: this.runs.level,
      delivered: this.delivered(),
      refills: this.counts.refills,
      fetched: this.counts.fetched,
      failovers: this.counts.failovers,
      droppedStale: this.counts.droppedStale,
      waiting: this.waiters.length - this.waiterHead,
      waited: this.counts.waited,
      refillsInFlight: this.refillsInFlight,
      endpoints: this.pool.all().length,
      usableEndpoints: this.pool.usableCount(now),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resolution.stop();
    for (const timer of [this.staleTimer, this.deadlineTimer, this.retryTimer]) {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
    this.transport.close();
    this.runs.clear();
    const error = new IdClientClosedError();
    for (const w of this.waiters.splice(0).slice(this.waiterHead)) w.reject(error);
    for (const w of this.layoutWaiters.splice(0)) w.reject(error);
    this.waiterHead = 0;
    this.waitingIds = 0;
  }

  // ---- buffer and waiters -------------------------------------------------------------

  private delivered(): number {
    return this.counts.fetched - this.counts.droppedStale - this.runs.level;
  }

  /** The hot path's periodic freshness check; true when IDs are left beyond what waiting calls are owed. */
  private fresh(): boolean {
    this.dropStale(this.clock.now());
    return this.runs.level > this.waitingIds;
  }

  private dropStale(now: number): void {
    // An ID as old as maxAgeMs is stale: the timer at oldest + maxAgeMs drops it.
    const dropped = this.runs.dropFetchedUpTo(now - this.settings.maxAgeMs);
    if (dropped > 0) {
      this.counts.droppedStale += dropped;
      // No refill here: an idle client should not fetch IDs only to drop them again; the
      // next call below the low watermark refills.
      this.emit(() => this.events.staleDrop?.({ ids: dropped }));
    }
    this.armStaleTimer();
  }

  /** A timer at the oldest buffered ID's expiry, so stale IDs go even while nobody calls. */
  private armStaleTimer(): void {
    const at = this.runs.oldestFetchedAt() + this.settings.maxAgeMs;
    if (this.closed || at === Infinity || at >= this.staleTimerAt) return;
    if (this.staleTimer !== undefined) this.clock.clearTimeout(this.staleTimer);
    this.staleTimerAt = at;
    this.staleTimer = this.clock.setTimeout(
      () => {
        this.staleTimer = undefined;
        this.staleTimerAt = Infinity;
        this.dropStale(this.clock.now());
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private takeStrings(count: number): string[] {
    const ids = new Array<string>(count);
    for (let k = 0; k < count; k++) ids[k] = this.runs.takeString();
    return ids.sort(byNumber);
  }

  private wait(kind: WaiterKind, count: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new IdClientClosedError());
    const promise = new Promise<unknown>((resolve, reject) => {
      this.waiters.push({
        kind,
        count,
        since: this.clock.now(),
        resolve: resolve as (v: never) => void,
        reject,
      });
    });
    this.waitingIds += count;
    this.counts.waited++;
    this.serveWaiters();
    this.refill();
    this.armDeadline();
    return promise;
  }

  /** Hands buffered IDs to waiting calls, oldest first; a take waits until its whole count is there. */
  private serveWaiters(): void {
    if (this.waiterHead === this.waiters.length) return;
    this.dropStale(this.clock.now());
    while (this.waiterHead < this.waiters.length) {
      const w = this.waiters[this.waiterHead] as Waiter;
      if (this.runs.level < w.count) break;
      this.waiters[this.waiterHead++] = undefined as unknown as Waiter;
      this.waitingIds -= w.count;
      const value =
        w.kind === WaiterKind.String
          ? this.runs.takeString()
          : w.kind === WaiterKind.BigInt
            ? this.runs.takeBigInt()
            : this.takeStrings(w.count);
      (w.resolve as (v: unknown) => void)(value);
    }
    if (this.waiterHead === this.waiters.length) {
      this.waiters.length = 0;
      this.waiterHead = 0;
      // Nobody waits: the deadline timer must not keep the process alive.
      if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  /** Rejects waiting calls once no endpoint has served for failAfterMs since they started waiting. */
  private armDeadline(): void {
    if (this.closed || this.deadlineTimer !== undefined || this.waiterHead === this.waiters.length) return;
    const head = this.waiters[this.waiterHead] as Waiter;
    const at = Math.max(head.since, this.lastServedAt) + this.settings.failAfterMs;
    this.deadlineTimer = this.clock.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        this.expireWaiters();
        this.armDeadline();
      },
      Math.max(0, at - this.clock.now()),
      true,
    );
  }

  private expireWaiters(): void {
    const now = this.clock.now();
    const expired: Waiter[] = [];
    while (this.waiterHead < this.waiters.length) {
      const w = this.waiters[this.waiterHead] as Waiter;
      if (now - Math.max(w.since, this.lastServedAt) < this.settings.failAfterMs) break;
      this.waiters[this.waiterHead++] = undefined as unknown as Waiter;
      this.waitingIds -= w.count;
      expired.push(w);
    }
    const layoutExpired = this.layoutWaiters.filter(
      (w) => now - Math.max(w.since, this.lastServedAt) >= this.settings.failAfterMs,
    );
    if (!expired.length && !layoutExpired.length) return;
    const endpoints = this.pool.describe(now);
    const error = new IdFleetUnavailableError(
      `no idfleet endpoint served IDs for ${this.settings.failAfterMs} ms (configured: ${this.settings.endpoints.join(", ")}); tried: ${endpoints}`,
      endpoints,
    );
    for (const w of expired) w.reject(error);
    for (const w of layoutExpired) {
      this.layoutWaiters.splice(this.layoutWaiters.indexOf(w), 1);
      w.reject(error);
    }
  }

  private requireMath(): LayoutMath {
    if (!this.fleetLayout) {
      throw new Error(
        "the fleet's layout is not known yet: the client reads it from /v1/layout with its first refill; await next() or layout() first",
      );
    }
    return this.fleetLayout.math;
  }

  // ---- refills ------------------------------------------------------------------------

  /**
   * Below the threshold: plan a refill once the calling code yields to the event loop, not
   * inside the call (starting a request takes far longer than handing out an ID, and a hot
   * loop's next calls would wait behind it). Calls keep taking meanwhile.
   */
  private refillSoon(): void {
    this.refillBelow = -Infinity;
    if (this.refillScheduled || this.closed) return;
    this.refillScheduled = true;
    setImmediate(this.scheduledRefill);
  }

  private readonly scheduledRefill = () => {
    this.refillScheduled = false;
    this.refill();
  };

  /** Plans and starts refills; `atLeast` forces one batch even with a full buffer (layout). */
  private refill(atLeast = 0): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.resolution.due(now);
    this.rate.observe(now, this.delivered());
    const dry = this.waitingIds > 0 && this.runs.level === 0;
    this.batchFloor = dry
      ? Math.min(this.maxBatch, Math.max(this.settings.minBatch, this.batchFloor * 2))
      : Math.floor(this.batchFloor * 0.9);
    const plan = planPrefetch(
      {
        level: this.runs.level,
        inFlightIds: this.inFlightIds,
        waitingIds: this.waitingIds,
        ratePerMs: this.rate.perMillisecond(),
        refillLatencyMs: this.latencyMs,
        maxBatch: this.maxBatch,
        endpoints: Math.max(1, this.pool.usableCount(now)),
        batchFloor: this.batchFloor,
      },
      this.prefetch,
    );
    const batches =
      plan.batches.length || !atLeast ? plan.batches : [Math.max(atLeast, this.settings.minBatch)];
    let started = true;
    for (const size of batches) {
      const endpoint = this.pool.pick(now, plan.perEndpointInFlight);
      if (!endpoint) {
        started = false;
        this.armRetry();
        break;
      }
      void this.refillFrom(endpoint, size, now);
    }
    // The plan would start a refill once level + in flight - owed falls below the low watermark.
    this.refillBelow = started ? plan.lowWatermark - this.inFlightIds + this.waitingIds : -Infinity;
  }

  /** When every endpoint rests, plan again as soon as the first one may be probed. */
  private armRetry(): void {
    if (this.closed || this.retryTimer !== undefined || this.refillsInFlight > 0) return;
    const at = this.pool.nextReopenAt();
    if (at === Infinity) return;
    this.retryTimer = this.clock.setTimeout(
      () => {
        this.retryTimer = undefined;
        this.refill();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private async refillFrom(endpoint: Endpoint, count: number, startedAt: number): Promise<void> {
    endpoint.inFlight++;
    endpoint.breaker.onRequest(startedAt);
    this.refillsInFlight++;
    this.inFlightIds += count;
    // A refill far slower than usual (a pod gone without a reset, still in DNS; a stopped
    // process) stops counting as on its way, so the next plan asks another endpoint instead
    // of letting the buffer run dry while this one waits out requestTimeoutMs. If it answers
    // after all, its IDs are as good as any.
    let counted = true;
    const overdue = this.clock.setTimeout(() => {
      if (!counted || this.closed) return;
      counted = false;
      this.inFlightIds -= count;
      this.refill();
    }, this.overdueAfterMs());
    let problem: RefillProblem | undefined;
    try {
      problem = endpoint.layoutChecked ? undefined : await this.checkLayout(endpoint);
      if (!problem) {
        const outcome = await this.transport.get(
          `${endpoint.url}/v1/ids?count=${count}`,
          this.settings.requestTimeoutMs,
        );
        problem = this.landBatch(endpoint, count, outcome, startedAt);
      }
    } catch (error) {
      problem = { reason: `client error: ${(error as Error).message}` };
    } finally {
      this.clock.clearTimeout(overdue);
      endpoint.inFlight--;
      this.refillsInFlight--;
      if (counted) this.inFlightIds -= count;
    }
    if (this.closed) return;
    const now = this.clock.now();
    if (problem) {
      this.counts.failovers++;
      endpoint.failures++;
      endpoint.lastProblem = problem.reason;
      endpoint.breaker.onFailure(now, problem.retryAfterMs);
      const restMs = Math.max(0, endpoint.breaker.reopensAt() - now);
      this.emit(() => this.events.failover?.({ endpoint: endpoint.url, reason: problem.reason, restMs }));
      this.resolution.failed(endpoint.source, now);
    }
    this.serveWaiters();
    this.refill();
    this.armRetry();
  }

  /**
   * When a refill in flight counts as lost: two typical round trips (the low watermark covers
   * three, so another endpoint's answer still lands in time), at least OVERDUE_MIN_MS.
   */
  private overdueAfterMs(): number {
    return Math.min(this.settings.requestTimeoutMs, Math.max(OVERDUE_MIN_MS, 2 * this.latencyMs));
  }

  /** Puts a batch into the buffer; returns why it is a failure otherwise. */
  private landBatch(
    endpoint: Endpoint,
    count: number,
    outcome: GetOutcome,
    startedAt: number,
  ): RefillProblem | undefined {
    const refill = readRefill(outcome, count);
    if (refill.kind === "failed") return refill.problem;
    if (refill.kind === "smaller-batches") {
      this.maxBatch = refill.maxBatch;
      endpoint.breaker.onSuccess();
      return undefined;
    }
    if (this.closed) return undefined;
    const { runs, ids } = refill;
    for (let k = 0; k < runs.length; k += 3) {
      this.runs.push(runs[k] as number, runs[k + 1] as number, runs[k + 2] as number, startedAt);
    }
    const now = this.clock.now();
    const latency = Math.max(0, now - startedAt);
    this.latencyMs = this.latencyMs * 0.8 + latency * 0.2;
    this.lastServedAt = now;
    this.counts.refills++;
    this.counts.fetched += ids;
    endpoint.served++;
    endpoint.breaker.onSuccess();
    this.armStaleTimer();
    this.emit(() => this.events.refill?.({ endpoint: endpoint.url, ids, latencyMs: latency }));
    return undefined;
  }

  /**
   * Reads an endpoint's /v1/layout before its first batch: the first one sets the client's
   * layout, and an endpoint serving another layout or id space is never used (its IDs could
   * repeat the others'). A generator without the route (404) is used unchecked.
   */
  private async checkLayout(endpoint: Endpoint): Promise<RefillProblem | undefined> {
    const outcome = await this.transport.get(`${endpoint.url}/v1/layout`, this.settings.requestTimeoutMs);
    if (outcome.kind === "status" && outcome.status === 404) {
      endpoint.layoutChecked = true;
      const error = new Error(
        `${endpoint.url} has no /v1/layout (a generator older than this client); decode and bounds need it`,
      );
      for (const w of this.layoutWaiters.splice(0)) w.reject(error);
      return undefined;
    }
    if (outcome.kind !== "ok") {
      const problem = problemOf(outcome);
      return { ...problem, reason: `layout: ${problem.reason}` };
    }
    let served: FleetLayout;
    try {
      served = readFleetLayout(outcome.body);
    } catch (error) {
      return { reason: `layout: ${(error as Error).message}` };
    }
    if (!this.fleetLayout) {
      this.fleetLayout = served;
      for (const w of this.layoutWaiters.splice(0)) w.resolve(served.math);
    } else if (served.key !== this.fleetLayout.key) {
      endpoint.excluded = layoutMismatch(this.fleetLayout, served);
      return { reason: endpoint.excluded };
    }
    endpoint.layoutChecked = true;
    return undefined;
  }

  private emit(call: () => void): void {
    try {
      call();
    } catch {
      // an application's callback must not break the client
    }
  }
}
