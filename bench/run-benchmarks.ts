// `npm run bench`: idfleet's generator against its layout's ceiling and against peers.
// Everything runs on loopback, every loop is bounded in time and count. Prints a report.
import { loadavg, cpus } from "node:os";
import { runStartupBench } from "./startup-bench.ts";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_MATH,
  measureIssuerCpuCost,
  measureIssuerBigInt,
  measureIssuerDecimal,
  duplicatesPastSequenceLimit,
  IDFLEET_AS_PEER,
  measurePeer,
  PEERS,
  type InProcessResult,
} from "./in-process-bench.ts";
import { ID_FORMATS, IdFormat } from "../contract/id-encoding.ts";
import { SEQUENCE_STARTS } from "../contract/sequence-start.ts";
import { measureFormat } from "./id-format-bench.ts";
import { saturation, shardSpread } from "./sequence-start-bench.ts";
import {
  fetchAndCheckBatches,
  freePort,
  load,
  rssBytes,
  startServer,
  type LoadResult,
} from "./http-bench.ts";
import { runClientBenchmarks } from "./client-bench.ts";

const IN_PROCESS_MS = 2000;
const IN_PROCESS_CAP = 12_000_000;
const LOAD_SECONDS = 3;
const ROUNDS = 3;
const WARMUP_SECONDS = 1;
const CONNECTIONS = 32;
const BATCH = 10_000;
const BATCH_CONNECTIONS = 4;
const CHECKED_BATCHES = 200;
const READS_PER_MS = 10_000;
const PAST_LIMIT_IDS = 50_000;
const FORMAT_TICKS = 2000;
const SATURATION_TICKS = 20_000;
const SPREAD_IDS = 20_000;
const SPREAD_RATE = 100;
const SHARDS = 16;

const ceiling = DEFAULT_MATH.idsPerSecondPerWorker;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const frac = (n: number) => n.toFixed(3);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function inProcessLine(r: InProcessResult): string {
  const verdict =
    r.duplicates === 0 && r.notIncreasing === 0
      ? "all unique, increasing"
      : `${fmt(r.duplicates)} DUPLICATES, ${fmt(r.notIncreasing)} out of order`;
  return `  ${r.name.padEnd(34)} ${fmt(r.idsPerSecond).padStart(11)} IDs/s  ${frac(r.idsPerSecond / ceiling)} of ceiling  (${fmt(r.count)} IDs checked: ${verdict})`;
}

function loadLine(name: string, r: LoadResult): string {
  return `  ${name.padEnd(34)} ${fmt(r.requestsPerSecond).padStart(8)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  server CPU ${r.cpuMicrosPerRequest.toFixed(0)} µs/req  (non-2xx ${r.non2xx}, errors ${r.errors})`;
}

/** The round with the median request rate. */
function median(rounds: LoadResult[]): LoadResult {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[sorted.length >> 1] as LoadResult;
}

