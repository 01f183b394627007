// `npm run bench:cluster`: IDs per second to one application process through the local cluster's
// Services, and the generator CPU they cost: `@idfleet/client` (next() from its buffer, refilled
// through the headless Service) beside `GET /v1/id`, one request per ID on kept-alive connections
// through the client Service. Needs the cluster of `npm run up` (KUBECONFIG or ~/.kube/config);
// works in its own namespace, deleted at the end. Every load loop is bounded in time.
import { loadavg, cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { LeaseLabel } from "../contract/lease-record.ts";
import { k, kJson } from "../cluster/client/cluster-access.ts";
import { applyFleet, localFleet, waitForFleetReady } from "../cluster/client/fleet-resources.ts";
import { requireImage } from "../cluster/client/images.ts";
import { installOperator } from "../cluster/client/operator-install.ts";
import {
  startIdConsumer,
  type ConsumerProgress,
  type ConsumerSettings,
} from "../e2e/suite/support/id-consumer-pod.ts";

const NAMESPACE = process.env.BENCH_NAMESPACE ?? "idfleet-bench";
const FLEET = "bench";
const PORT = 8080;
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 2);
/** Measured seconds per run, after WARMUP_S. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_S = 3;
const IDLE_S = 10;
/** Runs of each kind, alternating, so a change in the machine's load shows in both. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENT_LOOPS = 4;
const GET_CONNECTIONS = 16;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** CPU the fleet's generator containers used so far, ns (their cgroups, read inside each container). */
async function generatorCpuNs(): Promise<{ atMs: number; ns: number }> {
  const pods = (
    await kJson<{ items: { metadata: { name: string } }[] }>([
      "get",
      "pods",
      "-n",
      NAMESPACE,
      "-l",
      `${LeaseLabel.fleet}=${FLEET}`,
    ])
  ).items.map((p) => p.metadata.name);
  const before = Date.now();
  // cgroup v1 (cpuacct.usage, ns) or v2 (cpu.stat usage_usec).
  const read =
    "cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage 2>/dev/null || " +
    "awk '/^usage_usec/ {print $2 * 1000}' /sys/fs/cgroup/cpu.stat";
  const values = await Promise.all(
    pods.map(async (pod) => Number((await k(["exec", "-n", NAMESPACE, pod, "--", "sh", "-c", read])).trim())),
  );
  if (values.some((v) => !Number.isFinite(v)))
    throw new Error(`unreadable cgroup CPU usage in ${pods.join(", ")}`);
  return { atMs: (before + Date.now()) / 2, ns: values.reduce((a, b) => a + b, 0) };
}

/** The PROGRESS line printed closest to `atMs`. */
const nearest = (lines: ConsumerProgress[], atMs: number) =>
  lines.reduce((best, l) => (Math.abs(l.atMs - atMs) < Math.abs(best.atMs - atMs) ? l : best));

type RunFigure = {
  what: string;
  idsPerSecond: number;
  generatorCores: number;
  /** Generator CPU above idle per 1,000 IDs, µs. */
  cpuPer1000: number;
  appCpuPer1000: number;
  maxCallMs: number;
  errors: number;
};

/** One application pod consuming as fast as it can for WARMUP_S + SECONDS; the figures of the last SECONDS. */
async function measure(
  idleCores: number,
  what: string,
  name: string,
  settings: Omit<ConsumerSettings, "maxSeconds" | "record" | "progressMs">,
): Promise<RunFigure> {
  const app = await startIdConsumer(NAMESPACE, requireImage("generator"), name, {
    ...settings,
    maxSeconds: WARMUP_S + SECONDS + 60,
    record: false,
    progressMs: 250,
  });
  try {
    await app.flowing(1);
    await sleep(WARMUP_S * 1000);
    const cpu0 = await generatorCpuNs();
    await sleep(SECONDS * 1000);
    const cpu1 = await generatorCpuNs();
    const result = await app.stop();
    const lines = await app.progress();
    const [p0, p1] = [nearest(lines, cpu0.atMs), nearest(lines, cpu1.atMs)];
    const idsPerSecond = ((p1.delivered - p0.delivered) * 1000) / (p1.atMs - p0.atMs);
    const generatorCores = (cpu1.ns - cpu0.ns) / 1e6 / (cpu1.atMs - cpu0.atMs);
    return {
      what,
      idsPerSecond,
      generatorCores,
      cpuPer1000: (Math.max(0, generatorCores - idleCores) * 1e9) / idsPerSecond,
      appCpuPer1000: (result.cpuSeconds * 1e9) / Math.max(1, result.delivered),
      maxCallMs: result.maxCallMs,
      errors: Object.values(result.errors).reduce((a, b) => a + b, 0),
    };
  } finally {
    await app.remove();
  }
}

