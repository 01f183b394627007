/**
 * An application process that consumes IDs, run inside the cluster as a pod by id-consumer-pod.ts
 * (Node runs this file as is: type annotations are stripped, nothing else is needed from the
 * repository). With `source: "client"` it takes IDs from `@idfleet/client` (the built package,
 * from IDFLEET_CLIENT_MODULE); with `source: "get-id"` it fetches them one `GET /v1/id` per ID on
 * kept-alive connections, the way an application without the client does.
 *
 * Settings come as JSON in IDFLEET_CONSUMER; its files are in IDFLEET_CONSUMER_DIR (default /tmp,
 * the paths below). It prints `PROGRESS {...}` every progressMs and, once /tmp/stop appears or maxSeconds pass, `RESULT {...}` (ConsumerResult). With `record`, every ID
 * handed to the application goes to /tmp/delivered.bin, and every /v1/ids answer the client's
 * transport received to /tmp/fetched.bin (IDs in answer order) with one line per answer in
 * /tmp/batches.json (which pod IP answered, when, how many IDs), for the audit on the host.
 * It then waits for /tmp/collected (or 10 minutes) before exiting, so the files can be copied.
 */
import { existsSync, writeFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type * as ClientModule from "../../../client/src/index.ts";
import type * as TransportModule from "../../../client/src/generator-transport.ts";

/** What the pod is told to do. */
export type ConsumerSettings = {
  source: "client" | "get-id";
  /** client: the fleet's base URL (its headless Service); get-id: the base URL of its client Service. */
  endpoint: string;
  /** Concurrent consumer loops (get-id: kept-alive connections). */
  concurrency: number;
  /** client: loops with an odd index call take(takeSize) instead of next(); 1: next() only. */
  takeSize: number;
  /** IDs per second over the whole run; 0: as fast as they come. */
  ratePerSecond: number;
  /** Stop after this long whatever happens (bounded load). */
  maxSeconds: number;
  /** Keep every ID for the audit (files above). */
  record: boolean;
  /** How often to print PROGRESS. */
  progressMs: number;
};

/** One `PROGRESS {json}` line. */
export type ConsumerProgress = {
  /** The pod's clock (the node's), when the line was printed. */
  atMs: number;
  delivered: number;
  errors: Record<string, number>;
  failovers: number;
  refills: number;
};

/** One /v1/ids answer the client received: its IDs are the next `count` in /tmp/fetched.bin. */
export type FetchedBatch = { ip: string; atMs: number; count: number };

/** What the application saw, printed as `RESULT {json}`. */
export type ConsumerResult = {
  source: ConsumerSettings["source"];
  seconds: number;
  /** IDs handed to the application. */
  delivered: number;
  idsPerSecond: number;
  /** Calls that rejected, by error name and message (the first 80 characters). */
  errors: Record<string, number>;
  errorSamples: string[];
  /** From the client's event hooks (client source only). */
  refills: number;
  refilledIds: number;
  failovers: number;
  failoverReasons: Record<string, number>;
  /** The first failovers and calls slower than 250 ms, with their time. */
  failoverSamples: string[];
  slowCalls: string[];
  staleDrops: number;
  endpointChanges: number;
  /** The client's stats() at the end (client source only). */
  stats: Record<string, number> | null;
  /** The layout the client was served, as GET /v1/layout has it (client source only). */
  layout: ClientModule.IdLayout | null;
  /** The longest a call (next, take, one GET) took, ms: a stall short of an error shows here. */
  maxCallMs: number;
  /** CPU seconds this process used (user + system). */
  cpuSeconds: number;
  /** IDs recorded to /tmp/fetched.bin. */
  fetched: number;
};

const CHUNK = 1 << 16;

/** IDs as 64-bit integers in chunks (8 bytes each, no BigInt kept). */
class IdLog {
  private readonly chunks: BigUint64Array[] = [];
  private chunk = new BigUint64Array(CHUNK);
  private used = 0;
  size = 0;
  push(id: bigint): void {
    if (this.used === CHUNK) {
      this.chunks.push(this.chunk);
      this.chunk = new BigUint64Array(CHUNK);
      this.used = 0;
    }
    this.chunk[this.used++] = id;
    this.size++;
  }
  write(path: string): void {
    const parts = [...this.chunks, this.chunk.subarray(0, this.used)];
    writeFileSync(path, Buffer.concat(parts.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
  }
}

const bump = (m: Record<string, number>, key: string) => {
  m[key] = (m[key] ?? 0) + 1;
};

async function main(): Promise<void> {
  const s = JSON.parse(process.env.IDFLEET_CONSUMER ?? "") as ConsumerSettings;
  const dir = process.env.IDFLEET_CONSUMER_DIR ?? "/tmp";
  const started = Date.now();
  const delivered = new IdLog();
  const fetched = new IdLog();
  const batches: FetchedBatch[] = [];
  const r: ConsumerResult = {
    source: s.source,
    seconds: 0,
    delivered: 0,
    idsPerSecond: 0,
    errors: {},
    errorSamples: [],
    refills: 0,
    refilledIds: 0,
    failovers: 0,
    failoverReasons: {},
    failoverSamples: [],
    slowCalls: [],
    staleDrops: 0,
    endpointChanges: 0,
    stats: null,
    layout: null,
    maxCallMs: 0,
    cpuSeconds: 0,
    fetched: 0,
  };
  let stopping = false;
  const fail = (error: unknown) => {
    const e = error as Error;
    const reason = `${e.name}: ${String(e.message).slice(0, 80)}`;
    bump(r.errors, reason);
    if (r.errorSamples.length < 10)
      r.errorSamples.push(`${new Date().toISOString()} ${e.name}: ${e.message}`);
  };
  /** Waits while the loops are ahead of the rate. */
  const paced = async () => {
    while (
      !stopping &&
      s.ratePerSecond > 0 &&
      r.delivered > ((Date.now() - started) * s.ratePerSecond) / 1000
    )
      await sleep(5);
  };
  /** Times one call. */
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await call();
    } finally {
      const ms = performance.now() - t0;
      if (ms > r.maxCallMs) r.maxCallMs = Math.round(ms);
      if (ms > 250 && r.slowCalls.length < 30)
        r.slowCalls.push(`${new Date().toISOString()} ${String(Math.round(ms))} ms`);
    }
  };
  const keep = (id: string) => {
    r.delivered++;
    if (s.record) delivered.push(BigInt(id));
  };

  let loop: (i: number) => Promise<void>;
  let client: ClientModule.IdClient | undefined;
  if (s.source === "client") {
    const lib = process.env.IDFLEET_CLIENT_MODULE ?? "";
    const { createIdClient } = (await import(`${lib}/client/src/index.js`)) as typeof ClientModule;
    const { fetchTransport } = (await import(
      `${lib}/client/src/generator-transport.js`
    )) as typeof TransportModule;
    // The client's own HTTP transport; the application only looks at each answer to learn which
    // pod issued which IDs (the audit checks that pod held a lease on their worker id).
    const base = fetchTransport();
    const transport: TransportModule.GeneratorTransport = {
      async get(url, timeoutMs) {
        const outcome = await base.get(url, timeoutMs);
        if (s.record && outcome.kind === "ok" && url.includes("/v1/ids")) {
          const ids = (JSON.parse(new TextDecoder().decode(outcome.body)) as { ids: string[] }).ids;
          for (const id of ids) fetched.push(BigInt(id));
          batches.push({ ip: new URL(url).hostname, atMs: Date.now(), count: ids.length });
        }
        return outcome;
      },
      close: () => base.close(),
    };
    client = createIdClient({
      endpoints: [s.endpoint],
      ...(s.record ? { transport } : {}),
      events: {
        refill: (e) => {
          r.refills++;
          r.refilledIds += e.ids;
        },
        failover: (e) => {
          r.failovers++;
          // "503 FENCED: ...", "unreachable: ECONNREFUSED", "timeout: ...": the part before the colon.
          bump(r.failoverReasons, e.reason.split(":")[0] ?? e.reason);
          if (r.failoverSamples.length < 30)
            r.failoverSamples.push(
              `${new Date().toISOString()} ${e.endpoint} ${e.reason} (rests ${String(e.restMs)} ms)`,
            );
        },
        staleDrop: () => r.staleDrops++,
        endpointsChanged: () => r.endpointChanges++,
      },
    });
    const ids = client;
    loop = async (i) => {
      while (!stopping) {
        await paced();
        try {
          if (i % 2 === 1 && s.takeSize > 1)
            for (const id of await timed(() => ids.take(s.takeSize))) keep(id);
          else keep(await timed(() => ids.next()));
        } catch (error) {
          fail(error);
          await sleep(100);
        }
      }
    };
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: s.concurrency });
    const url = `${s.endpoint}/v1/id`;
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = http.get(url, { agent, timeout: 5000 }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () =>
            res.statusCode === 200
              ? resolve((JSON.parse(body) as { id: string }).id)
              : reject(
                  Object.assign(new Error(`HTTP ${String(res.statusCode)} ${body.slice(0, 200)}`), {
                    name: "HttpError",
                  }),
                ),
          );
          res.on("error", reject);
        });
        req.on("timeout", () =>
          req.destroy(Object.assign(new Error("no answer within 5000 ms"), { name: "Timeout" })),
        );
        req.on("error", reject);
      });
    loop = async () => {
      while (!stopping) {
        await paced();
        try {
          keep(await timed(get));
        } catch (error) {
          fail(error);
          await sleep(100);
        }
      }
    };
  }

  const progress = setInterval(() => {
    const { delivered: n, errors, failovers, refills } = r;
    const line: ConsumerProgress = { atMs: Date.now(), delivered: n, errors, failovers, refills };
    console.log(`PROGRESS ${JSON.stringify(line)}`);
  }, s.progressMs || 2000);
  const watch = setInterval(() => {
    if (existsSync(`${dir}/stop`) || Date.now() - started > s.maxSeconds * 1000) stopping = true;
  }, 100);
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: s.concurrency }, (_, i) => loop(i)));
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(progress);
  clearInterval(watch);
  r.seconds = (Date.now() - started) / 1000;
  r.idsPerSecond = Math.round(r.delivered / r.seconds);
  r.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (client) {
    r.stats = { ...client.stats() };
    const math = await client.layout().catch(() => undefined);
    r.layout = math ? { ...math.layout } : null;
    await client.close();
  }
  r.fetched = fetched.size;
  if (s.record) {
    delivered.write(`${dir}/delivered.bin`);
    fetched.write(`${dir}/fetched.bin`);
    writeFileSync(`${dir}/batches.json`, JSON.stringify(batches));
  }
  console.log(`RESULT ${JSON.stringify(r)}`);
  const until = Date.now() + 600_000;
  while (s.record && !existsSync(`${dir}/collected`) && Date.now() < until) await sleep(200);
}

await main();
