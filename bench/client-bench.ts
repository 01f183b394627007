// The client library's benchmarks (part of `npm run bench`; `node bench/client-bench.ts` alone).
// Everything on loopback, every loop bounded in time.
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createIdClient, type IdClient } from "../client/src/index.ts";
import type { GeneratorTransport } from "../client/src/generator-transport.ts";
import { decimalOf, LOW_MOD } from "../client/src/id-runs.ts";
import { readBatchBody } from "../client/src/batch-body.ts";
import { freePort, startServer, type ServerProcess } from "./http-bench.ts";
import { countCauses, recordGcPauses, type SlowCall } from "./slow-call-causes.ts";
import { runqueueWaitClock } from "./thread-schedstat.ts";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * An in-memory fleet for the warm-buffer figure: answers /v1/ids with consecutive IDs at once
 * (from a macrotask, so a refill lands between timed rounds, never inside one).
 */
function memoryTransport(): GeneratorTransport {
  // Below 2^53, so the IDs are exact JS numbers (fine for a buffer benchmark).
  let next = 2 ** 52;
  const encoder = new TextEncoder();
  return {
    get(url) {
      if (url.endsWith("/v1/layout")) {
        return Promise.resolve({
          kind: "status",
          status: 404,
          code: "NOT_FOUND",
          message: "",
          retryAfterMs: undefined,
        });
      }
      const count = Number(new URL(url).searchParams.get("count"));
      const first = next;
      next += count;
      // The body is made in the macrotask too: the timed rounds measure next() alone.
      return new Promise((resolve) =>
        setImmediate(() => {
          const ids = new Array<string>(count);
          for (let k = 0; k < count; k++) {
            ids[k] = decimalOf(Math.floor((first + k) / LOW_MOD), (first + k) % LOW_MOD);
          }
          resolve({ kind: "ok", body: encoder.encode(`{"ids":["${ids.join('","')}"]}`) });
        }),
      );
    },
    close() {},
  };
}

/** `calls` awaited next() calls in a loop of their own, as an application's hot path runs them. */
async function awaitNext(client: IdClient, calls: number): Promise<number> {
  let length = 0;
  for (let k = 0; k < calls; k++) length += (await client.next()).length;
  return length;
}

/** The same loop awaiting one already resolved promise: the floor under any promise-returning call. */
async function awaitResolved(promise: Promise<string>, calls: number): Promise<number> {
  let length = 0;
  for (let k = 0; k < calls; k++) length += (await promise).length;
  return length;
}

/**
 * The same loop awaiting a new resolved promise each call: the floor under a call that hands
 * out a different value each time, as next() must (one promise allocated per call).
 */
async function awaitNewPromise(value: string, calls: number): Promise<number> {
  let length = 0;
  for (let k = 0; k < calls; k++) length += (await Promise.resolve(value)).length;
  return length;
}

const LOW_DIGITS = Array.from({ length: LOW_MOD }, (_, k) => String(k).padStart(4, "0"));

/**
 * The same loop awaiting a new resolved promise of a new string each call (a head plus four
 * digits, as the client makes an ID's string): the least a next() returning a new ID can do.
 */
async function awaitNewString(head: string, calls: number): Promise<number> {
  let length = 0;
  for (let k = 0; k < calls; k++) length += (await Promise.resolve(head + LOW_DIGITS[k % LOW_MOD])).length;
  return length;
}

/** Wall-clock and main-thread CPU milliseconds that `loop` takes (CPU time leaves out descheduling). */
async function timed(loop: () => Promise<number>): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.threadCpuUsage();
  const start = performance.now();
  if ((await loop()) <= 0) throw new Error("the loop handed out nothing");
  const wallMs = performance.now() - start;
  // getrusage: a busy thread's CPU time advances by scheduler ticks (4 ms here), so one
  // round's figure is coarse; summed over the run's rounds the errors mostly cancel.
  const used = process.threadCpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/** Calls per second of wall clock and per second of the main thread's CPU time. */
export interface LoopRate {
  perSecond: number;
  perCpuSecond: number;
}

/**
 * next() from a warm buffer: rounds of ROUND calls timed, refills landing between rounds.
 * Each round is paired with ROUND awaits of an already resolved promise (the floor under any
 * promise-returning next()) and ROUND awaits of a new resolved promise each, so a machine
 * whose load changes shows in all alike. Each is a loop in a small function of its own.
 */
