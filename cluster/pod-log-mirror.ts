/**
 * Keeps copies of every container log of the local cluster after the pod is gone.
 *
 * The kubelet deletes a pod's log directory together with the pod, and the e2e suite deletes pods all
 * the time (rollouts, scale-downs, chaos faults, namespace cleanup). A failure seen in CI is then
 * undiagnosable. This mirror appends whatever the kubelet has written since the last pass to
 * LOG_ROOT/pod-logs/<namespace>/<pod>_<uid>/<container>/<restart>.log, so the lines survive the pod.
 *
 * Run as `node cluster/pod-log-mirror.ts` (run-e2e.sh does, for the length of the suite); it stops on
 * SIGTERM/SIGINT after one last pass.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, readSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_DIRS } from "./cluster-settings.ts";
import { LOG_ROOT } from "./paths.ts";

/** How far each mirrored file has been copied, by source path. */
export type MirrorProgress = Map<string, number>;

/** Where the copies go. */
export const POD_LOG_COPIES = join(LOG_ROOT, "pod-logs");

const CHUNK = 1 << 20;

/**
 * One pass: appends to `dest` what each container log below `source` (kubelet layout
 * `<ns>_<pod>_<uid>/<container>/<n>.log`) gained since the previous pass. Returns the bytes copied.
 */
export function mirrorOnce(source: string, dest: string, progress: MirrorProgress): number {
  let copied = 0;
  for (const podDir of list(source)) {
    const [namespace, pod, uid] = podDir.split("_");
    if (namespace === undefined || pod === undefined || uid === undefined) continue;
    for (const container of list(join(source, podDir))) {
      for (const file of list(join(source, podDir, container))) {
        if (!/^\d+\.log$/.test(file)) continue; // rotated, compressed files were copied while current
        const from = join(source, podDir, container, file);
        const to = join(dest, namespace, `${pod}_${uid.slice(0, 8)}`, container, file);
        copied += appendNewBytes(from, to, progress);
      }
    }
  }
  return copied;
}

function appendNewBytes(from: string, to: string, progress: MirrorProgress): number {
  let size: number;
  try {
    size = statSync(from).size;
  } catch {
    return 0; // deleted between listing and reading
  }
  let offset = progress.get(from) ?? 0;
  if (size < offset) {
    // The kubelet rotated the file under the same name: start over, and say so in the copy.
    mkdirSync(join(to, ".."), { recursive: true });
    appendFileSync(to, `--- pod-log-mirror: ${from} was rotated; the copy continues from its start ---\n`);
    offset = 0;
  }
  if (size === offset) return 0;
  mkdirSync(join(to, ".."), { recursive: true });
  let fd: number;
  try {
    fd = openSync(from, "r");
  } catch {
    return 0;
  }
  const buffer = Buffer.allocUnsafe(CHUNK);
  let copied = 0;
  try {
    while (offset < size) {
      const n = readSync(fd, buffer, 0, Math.min(CHUNK, size - offset), offset);
      if (n === 0) break;
      appendFileSync(to, buffer.subarray(0, n));
      offset += n;
      copied += n;
    }
  } finally {
    closeSync(fd);
  }
  progress.set(from, offset);
  return copied;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function main(): void {
  const intervalMs = Number(process.env.POD_LOG_MIRROR_INTERVAL_MS ?? 1000);
  const progress: MirrorProgress = new Map();
  const pass = () => mirrorOnce(CLUSTER_DIRS.podLogs, POD_LOG_COPIES, progress);
  const timer = setInterval(pass, intervalMs);
  const stop = () => {
    clearInterval(timer);
    pass();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (import.meta.main) main();