async function main(): Promise<void> {
  const repo = fileURLToPath(new URL("..", import.meta.url));
  console.log(
    `idfleet benchmark — ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`layout 41/10/12 at 1 ms: ceiling ${fmt(ceiling)} IDs/s per worker (2^12 per tick)\n`);

  console.log(
    `In-process generation (${IN_PROCESS_MS / 1000} s or ${fmt(IN_PROCESS_CAP)} IDs each, one worker):`,
  );
  console.log(inProcessLine(measureIssuerDecimal(IN_PROCESS_MS, IN_PROCESS_CAP)));
  console.log(inProcessLine(measureIssuerBigInt(IN_PROCESS_MS, IN_PROCESS_CAP)));
  for (const peer of PEERS) console.log(inProcessLine(measurePeer(peer, IN_PROCESS_MS, IN_PROCESS_CAP)));
  const cost = measureIssuerCpuCost(20_000_000);
  console.log(
    `  CPU cost of issuing + decimal encoding alone (simulated clock, no waiting): ${cost.nsPerId.toFixed(0)} ns/ID = ${fmt(cost.idsPerSecond)} IDs/s, ${frac(cost.idsPerSecond / ceiling)}x the ceiling; a full 4,096-ID tick takes ${((cost.nsPerId * DEFAULT_MATH.idsPerTick) / 1e6).toFixed(2)} ms of CPU`,
  );

  // Three rounds each, best kept: the first rounds of a format include its JIT warm-up.
  console.log(`\nID formats, encoding ${fmt(FORMAT_TICKS)} full ticks of one worker (CPU only, best of 3):`);
  for (const format of ID_FORMATS) {
    const runs = [0, 1, 2].map((k) =>
      measureFormat(DEFAULT_MATH, format, FORMAT_TICKS, 91_235_153_327 + k * FORMAT_TICKS),
    );
    const best = runs.reduce((a, b) => (b.nsPerId < a.nsPerId ? b : a));
    const order =
      format === IdFormat.decimal
        ? "decimal: compare as numbers"
        : runs.some((r) => r.notIncreasing)
          ? "STRINGS OUT OF ORDER"
          : "strings strictly increasing";
    console.log(
      `  ${format.padEnd(8)} ${best.nsPerId.toFixed(0).padStart(4)} ns/ID = ${fmt(best.idsPerSecond).padStart(11)} IDs/s, ${frac(best.idsPerSecond / ceiling)}x the ceiling  (${order})`,
    );
  }

  console.log(
    `\nSequence start zero vs rolling (the real issuer on a simulated clock, ${fmt(SATURATION_TICKS)} ticks; demand in 100-ID requests, uniform 0..2x the offered mean per tick):`,
  );
  for (const offered of [0.25, 0.5, 0.9, 1.0, 1.2]) {
    const cells = SEQUENCE_STARTS.map((start) => {
      const r = saturation(DEFAULT_MATH, start, offered, SATURATION_TICKS);
      return `${start} ${frac(r.served)} served, waits in ${((r.ticksWithWaiting / SATURATION_TICKS) * 100).toFixed(1).padStart(5)}% of ticks, mean wait ${r.meanWaitTicks.toFixed(2)} ticks`;
    });
    console.log(`  offered ${frac(offered)} of 2^S per tick:  ${cells.join("  |  ")}`);
  }
  for (const start of SEQUENCE_STARTS) {
    const r = shardSpread(DEFAULT_MATH, start, SPREAD_RATE, SPREAD_IDS, SHARDS);
    console.log(
      `  id % ${SHARDS} at ${SPREAD_RATE} IDs/s (${fmt(SPREAD_IDS)} IDs), ${start.padEnd(7)}: shares ${r.shares.map((x) => (x * 100).toFixed(1)).join(" ")} %; largest ${r.skew.toFixed(2)}x an even share`,
    );
  }

  console.log(
    `\nPast 4,096 IDs in one millisecond, made deterministic (Date.now() advances 1 ms per ${fmt(READS_PER_MS)} reads, ${fmt(PAST_LIMIT_IDS)} IDs):`,
  );
  for (const generator of [...PEERS, IDFLEET_AS_PEER]) {
    const r = duplicatesPastSequenceLimit(generator, PAST_LIMIT_IDS, READS_PER_MS);
    const verdict =
      r.duplicates === 0 && r.notIncreasing === 0
        ? "no duplicates (waits for the next millisecond)"
        : `${fmt(r.duplicates)} DUPLICATES, ${fmt(r.notIncreasing)} out of order`;
    console.log(`  ${generator.name.padEnd(34)} ${verdict}`);
  }

  const generatorPort = await freePort();
  const barePort = await freePort();
  const generator = await startServer(
    "generator",
    `${repo}generator/src/main.ts`,
    [],
    {
      IDGEN_WORKER_ID: "1",
      IDGEN_HOST: "127.0.0.1",
      IDGEN_PORT: String(generatorPort),
      IDGEN_MAX_BATCH: String(BATCH),
      // Stop at once: the drain is for Services, not for a benchmark on loopback.
      IDGEN_DRAIN_SECONDS: "0",
    },
    generatorPort,
    "/readyz",
  );
  const bare = await startServer(
    "bare fastify",
    `${repo}bench/bare-fastify-server.ts`,
    [String(barePort)],
    {},
    barePort,
    "/v1/id",
  );
  try {
    const idleRss = rssBytes(generator.pid);
    console.log(
      `\nHTTP on loopback (autocannon, ${CONNECTIONS} connections, ${LOAD_SECONDS} s after ${WARMUP_SECONDS} s warm-up each):`,
    );
    await load(`${bare.url}/v1/id`, bare.pid, WARMUP_SECONDS, CONNECTIONS);
    await load(`${generator.url}/v1/id`, generator.pid, WARMUP_SECONDS, CONNECTIONS);
    // Alternate the two servers so a change in machine load hits both alike; report medians.
    const bareRounds: LoadResult[] = [];
    const singleRounds: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bareRounds.push(await load(`${bare.url}/v1/id`, bare.pid, LOAD_SECONDS, CONNECTIONS));
      singleRounds.push(await load(`${generator.url}/v1/id`, generator.pid, LOAD_SECONDS, CONNECTIONS));
    }
    const bareResult = median(bareRounds);
    const single = median(singleRounds);
    console.log(loadLine("bare fastify route", bareResult));
    console.log(loadLine("generator GET /v1/id", single));
    const perRound = singleRounds.map((r, k) =>
      frac(r.requestsPerSecond / (bareRounds[k] as LoadResult).requestsPerSecond),
    );
    const cpuRatio = median(bareRounds).cpuMicrosPerRequest / single.cpuMicrosPerRequest;
    console.log(
      `  ratio generator / bare fastify: ${frac(single.requestsPerSecond / bareResult.requestsPerSecond)} req/s (median of ${ROUNDS} alternating rounds; per round ${perRound.join(", ")}); by server CPU per request ${frac(cpuRatio)}`,
    );

    const batchUrl = `${generator.url}/v1/ids?count=${BATCH}`;
    console.log(`\nBatches GET /v1/ids?count=${BATCH}:`);
    const batch = await load(batchUrl, generator.pid, LOAD_SECONDS * 2, BATCH_CONNECTIONS);
    const batchIds = batch.requestsPerSecond * BATCH;
    console.log(
      `  autocannon, ${BATCH_CONNECTIONS} connections:      ${fmt(batchIds).padStart(11)} IDs/s  ${frac(batchIds / ceiling)} of ceiling  (${fmt(batch.requestsPerSecond)} req/s, p50 ${batch.p50Ms} ms, p99 ${batch.p99Ms} ms, non-2xx ${batch.non2xx})`,
    );
    // Server CPU per batch: what batches cost the process whatever else loads the machine
    // (waits for the next tick sleep, so they cost next to nothing).
    const idsPerCpuSecond = BATCH / (batch.cpuMicrosPerRequest / 1e6);
    console.log(
      `  server CPU ${(batch.cpuMicrosPerRequest / 1000).toFixed(2)} ms per batch (waits for the next tick included) = ${fmt(idsPerCpuSecond)} IDs per CPU-second (${frac(idsPerCpuSecond / ceiling)}x the ceiling); the load client used ${(batch.clientCpuMicrosPerRequest / 1000).toFixed(2)} ms per batch`,
    );
    const checked = await fetchAndCheckBatches(batchUrl, CHECKED_BATCHES);
    console.log(
      `  fetch, 1 connection, all checked: ${fmt(checked.idsPerSecond).padStart(11)} IDs/s  ${frac(checked.idsPerSecond / ceiling)} of ceiling  (${fmt(checked.ids)} IDs, ${checked.notIncreasing === 0 ? "all unique, increasing" : `${checked.notIncreasing} OUT OF ORDER`})`,
    );

    for (const format of ID_FORMATS.filter((f) => f !== IdFormat.decimal)) {
      const formatted = await load(
        `${batchUrl}&format=${format}`,
        generator.pid,
        LOAD_SECONDS * 2,
        BATCH_CONNECTIONS,
      );
      const ids = formatted.requestsPerSecond * BATCH;
      console.log(
        `  format=${format}, autocannon ${BATCH_CONNECTIONS} conn.: ${fmt(ids).padStart(11)} IDs/s  ${frac(ids / ceiling)} of ceiling  (${fmt(formatted.requestsPerSecond)} req/s, p50 ${formatted.p50Ms} ms, p99 ${formatted.p99Ms} ms, server CPU ${(formatted.cpuMicrosPerRequest / 1000).toFixed(2)} ms per batch, non-2xx ${formatted.non2xx})`,
      );
    }

    console.log(
      `\nGenerator resident memory (from source; the compiled image uses about 20 MiB less): ${mib(idleRss)} idle, max ${mib(Math.max(single.maxRssBytes, batch.maxRssBytes))} under load (single ${mib(single.maxRssBytes)}, batches ${mib(batch.maxRssBytes)})`,
    );
    console.log(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  } finally {
    await generator.stop();
    await bare.stop();
  }
  await runStartupBench();
  await runClientBenchmarks(repo);
}

await main();