export async function warmBufferRate(
  seconds: number,
): Promise<{ next: LoopRate; floor: LoopRate; newPromise: LoopRate; newString: LoopRate; ids: number }> {
  // Below minBatch, the low watermark: a round always leaves the buffer asking for a refill.
  const ROUND = 90_000;
  const client = createIdClient({
    endpoints: ["http://127.0.0.1:1"],
    transport: memoryTransport(),
    minBatch: 100_000,
    maxBatch: 100_000,
    maxAgeMs: 600_000,
  });
  const totals = {
    next: { wallMs: 0, cpuMs: 0 },
    floor: { wallMs: 0, cpuMs: 0 },
    newPromise: { wallMs: 0, cpuMs: 0 },
    newString: { wallMs: 0, cpuMs: 0 },
  };
  const add = (total: { wallMs: number; cpuMs: number }, round: { wallMs: number; cpuMs: number }) => {
    total.wallMs += round.wallMs;
    total.cpuMs += round.cpuMs;
  };
  let ids = 0;
  const id = "387190794185867264";
  const resolved = Promise.resolve(id);
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    while (client.stats().buffered < ROUND) {
      await client.next(); // makes sure a refill is asked for
      await sleep(1);
    }
    add(totals.floor, await timed(() => awaitResolved(resolved, ROUND)));
    add(totals.newPromise, await timed(() => awaitNewPromise(id, ROUND)));
    add(totals.newString, await timed(() => awaitNewString("38719079418586", ROUND)));
    add(totals.next, await timed(() => awaitNext(client, ROUND)));
    ids += ROUND;
  }
  await client.close();
  const rate = (t: { wallMs: number; cpuMs: number }): LoopRate => ({
    perSecond: (ids / t.wallMs) * 1000,
    perCpuSecond: (ids / t.cpuMs) * 1000,
  });
  return {
    next: rate(totals.next),
    floor: rate(totals.floor),
    newPromise: rate(totals.newPromise),
    newString: rate(totals.newString),
    ids,
  };
}

/**
 * Milliseconds to read a 10,000-ID /v1/ids body into runs (the main thread's work when a
 * refill lands), median of `rounds`. The body is shaped like a generator's: runs of 4,096
 * consecutive IDs (one tick's sequence) with a jump to the next tick between them.
 */
export function batchBodyReadMs(rounds: number): number {
  const ids: string[] = [];
  let id = 387190794185867264n;
  for (let k = 0; k < 10_000; k++) {
    ids.push(String(id));
    id += k % 4096 === 4095 ? 1n << 22n : 1n;
  }
  const body = new TextEncoder().encode(JSON.stringify({ ids }));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    if (readBatchBody(body, () => {}) !== ids.length) throw new Error("the body was not read whole");
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[times.length >> 1] as number;
}

/** Latencies of next() in 0.1 µs buckets up to 100 µs, plus the maximum and calls over 1 ms. */
class LatencyHistogram {
  private readonly buckets = new Float64Array(1001);
  count = 0;
  max = 0;
  over1ms = 0;
  record(ms: number): void {
    this.count++;
    if (ms > this.max) this.max = ms;
    if (ms > 1) this.over1ms++;
    this.buckets[Math.min(1000, Math.floor(ms * 10_000))]!++;
  }
  /** The q-quantile in µs (upper edge of its bucket). */
  quantileMicros(q: number): number {
    let seen = 0;
    for (let b = 0; b < this.buckets.length; b++) {
      seen += this.buckets[b]!;
      if (seen >= q * this.count) return (b + 1) / 10;
    }
    return Infinity;
  }
}

/**
 * A consumer at a steady `rate` IDs/s for `seconds` from `client`, timing every next(). Calls
 * over 1 ms are kept with whether the buffer was empty meanwhile and how long the main thread
 * waited for a CPU during its stretch of calls (one stretch a millisecond), to name their cause.
 */
