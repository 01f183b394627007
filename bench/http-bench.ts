import autocannon from "autocannon";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";

/** A server process under test, on loopback. */
export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `node <script> [args]` and waits (bounded) until `readyPath` answers 200. */
export async function startServer(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    // A process killed by a signal (SIGKILL in the failover benchmark) has signalCode set, not exitCode.
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(url + readyPath)).ok) return { name, url, pid: child.pid as number, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer ${readyPath} on ${url} within 30 s`);
    }
    await sleep(100);
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** CPU time (user + system) a process has used, in seconds (Linux /proc, 100 Hz ticks). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Server CPU time per completed request, microseconds: independent of other load on the machine. */
  cpuMicrosPerRequest: number;
  /** The load client's (this process's) CPU time per completed request, microseconds. */
  clientCpuMicrosPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  maxRssBytes: number;
}

/** Runs autocannon against one URL for a bounded time, sampling the server's RSS. */
export async function load(
  url: string,
  pid: number,
  seconds: number,
  connections: number,
): Promise<LoadResult> {
  let maxRss = rssBytes(pid);
  const cpuBefore = cpuSeconds(pid);
  const clientCpuBefore = process.cpuUsage();
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssBytes(pid))), 100);
  try {
    const result = await autocannon({ url, connections, pipelining: 1, duration: seconds });
    const requests = result["2xx"] + result.non2xx;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    return {
      requestsPerSecond: result.requests.average,
      cpuMicrosPerRequest: ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, requests),
      clientCpuMicrosPerRequest: (clientCpu.user + clientCpu.system) / Math.max(1, requests),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      maxRssBytes: maxRss,
    };
  } finally {
    clearInterval(sampler);
  }
}

export interface BatchCheckResult {
  ids: number;
  idsPerSecond: number;
  notIncreasing: number;
}

/**
 * Fetches `requests` batches one after another and checks that every ID in every batch
 * is greater than the one before it (so all are unique).
 */
export async function fetchAndCheckBatches(url: string, requests: number): Promise<BatchCheckResult> {
  let previous = -1n;
  let ids = 0;
  let notIncreasing = 0;
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { ids: string[] };
    for (const text of body.ids) {
      const id = BigInt(text);
      if (id <= previous) notIncreasing++;
      previous = id;
      ids++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { ids, idsPerSecond: ids / seconds, notIncreasing };
}