async function main(): Promise<void> {
  await installOperator();
  await k(["create", "namespace", NAMESPACE, "--dry-run=client", "-o", "yaml"]).then((yaml) =>
    k(["apply", "-f", "-"], { input: yaml }),
  );
  try {
    await applyFleet(
      NAMESPACE,
      localFleet(FLEET, PORT, {
        replicas: REPLICAS,
        // No CPU limit: the figure is what the work costs, not what a quota allows.
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      }),
    );
    await waitForFleetReady(NAMESPACE, FLEET, 300_000);
    const load0 = loadavg();
    // What the pods use with no traffic (lease renewals, metrics): subtracted from the per-ID cost.
    const idle0 = await generatorCpuNs();
    await sleep(IDLE_S * 1000);
    const idle1 = await generatorCpuNs();
    const idleCores = (idle1.ns - idle0.ns) / 1e6 / (idle1.atMs - idle0.atMs);
    const figures: RunFigure[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      figures.push(
        await measure(
          idleCores,
          `@idfleet/client next(), ${String(CLIENT_LOOPS)} loops, headless Service`,
          `bench-client-${String(round)}`,
          {
            source: "client",
            endpoint: `http://${FLEET}-headless.${NAMESPACE}.svc:${String(PORT)}`,
            concurrency: CLIENT_LOOPS,
            takeSize: 1,
            ratePerSecond: 0,
          },
        ),
      );
      figures.push(
        await measure(
          idleCores,
          `GET /v1/id, ${String(GET_CONNECTIONS)} kept-alive connections, client Service`,
          `bench-get-id-${String(round)}`,
          {
            source: "get-id",
            endpoint: `http://${FLEET}.${NAMESPACE}.svc:${String(PORT)}`,
            concurrency: GET_CONNECTIONS,
            takeSize: 1,
            ratePerSecond: 0,
          },
        ),
      );
    }
    const load1 = loadavg();
    console.log(
      `idfleet in-cluster client benchmark — ${new Date().toISOString()}, ${String(cpus().length)} CPUs (${cpus()[0]?.model ?? "?"}), ` +
        `load average ${load0.map((l) => l.toFixed(2)).join(" ")} before, ${load1.map((l) => l.toFixed(2)).join(" ")} after`,
    );
    console.log(
      `fleet: ${String(REPLICAS)} generator pods (CPU request 100m, no CPU limit); one application pod per run; ` +
        `${String(SECONDS)} s measured after ${String(WARMUP_S)} s warm-up; generator CPU from the containers' cgroups, ` +
        `idle ${idleCores.toFixed(3)} cores (subtracted from the per-ID cost)`,
    );
    for (const f of figures)
      console.log(
        `  ${f.what.padEnd(62)} ${fmt(f.idsPerSecond).padStart(10)} IDs/s  generator ${f.generatorCores.toFixed(2)} cores = ` +
          `${f.cpuPer1000.toFixed(1).padStart(7)} µs CPU above idle per 1,000 IDs; application ${f.appCpuPer1000.toFixed(1)} µs per 1,000 IDs; ` +
          `longest call ${String(f.maxCallMs)} ms; ${String(f.errors)} errors`,
      );
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const client = figures.filter((f) => f.what.startsWith("@idfleet"));
    const get = figures.filter((f) => f.what.startsWith("GET"));
    console.log(
      `  client / GET /v1/id: ${(median(client.map((f) => f.idsPerSecond)) / median(get.map((f) => f.idsPerSecond))).toFixed(1)}x the IDs/s, ` +
        `${(median(get.map((f) => f.cpuPer1000)) / median(client.map((f) => f.cpuPer1000))).toFixed(0)}x less generator CPU per ID (medians)`,
    );
  } finally {
    await k(["delete", "namespace", NAMESPACE, "--wait=false"]).catch(() => "");
  }
}

await main();