async function steadyConsumer(client: IdClient, rate: number, seconds: number) {
  const histogram = new LatencyHistogram();
  const slow: SlowCall[] = [];
  const runqueue = runqueueWaitClock();
  const gc = recordGcPauses();
  const start = performance.now();
  let taken = 0;
  let waited = client.stats().waited;
  // The buffer's low point, seen once a millisecond: near 0 with misses means refills fell behind.
  let lowestBuffered = Infinity;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= seconds * 1000) break;
    const due = Math.floor((elapsed / 1000) * rate);
    const stretch: SlowCall[] = [];
    lowestBuffered = Math.min(lowestBuffered, client.stats().buffered);
    const waitBefore = runqueue?.read() ?? 0;
    while (taken < due) {
      const t0 = performance.now();
      await client.next();
      const ms = performance.now() - t0;
      histogram.record(ms);
      if (ms > 1) {
        const now = client.stats().waited;
        stretch.push({ startMs: t0, durationMs: ms, missed: now > waited, runqueueWaitMs: -1 });
        waited = now;
      }
      taken++;
    }
    const waitMs = runqueue ? runqueue.read() - waitBefore : -1;
    for (const call of stretch) slow.push({ ...call, runqueueWaitMs: waitMs });
    await yieldToIo();
  }
  const idsPerSecond = taken / ((performance.now() - start) / 1000);
  // GC entries arrive asynchronously: let the last ones in.
  await sleep(10);
  gc.stop();
  runqueue?.close();
  const gcMs = gc.pauses.filter((p) => p.startMs >= start).map((p) => p.durationMs);
  return {
    histogram,
    causes: countCauses(slow, gc.pauses),
    gcPauses: gcMs.length,
    gcMaxMs: Math.max(0, ...gcMs),
    gcOver1ms: gcMs.filter((ms) => ms > 1).length,
    lowestBuffered,
    idsPerSecond,
  };
}

function startGenerator(repo: string, port: number, workerId: number): Promise<ServerProcess> {
  return startServer(
    `generator ${workerId}`,
    `${repo}generator/src/main.ts`,
    [],
    { IDGEN_WORKER_ID: String(workerId), IDGEN_HOST: "127.0.0.1", IDGEN_PORT: String(port) },
    port,
    "/readyz",
  );
}

/** 1 M IDs/s from one local generator for `seconds`: next() latency distribution. */
export async function steadyFromOneGenerator(repo: string, seconds: number) {
  const port = await freePort();
  const generator = await startGenerator(repo, port, 1);
  const client = createIdClient({ endpoints: [generator.url] });
  try {
    // Warm-up at the same rate until the buffer holds what the client keeps at this rate (a
    // second of consumption, its low watermark), at most 5 s: the cold start's ramp is not the
    // steady state, and on a loaded machine it takes longer than a second.
    let warmUpSeconds = 0;
    do {
      await steadyConsumer(client, 1_000_000, 1);
      warmUpSeconds++;
    } while (warmUpSeconds < 5 && client.stats().buffered < 900_000);
    const before = client.stats();
    const measured = await steadyConsumer(client, 1_000_000, seconds);
    const after = client.stats();
    return {
      ...measured,
      warmUpSeconds,
      bufferedAtStart: before.buffered,
      waited: after.waited - before.waited,
      refills: after.refills - before.refills,
      fetchedPerSecond: (after.fetched - before.fetched) / seconds,
      failovers: after.failovers - before.failovers,
    };
  } finally {
    await client.close();
    await generator.stop();
  }
}

/**
 * Two local generators, `consumers` concurrent consumers as fast as they go for `seconds`;
 * generator 1 is SIGKILLed halfway. Every ID is kept and checked for duplicates.
 */
export async function failoverUnderLoad(repo: string, seconds: number, consumers: number) {
  const ports = [await freePort(), await freePort()];
  const generators = await Promise.all(ports.map((port, k) => startGenerator(repo, port, k + 1)));
  const client = createIdClient({ endpoints: generators.map((g) => g.url), requestTimeoutMs: 500 });
  const ids: BigUint64Array[] = [];
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const end = start + seconds * 1000;
  let killedAt = 0;
  const killer = (async () => {
    await sleep((seconds * 1000) / 2);
    killedAt = performance.now() - start;
    process.kill(generators[0]!.pid, "SIGKILL");
  })();
  const consumer = async () => {
    let chunk = new BigUint64Array(1 << 20);
    let n = 0;
    while (performance.now() < end) {
      for (let k = 0; k < 1000; k++) {
        try {
          chunk[n++] = await client.nextBigInt();
        } catch (error) {
          n--;
          errors++;
          firstError ??= error;
        }
        if (n === chunk.length) {
          ids.push(chunk);
          chunk = new BigUint64Array(1 << 20);
          n = 0;
        }
      }
      await yieldToIo();
    }
    ids.push(chunk.subarray(0, n));
  };
  await Promise.all(Array.from({ length: consumers }, consumer));
  const elapsed = (performance.now() - start) / 1000;
  await killer;
  const stats = client.stats();
  await client.close();
  await Promise.all(generators.map((g) => g.stop()));
  const total = ids.reduce((sum, c) => sum + c.length, 0);
  const all = new BigUint64Array(total);
  let at = 0;
  for (const c of ids) {
    all.set(c, at);
    at += c.length;
  }
  all.sort();
  let duplicates = 0;
  for (let k = 1; k < all.length; k++) if (all[k] === all[k - 1]) duplicates++;
  return {
    idsPerSecond: total / elapsed,
    total,
    errors,
    firstError,
    duplicates,
    killedAtS: killedAt / 1000,
    stats,
  };
}

