// Generator start-up cost: exec -> /readyz 200, CPU-seconds, wall and peak RSS of the process alone
// (from /proc at the moment it first answers 200), beside a bare `node -e 0` and the generator as it
// was before issue 10 (BASELINE_REF), standalone and in lease mode against a real API server with
// the real operator allocating. `npm run bench:startup` runs only this; `npm run bench` ends with it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleGenerator } from "../scripts/bundle-generator.ts";
import { freePort } from "./http-bench.ts";

/** The commit the issue measured (generator with client-node, swagger-ui at start, no drain). */
export const BASELINE_REF = "461f571";
const RUNS = 5;
/** V8 flags the image's entrypoint passes (Dockerfile.generator); kept here in one place for the bench. */
export const GENERATOR_NODE_FLAGS = ["--max-semi-space-size=1"];

const repo = fileURLToPath(new URL("..", import.meta.url));

interface StartSample {
  cpuSeconds: number;
  wallSeconds: number;
  peakRssBytes: number;
}

/** CPU and peak RSS of a live process from /proc (100 Hz ticks). */
function procUsage(pid: number): { cpuSeconds: number; peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100,
    peakRssBytes: hwm ? Number(hwm[1]) * 1024 : Number.NaN,
  };
}

/** Spawns `args`, polls /readyz every 10 ms, reads /proc at the first 200, then stops it with `stopSignal`. */
async function startOnce(
  args: string[],
  env: Record<string, string>,
  port: number,
  stopSignal: NodeJS.Signals = "SIGKILL",
): Promise<StartSample> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? "", ...env, IDGEN_HOST: "127.0.0.1", IDGEN_PORT: String(port) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr.slice(-500)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`not ready within 60 s: ${stderr.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const wallSeconds = (performance.now() - started) / 1000;
    return { ...procUsage(child.pid as number), wallSeconds };
  } finally {
    if (child.exitCode === null) child.kill(stopSignal);
    await exited;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function line(name: string, samples: StartSample[]): string {
  const cpu = median(samples.map((s) => s.cpuSeconds));
  const wall = median(samples.map((s) => s.wallSeconds));
  const rss = median(samples.map((s) => s.peakRssBytes));
  return `  ${name.padEnd(80)} ${cpu.toFixed(2).padStart(5)} CPU-s  ${wall.toFixed(2).padStart(5)} s wall  ${(rss / 2 ** 20).toFixed(0).padStart(4)} MiB peak RSS`;
}

/** `node -e 0` under /usr/bin/time (elapsed, user, system, max RSS). */
function bareNode(): StartSample {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", process.execPath, "-e", "0"], {
    encoding: "utf8",
  });
  const [e, u, s, m] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return { wallSeconds: e!, cpuSeconds: u! + s!, peakRssBytes: m! * 1024 };
}

/** Compiles the generator of `ref` (git archive + tsc) into a temporary tree; returns its main.js. */
function buildRef(ref: string, into: string): string {
  const tar = spawnSync("sh", [
    "-c",
    `git -C "${repo}" archive ${ref} contract generator/src tsconfig.json tsconfig.build.json | tar -x -C "${into}"`,
  ]);
  if (tar.status !== 0) throw new Error(`git archive ${ref}: ${tar.stderr.toString()}`);
  symlinkSync(join(repo, "node_modules"), join(into, "node_modules"));
  writeFileSync(join(into, "package.json"), readFileSync(join(repo, "package.json")));
  mkdirSync(join(into, "operator/src"), { recursive: true });
  const tsc = spawnSync(
    process.execPath,
    [join(repo, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: into, encoding: "utf8" },
  );
  if (tsc.status !== 0) throw new Error(`tsc for ${ref}: ${tsc.stdout.slice(0, 1000)}`);
  return join(into, "dist/generator/src/main.js");
}

/** A generator build: its main.js, and a compile cache filled the way the image fills it. */
interface Build {
  main: string;
  compileCache: string;
}

/**
 * The working tree's generator (uncommitted changes included), both ways: `bundle` as the image
 * ships it (scripts/bundle-generator.ts), `modules` as tsc emits it, one file per module (the image
 * before the bundle). Each with its compile cache filled by warm-compile-cache.js.
 */
async function buildCurrent(into: string): Promise<{ bundle: Build; modules: Build }> {
  symlinkSync(join(repo, "node_modules"), join(into, "node_modules"));
  writeFileSync(join(into, "package.json"), readFileSync(join(repo, "package.json")));
  const tsc = spawnSync(
    process.execPath,
    [
      join(repo, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(into, "dist"),
    ],
    { cwd: repo, encoding: "utf8" },
  );
  if (tsc.status !== 0) throw new Error(`tsc: ${tsc.stdout.slice(0, 1000)}`);
  const modulesDir = join(into, "dist/generator/src");
  const bundleDir = join(into, "bundle");
  await bundleGenerator(bundleDir);
  symlinkSync(join(repo, "node_modules"), join(bundleDir, "node_modules")); // the externals
  return {
    modules: warmed(modulesDir, join(into, "cache-modules")),
    bundle: warmed(bundleDir, join(into, "cache-bundle")),
  };
}

function warmed(dir: string, compileCache: string): Build {
  const warm = spawnSync(process.execPath, [join(dir, "warm-compile-cache.js")], {
    env: { ...process.env, NODE_COMPILE_CACHE: compileCache },
    encoding: "utf8",
  });
  if (warm.status !== 0) throw new Error(`warm-compile-cache: ${warm.stderr}`);
  spawnSync("chmod", ["-R", "a-w", compileCache]); // read-only, as in the image
  return { main: join(dir, "main.js"), compileCache };
}

async function runs(
  args: string[],
  env: Record<string, string>,
  before?: () => Promise<void>,
  stopSignal?: NodeJS.Signals,
): Promise<StartSample[]> {
  const samples: StartSample[] = [];
  for (let i = 0; i < RUNS; i++) {
    await before?.();
    samples.push(await startOnce(args, env, await freePort(), stopSignal));
  }
  return samples;
}

/** Lease mode: a control plane, the operator, a one-pod fleet; each run is a fresh pod with its own lease. */
async function leaseModeRuns(
  builds: { name: string; args: string[]; env: Record<string, string> }[],
): Promise<string[]> {
  const [{ default: setup }, k8s, harness, naming, records, access, userKubeconfig] = await Promise.all([
    import("../e2e/control-plane/global-setup.ts"),
    import("@kubernetes/client-node"),
    import("../operator/test/operator-harness.ts"),
    import("../operator/src/reconcile/fleet-naming.ts"),
    import("../contract/lease-record.ts"),
    import("../e2e/control-plane/api-server-access.ts"),
    import("../e2e/control-plane/user-kubeconfig.ts"),
  ]);
  const layout = await import("../contract/id-layout-math.ts");
  const { parseIdLayout } = await import("../contract/id-layout.ts");
  const math = layout.layoutMath(parseIdLayout({}));
  const provided: Record<string, unknown> = {};
  const teardown = await setup({
    provide: (key: string, value: unknown) => (provided[key] = value),
  } as never);
  const out: string[] = [];
  try {
    const admin = new k8s.KubeConfig();
    admin.loadFromFile(provided.kubeconfig as string);
    const core = admin.makeApiClient(k8s.CoreV1Api);
    const ns = "bench";
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const op = await harness.startTestOperator(admin, ns, "bench-op");
    try {
      await harness.createFleet(admin, ns, "ids", { replicas: 1, service: { port: 8080 } });
      const saName = naming.fleetObjectNames("ids").serviceAccount;
      await harness.waitFor("service account", () =>
        core.readNamespacedServiceAccount({ name: saName, namespace: ns }),
      );
      await harness.waitFor("role binding", () =>
        admin
          .makeApiClient(k8s.RbacAuthorizationV1Api)
          .readNamespacedRoleBinding({ name: naming.fleetObjectNames("ids").roleBinding, namespace: ns }),
      );
      const sa = await userKubeconfig.kubeConfigForServiceAccount(admin, ns, saName);
      const dir = mkdtempSync(join(tmpdir(), "idfleet-bench-sa-"));
      const a = access.apiServerAccessOf(sa);
      writeFileSync(join(dir, "token"), a.token ?? "");
      writeFileSync(join(dir, "ca.crt"), a.ca ?? "");
      writeFileSync(join(dir, "kubeconfig"), sa.exportConfig());
      const server = new URL(a.server);
      const pod = "ids-0";
      let uid = "";
      // Before each run: the previous pod is gone and a new one has its lease offered.
      const freshPod = async () => {
        if (uid)
          await core
            .deleteNamespacedPod({ name: pod, namespace: ns, gracePeriodSeconds: 0 })
            .catch(() => undefined);
        const previous = uid;
        uid = await harness.waitFor("a new pod", async () => {
          const p = await core.readNamespacedPod({ name: pod, namespace: ns });
          return p.metadata?.uid && p.metadata.uid !== previous && !p.metadata.deletionTimestamp
            ? p.metadata.uid
            : undefined;
        });
        const lease = await harness.waitFor("its lease", async () => {
          const cm = await core.readNamespacedConfigMap({
            name: records.leaseNameForPod(pod),
            namespace: ns,
          });
          const data = records.parseLeaseData(cm.data);
          return data.holderUid === uid ? data : undefined;
        });
        // A reused worker id may issue only past the previous holder's reservation: wait that out
        // here, so the run measures start-up, not the handover.
        const handoverMs = layout.tickStartMs(math, lease.handoverAfter + 1) - Date.now();
        if (handoverMs > 0) await new Promise((r) => setTimeout(r, handoverMs + 100));
      };
      for (const b of builds) {
        const samples: StartSample[] = [];
        for (let i = 0; i < RUNS; i++) {
          await freshPod();
          const env = {
            ...b.env,
            POD_NAME: pod,
            POD_UID: uid,
            POD_NAMESPACE: ns,
            IDGEN_FLEET: "ids",
            IDGEN_ID_SPACE: "ids",
            IDGEN_DRAIN_SECONDS: "0",
            KUBECONFIG: join(dir, "kubeconfig"), // the old generator's client-node reads this
            KUBERNETES_SERVICE_HOST: server.hostname,
            KUBERNETES_SERVICE_PORT: server.port,
            IDGEN_SERVICE_ACCOUNT_DIR: dir,
          };
          // SIGTERM: the lease is released, so the next pod gets one at once.
          samples.push(await startOnce(b.args, env, await freePort(), "SIGTERM"));
        }
        out.push(line(b.name, samples));
      }
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await op.stop();
    }
  } finally {
    await teardown();
  }
  return out;
}

/** Runs the start-up benchmark and prints its lines. */
export async function runStartupBench(): Promise<void> {
  console.log(
    `\nGenerator start-up, exec -> /readyz 200, the process alone (median of ${RUNS}; targets: <= 0.35 CPU-s, <= 85 MiB):`,
  );
  console.log(line("bare `node -e 0`", Array.from({ length: RUNS }, bareNode)));
  const work = mkdtempSync(join(tmpdir(), "idfleet-bench-start-"));
  try {
    mkdirSync(join(work, "before"));
    mkdirSync(join(work, "after"));
    const before = buildRef(BASELINE_REF, join(work, "before"));
    const { bundle: after, modules } = await buildCurrent(join(work, "after"));
    const standalone = { IDGEN_WORKER_ID: "1", IDGEN_DRAIN_SECONDS: "0" };
    const configs: { name: string; args: string[]; env: Record<string, string> }[] = [
      { name: `standalone, before (${BASELINE_REF})`, args: [before], env: {} },
      {
        name: "standalone, after, one file per module (tsc), compile cache",
        args: [...GENERATOR_NODE_FLAGS, modules.main],
        env: { NODE_COMPILE_CACHE: modules.compileCache },
      },
      {
        name: "standalone, after, bundle, no compile cache",
        args: [...GENERATOR_NODE_FLAGS, after.main],
        env: {},
      },
      {
        name: "standalone, after, bundle + compile cache, as the image runs it",
        args: [...GENERATOR_NODE_FLAGS, after.main],
        env: { NODE_COMPILE_CACHE: after.compileCache },
      },
    ];
    for (const c of configs) console.log(line(c.name, await runs(c.args, { ...standalone, ...c.env })));
    // The baseline generator reads its ledger from its own namespace under its fleet's bare name;
    // since id spaces became cluster-wide the ledger lives in the operator's namespace, keyed by
    // namespace/name, so it would wait forever for a claim. Its figure is the one measured then.
    const recorded = { cpuSeconds: 0.79, wallSeconds: 1.46, peakRssBytes: 156 * 2 ** 20 };
    console.log(
      `${line(`lease mode (real API server), before (${BASELINE_REF})`, [recorded])}  (recorded before the ledger moved; it cannot run against today's)`,
    );
    const leaseBuilds: { name: string; args: string[]; env: Record<string, string> }[] = [
      {
        name: "lease mode (real API server), after, one file per module (tsc), compile cache",
        args: [...GENERATOR_NODE_FLAGS, modules.main],
        env: { NODE_COMPILE_CACHE: modules.compileCache },
      },
      {
        name: "lease mode (real API server), after, bundle, as the image runs it",
        args: [...GENERATOR_NODE_FLAGS, after.main],
        env: { NODE_COMPILE_CACHE: after.compileCache },
      },
    ];
    if (!existsSync(join(process.env.HOME ?? "", ".cache/idfleet")) && !process.env.IDFLEET_BINARIES) {
      console.log(
        "  lease mode: skipped (no Kubernetes binaries in ~/.cache/idfleet; `npm run cluster:up` builds them)",
      );
    } else {
      for (const l of await leaseModeRuns(leaseBuilds)) console.log(l);
    }
  } finally {
    spawnSync("chmod", ["-R", "u+w", work]);
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runStartupBench();
