import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLUSTER_DIRS } from "../../../cluster/cluster-settings.ts";
import { readPidFile, startComponent, stopPid } from "../../../cluster/component-process.ts";
import { ControlPlaneComponent } from "../../../cluster/control-plane.ts";

/** Where Debian's libfaketime lives on the host (package libfaketime). */
export const FAKETIME_LIB_DIR = "/usr/lib/x86_64-linux-gnu/faketime";

/** True when this process runs on the node of the local cluster (not kind): host faults are possible. */
export function onLocalClusterNode(): boolean {
  const pid = readPidFile(join(CLUSTER_DIRS.pids, `${ControlPlaneComponent.apiServer}.pid`));
  return pid !== undefined && existsSync(`/proc/${pid}`);
}

/**
 * The host pid of the process in pod `podUid` whose command line contains `match`. With the
 * cgroupfs driver every container process sits in a cgroup path containing `pod<uid>`.
 */
export function findPodProcess(podUid: string, match: string): number | undefined {
  const needles = [`pod${podUid}`, `pod${podUid.replaceAll("-", "_")}`];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, "utf8");
      if (!needles.some((n) => cgroup.includes(n))) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(match)) return Number(entry);
    } catch {
      // The process exited while we looked.
    }
  }
  return undefined;
}

/** True when the process has `library` mapped (e.g. libfaketime preloaded). */
export function processMaps(pid: number, library: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, "utf8").includes(library);
  } catch {
    return false;
  }
}

/** SIGSTOP for `ms`, then SIGCONT (also when interrupted). */
export async function freezeProcess(pid: number, ms: number): Promise<void> {
  process.kill(pid, "SIGSTOP");
  try {
    await sleep(ms);
  } finally {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // Gone meanwhile (the kubelet may have killed it): nothing to resume.
    }
  }
}

/** A stopped control-plane component, ready to be started again exactly as it ran. */
export type StoppedComponent = { name: string; command: string; args: string[] };

/**
 * Stops a component `cluster:up` started (etcd, kube-apiserver), remembering its binary and
 * arguments (read back from /proc) so startAgain runs it the same way.
 */
export async function stopComponent(name: string): Promise<StoppedComponent> {
  const pidFile = join(CLUSTER_DIRS.pids, `${name}.pid`);
  const pid = readPidFile(pidFile);
  if (pid === undefined) throw new Error(`no ${pidFile}: is the local cluster up (npm run cluster:up)?`);
  const [command, ...args] = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  if (!command) throw new Error(`cannot read the command line of ${name} (pid ${pid})`);
  await stopPid(pid, 30_000);
  return { name, command, args };
}

/** Starts a stopped component again with the same binary, arguments, log and pid file; returns its pid. */
export function startAgain(stopped: StoppedComponent): number {
  return startComponent({
    ...stopped,
    logFile: join(CLUSTER_DIRS.logs, `${stopped.name}.log`),
    detached: true,
    pidFile: join(CLUSTER_DIRS.pids, `${stopped.name}.pid`),
  }).pid;
}

/**
 * Stops the running kube-apiserver and starts it again exactly as `cluster:up` did. Resolves
 * once a new process runs; the caller waits for /readyz.
 */
export async function restartApiServer(): Promise<number> {
  return startAgain(await stopComponent(ControlPlaneComponent.apiServer));
}