/** Prints the client's section of the benchmark report. */
export async function runClientBenchmarks(repo: string): Promise<void> {
  console.log("\nClient library (@idfleet/client):");
  const warm = await warmBufferRate(4);
  const ns = (rate: number) => 1e9 / rate;
  console.log(
    `  next() from a warm buffer:        ${fmt(warm.next.perSecond).padStart(11)} IDs/s wall clock, ${fmt(warm.next.perCpuSecond)} per CPU-second of the main thread (target >= 20,000,000; ${fmt(warm.ids)} awaited calls)`,
  );
  console.log(
    `  the floors, loops alternating with the above: awaiting one resolved promise ${fmt(warm.floor.perSecond)} /s wall clock (${fmt(warm.floor.perCpuSecond)} per CPU-second), a new resolved promise each call ${fmt(warm.newPromise.perSecond)} /s (${fmt(warm.newPromise.perCpuSecond)}), a new promise of a new ID-like string each call ${fmt(warm.newString.perSecond)} /s (${fmt(warm.newString.perCpuSecond)})`,
  );
  const beyond = (floor: LoopRate) => (ns(warm.next.perCpuSecond) - ns(floor.perCpuSecond)).toFixed(0);
  console.log(
    `  next() per CPU-second at ${(warm.next.perCpuSecond / warm.floor.perCpuSecond).toFixed(2)} of the floor: ${beyond(warm.floor)} ns beyond the await itself, ${beyond(warm.newPromise)} ns beyond awaiting a new promise, ${beyond(warm.newString)} ns beyond a new promise of a new string`,
  );
  console.log(
    `  reading a 10,000-ID /v1/ids body into runs (what a landing refill costs the main thread): ${batchBodyReadMs(300).toFixed(3)} ms (median of 300)`,
  );
  const steady = await steadyFromOneGenerator(repo, 10);
  const h = steady.histogram;
  const c = steady.causes;
  console.log(
    `  1 M IDs/s from one generator, 10 s: ${fmt(steady.idsPerSecond)} IDs/s; next() p50 ${h.quantileMicros(0.5)} µs, p99 ${h.quantileMicros(0.99)} µs, p99.9 ${h.quantileMicros(0.999)} µs, max ${(h.max * 1000).toFixed(0)} µs (targets p99 <= 2 µs, none over 1 ms); calls that found the buffer empty: ${steady.waited}; load average ${loadavg()[0]?.toFixed(1)}; ${steady.refills} refills, ${steady.failovers} failovers (after ${steady.warmUpSeconds} s of warm-up at the same rate, ${fmt(steady.bufferedAtStart)} IDs buffered then)`,
  );
  console.log(
    `    calls over 1 ms: ${h.over1ms}: ${c["buffer miss"]} buffer miss, ${c["GC pause"]} in a GC pause, ${c.descheduled} descheduled (main thread waiting for a CPU), ${c.other} other; buffer low point ${fmt(steady.lowestBuffered)} IDs, refills brought ${fmt(steady.fetchedPerSecond)} IDs/s; GC pauses ${steady.gcPauses}, ${steady.gcOver1ms} over 1 ms, longest ${steady.gcMaxMs.toFixed(1)} ms`,
  );
  const failover = await failoverUnderLoad(repo, 10, 8);
  console.log(
    `  2 generators, 8 consumers, 10 s, generator 1 SIGKILLed at ${failover.killedAtS.toFixed(1)} s: ${fmt(failover.idsPerSecond)} IDs/s (target >= 2,000,000), ${fmt(failover.total)} IDs, errors ${failover.errors}${failover.firstError ? ` (${(failover.firstError as Error).message})` : ""}, duplicates ${failover.duplicates}, failovers ${failover.stats.failovers}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runClientBenchmarks(fileURLToPath(new URL("..", import.meta.url)));
}
