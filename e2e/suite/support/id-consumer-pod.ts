import { execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { apply, k, kJson, suiteKubeconfig } from "../../../cluster/client/cluster-access.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import { kubectlPath } from "../../../cluster/kubectl.ts";
import { REPO_ROOT } from "../../../cluster/paths.ts";
import type { ConsumerProgress, ConsumerResult, ConsumerSettings, FetchedBatch } from "./id-consumer-app.ts";
import { applyNodeScriptPod } from "./node-script-pod.ts";

export type { ConsumerProgress, ConsumerResult, ConsumerSettings, FetchedBatch } from "./id-consumer-app.ts";

const CONFIG_MAP = "idfleet-consumer-app";
const MOUNT = "/opt/idfleet";
const APP = "e2e/suite/support/id-consumer-app.ts";
const CLIENT_DIST = join(REPO_ROOT, "client", "dist");

/** Everything an audit needs from a recording consumer. */
export type ConsumerRecord = {
  /** IDs handed to the application, in the order handed out. */
  delivered: BigUint64Array;
  /** IDs of every /v1/ids answer the client received, answer after answer. */
  fetched: BigUint64Array;
  batches: FetchedBatch[];
};

/** An application pod consuming IDs (id-consumer-app.ts). */
export type IdConsumerPod = {
  /** Resolves once the application has been handed `n` IDs. */
  flowing(n?: number): Promise<void>;
  /** Every PROGRESS line printed so far. */
  progress(): Promise<ConsumerProgress[]>;
  /** Stops consuming and returns what the application saw. */
  stop(): Promise<ConsumerResult>;
  /** After stop(), with `record`: copies the recorded IDs out of the pod. */
  collect(): Promise<ConsumerRecord>;
  /** Deletes the pod. */
  remove(): Promise<void>;
};

/** Builds `@idfleet/client` (client/dist, what `npm pack` ships), so the pod runs the current source. */
async function buildClient(): Promise<void> {
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  await promisify(execFile)(process.execPath, [tsc, "-p", join(REPO_ROOT, "client", "tsconfig.build.json")], {
    timeout: 180_000,
  });
}

/** Every .js file under `dir`, as paths relative to `root`. */
function jsFiles(dir: string, root: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return jsFiles(path, root);
    return e.name.endsWith(".js") ? [relative(root, path)] : [];
  });
}

/**
 * The ConfigMap the pod mounts at MOUNT: the compiled client (dist/...), the application file,
 * and a package.json that makes them ES modules. ConfigMap keys cannot hold slashes, so each file
 * is a key with its path in the mount given by the volume's items.
 */
function appFiles(): { data: Record<string, string>; items: { key: string; path: string }[] } {
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ type: "module" }),
    "id-consumer-app.ts": readFileSync(join(REPO_ROOT, APP), "utf8"),
  };
  for (const path of jsFiles(CLIENT_DIST, CLIENT_DIST))
    files[join("dist", path)] = readFileSync(join(CLIENT_DIST, path), "utf8");
  const data: Record<string, string> = {};
  const items: { key: string; path: string }[] = [];
  for (const [path, text] of Object.entries(files)) {
    const key = path.replaceAll("/", "__");
    data[key] = text;
    items.push({ key, path });
  }
  return { data, items };
}

/** `kubectl exec <pod> -- cat <path>`: the file's bytes. */
async function readPodFile(namespace: string, pod: string, path: string): Promise<Buffer> {
  const child = spawn(
    kubectlPath(),
    [`--kubeconfig=${suiteKubeconfig()}`, "exec", "-n", namespace, pod, "--", "cat", path],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const out: Buffer[] = [];
  let err = "";
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`kubectl exec ${pod} cat ${path} failed (exit ${String(code)}): ${err}`);
  return Buffer.concat(out);
}

/** 64-bit IDs from a little-endian file (copied: a Buffer's offset need not be 8-aligned). */
const idsOf = (bytes: Buffer) => new BigUint64Array(new Uint8Array(bytes).buffer);

/**
 * Starts an application pod in `namespace` (from `image`, any image with Node 24) that consumes IDs
 * as `settings` say, with the current `@idfleet/client` built and mounted into it. Returns once the
 * pod runs.
 */
export async function startIdConsumer(
  namespace: string,
  image: string,
  name: string,
  settings: ConsumerSettings,
): Promise<IdConsumerPod> {
  if (settings.source === "client") await buildClient();
  const { data, items } = appFiles();
  await apply(namespace, [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: CONFIG_MAP }, data }]);
  const script = `import(${JSON.stringify(`${MOUNT}/id-consumer-app.ts`)}).catch((e) => { console.error(e); process.exit(1); })`;
  await applyNodeScriptPod(
    namespace,
    name,
    image,
    script,
    { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    {
      env: { IDFLEET_CONSUMER: JSON.stringify(settings), IDFLEET_CLIENT_MODULE: `${MOUNT}/dist` },
      files: { configMap: CONFIG_MAP, path: MOUNT, items },
    },
  );
  await k(["wait", "-n", namespace, `pod/${name}`, "--for=condition=Ready", "--timeout=120s"], {
    timeoutMs: 130_000,
  });
  const logs = () => k(["logs", "-n", namespace, name]);
  const progress = async () =>
    (await logs())
      .split("\n")
      .filter((l) => l.startsWith("PROGRESS "))
      .map((l) => JSON.parse(l.slice("PROGRESS ".length)) as ConsumerProgress);
  const touch = (file: string) =>
    k(["exec", "-n", namespace, name, "--", "node", "-e", `require("fs").writeFileSync("${file}", "")`]);
  return {
    flowing: async (n = 1000) => {
      await waitFor(
        `${name}: ${String(n)} IDs handed out`,
        async () => {
          const got = (await progress()).at(-1)?.delivered ?? 0;
          if (got < n) throw new Error(`${String(got)} so far`);
          return true;
        },
        { timeoutMs: 60_000 },
      );
    },
    progress,
    stop: async () => {
      await touch("/tmp/stop");
      const line = await waitFor(
        `${name} finished`,
        async () => {
          const found = (await logs()).split("\n").find((l) => l.startsWith("RESULT "));
          if (found) return found;
          const pod = await kJson<{ status: { phase: string } }>(["get", "pod", "-n", namespace, name]);
          if (pod.status.phase !== "Running")
            throw new Error(`${name} is ${pod.status.phase} without a RESULT line:\n${await logs()}`);
          throw new Error("no RESULT line yet");
        },
        { timeoutMs: 90_000 },
      );
      return JSON.parse(line.slice("RESULT ".length)) as ConsumerResult;
    },
    collect: async () => {
      const [delivered, fetched, batches] = await Promise.all([
        readPodFile(namespace, name, "/tmp/delivered.bin"),
        readPodFile(namespace, name, "/tmp/fetched.bin"),
        readPodFile(namespace, name, "/tmp/batches.json"),
      ]);
      await touch("/tmp/collected");
      return {
        delivered: idsOf(delivered),
        fetched: idsOf(fetched),
        batches: JSON.parse(batches.toString("utf8")) as FetchedBatch[],
      };
    },
    remove: async () => {
      await k(["delete", "pod", "-n", namespace, name, "--wait=false", "--ignore-not-found"]);
    },
  };
}
