// The client library's benchmarks (part of `npm run bench`; `node bench/client-bench.ts` alone).
// Everything on loopback, every loop bounded in time.
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createIdClient, type IdClient } from "../client/src/index.ts";
import type { GeneratorTransport } from "../client/src/generator-transport.ts";
import { decimalOf, LOW_MOD } from "../client/src/id-runs.ts";
import { freePort, startServer, type ServerProcess } from "./http-bench.ts";

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

/**
 * next() from a warm buffer: rounds of ROUND calls timed, refills landing between rounds.
 * Each round is paired with ROUND awaits of an already resolved promise (the floor under any
 * promise-returning next()), so a machine whose load changes shows in both alike.
 */
export async function warmBufferRate(
  seconds: number,
): Promise<{ idsPerSecond: number; idsPerCpuSecond: number; floorPerSecond: number; ids: number }> {
  // Below minBatch, the low watermark: a round always leaves the buffer asking for a refill.
  const ROUND = 90_000;
  const client = createIdClient({
    endpoints: ["http://127.0.0.1:1"],
    transport: memoryTransport(),
    minBatch: 100_000,
    maxBatch: 100_000,
    maxAgeMs: 600_000,
  });
  let timedMs = 0;
  let floorMs = 0;
  let cpuMicros = 0;
  let ids = 0;
  const resolved = Promise.resolve("387190794185867264");
  let length = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    while (client.stats().buffered < ROUND) {
      await client.next(); // makes sure a refill is asked for
      await sleep(1);
    }
    const floorStart = performance.now();
    for (let k = 0; k < ROUND; k++) length += (await resolved).length;
    floorMs += performance.now() - floorStart;
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (let k = 0; k < ROUND; k++) await client.next();
    timedMs += performance.now() - start;
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    ids += ROUND;
  }
  await client.close();
  return {
    idsPerSecond: (ids / timedMs) * 1000,
    idsPerCpuSecond: (ids / cpuMicros) * 1e6,
    floorPerSecond: length > 0 ? (ids / floorMs) * 1000 : 0,
    ids,
  };
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

/** A consumer at a steady `rate` IDs/s for `seconds` from `client`, timing every next(). */
async function steadyConsumer(client: IdClient, rate: number, seconds: number) {
  const histogram = new LatencyHistogram();
  const start = performance.now();
  let taken = 0;
  // Slow calls (over 1 ms) after which the client counted a call that found its buffer empty,
  // as opposed to ones where this process was only descheduled.
  let slowWithMiss = 0;
  let waited = client.stats().waited;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= seconds * 1000) break;
    const due = Math.floor((elapsed / 1000) * rate);
    while (taken < due) {
      const t0 = performance.now();
      await client.next();
      const ms = performance.now() - t0;
      histogram.record(ms);
      if (ms > 1) {
        const now = client.stats().waited;
        if (now > waited) slowWithMiss++;
        waited = now;
      }
      taken++;
    }
    await yieldToIo();
  }
  return { histogram, slowWithMiss, idsPerSecond: taken / ((performance.now() - start) / 1000) };
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
    // Warm-up at the same rate (the cold start's ramp is not the steady state), then measure.
    await steadyConsumer(client, 1_000_000, 1);
    const before = client.stats();
    const measured = await steadyConsumer(client, 1_000_000, seconds);
    const after = client.stats();
    return {
      ...measured,
      waited: after.waited - before.waited,
      refills: after.refills - before.refills,
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
  console.log(
    `  next() from a warm buffer:        ${fmt(warm.idsPerSecond).padStart(11)} IDs/s wall clock, ${fmt(warm.idsPerCpuSecond)} per CPU-second of this process (target >= 20,000,000; ${fmt(warm.ids)} awaited calls)`,
  );
  console.log(
    `  the floor, awaiting a resolved promise in a loop (rounds alternating with the above): ${fmt(warm.floorPerSecond)} /s wall clock; next() costs ${(1e9 / warm.idsPerSecond - 1e9 / warm.floorPerSecond).toFixed(0)} ns beyond the await itself`,
  );
  const steady = await steadyFromOneGenerator(repo, 10);
  const h = steady.histogram;
  console.log(
    `  1 M IDs/s from one generator, 10 s: ${fmt(steady.idsPerSecond)} IDs/s; next() p50 ${h.quantileMicros(0.5)} µs, p99 ${h.quantileMicros(0.99)} µs, p99.9 ${h.quantileMicros(0.999)} µs, max ${(h.max * 1000).toFixed(0)} µs, calls over 1 ms: ${h.over1ms}, ${steady.slowWithMiss} of them with a buffer miss, the rest this process descheduled (targets p99 <= 2 µs, none over 1 ms); calls that found the buffer empty: ${steady.waited}; load average ${loadavg()[0]?.toFixed(1)}; ${steady.refills} refills, ${steady.failovers} failovers (after 1 s of warm-up at the same rate)`,
  );
  const failover = await failoverUnderLoad(repo, 10, 8);
  console.log(
    `  2 generators, 8 consumers, 10 s, generator 1 SIGKILLed at ${failover.killedAtS.toFixed(1)} s: ${fmt(failover.idsPerSecond)} IDs/s (target >= 2,000,000), ${fmt(failover.total)} IDs, errors ${failover.errors}${failover.firstError ? ` (${(failover.firstError as Error).message})` : ""}, duplicates ${failover.duplicates}, failovers ${failover.stats.failovers}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runClientBenchmarks(fileURLToPath(new URL("..", import.meta.url)));
}
