/**
 * `npm run cluster:down`: removes every process, container, mount, iptables rule, network device,
 * cgroup, kubeconfig entry and directory that `cluster:up` created, and restores the sysctls it changed.
 * Safe to run when nothing (or only part of the cluster) is up. Logs are kept.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLUSTER, CLUSTER_DIRS } from "./cluster-settings.ts";
import { clusterProcesses, readClusterState } from "./cluster-state.ts";
import { isAlive, readPidFile, stopPid } from "./component-process.ts";
import { removeDevice, removeIptablesState, setSysctl } from "./host-network.ts";
import { kubectl } from "./kubectl.ts";
import { binary, IDFLEET_TMP } from "./paths.ts";

const log = (message: string) => console.error(`[cluster:down] ${message}`);

function ctr(args: string[]): string {
  return execFileSync("ctr", ["--address", CLUSTER_DIRS.containerdSocket, "-n", "k8s.io", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    timeout: 30_000,
  });
}

/** Kills and deletes every container of the node; returns the network namespaces they used. */
async function removeContainers(): Promise<string[]> {
  if (!existsSync(CLUSTER_DIRS.containerdSocket)) return [];
  const netns = new Set<string>();
  let containers: string[];
  try {
    containers = ctr(["containers", "ls", "-q"]).split("\n").filter(Boolean);
  } catch {
    return [];
  }
  for (const id of containers) {
    try {
      const info = JSON.parse(ctr(["containers", "info", id])) as {
        Spec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
      };
      for (const ns of info.Spec?.linux?.namespaces ?? [])
        if (ns.type === "network" && ns.path) netns.add(ns.path);
    } catch {
      // a container without readable info still gets killed below
    }
  }
  for (const id of containers) {
    try {
      ctr(["tasks", "kill", "--signal", "SIGKILL", id]);
    } catch {
      // no running task
    }
  }
  await sleep(500);
  for (const id of containers) {
    try {
      ctr(["tasks", "delete", "--force", id]);
    } catch {
      // already gone
    }
    try {
      ctr(["containers", "delete", id]);
    } catch {
      // already gone
    }
  }
  log(`removed ${containers.length} container(s)`);
  return [...netns];
}

/** Processes whose command line mentions the cluster's state dir (containerd shims, container processes). */
function strayProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(CLUSTER_DIRS.containerd)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Mount points at or below `prefix`, deepest first. */
function mountsUnder(prefix: string): string[] {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((m): m is string => m !== undefined && (m === prefix || m.startsWith(`${prefix}/`)))
    .map((m) => m.replace(/\\040/g, " "));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

function unmount(path: string): boolean {
  for (const args of [[path], ["-l", path]]) {
    try {
      execFileSync("umount", args, { stdio: "ignore" });
      return true;
    } catch {
      // try lazily next
    }
  }
  return false;
}

/** Removes the named top-level cgroup trees (depth first) in every cgroup v1 hierarchy and in cgroup v2. */
function removeCgroupTrees(names: string[]): number {
  let removed = 0;
  const rmTree = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const child = join(dir, entry);
      try {
        if (statSync(child).isDirectory()) rmTree(child);
      } catch {
        // vanished
      }
    }
    try {
      rmdirSync(dir);
      removed++;
    } catch {
      // still busy or already gone
    }
  };
  const roots = ["/sys/fs/cgroup", ...readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h))];
  for (const root of roots) {
    for (const name of names) {
      const dir = join(root, name);
      if (existsSync(dir)) rmTree(dir);
    }
  }
  return removed;
}

async function removeKubeconfigEntries(previousContext: string | undefined): Promise<void> {
  const kubeconfig = join(homedir(), ".kube", "config");
  if (!existsSync(kubeconfig) || !existsSync(binary("kubectl"))) return;
  const options = { kubeconfig };
  const current = (await kubectl(["config", "current-context"], options).catch(() => "")).trim();
  for (const args of [
    ["config", "delete-context", CLUSTER.name],
    ["config", "delete-cluster", CLUSTER.name],
    ["config", "delete-user", CLUSTER.name],
  ]) {
    await kubectl(args, options).catch(() => "");
  }
  if (current === CLUSTER.name) {
    if (previousContext) await kubectl(["config", "use-context", previousContext], options).catch(() => "");
    else await kubectl(["config", "unset", "current-context"], options).catch(() => "");
  }
}

/** Tears the local cluster down completely. */
export async function clusterDown(): Promise<void> {
  const state = readClusterState();
  const processes = clusterProcesses();
  const pid = (name: string) => processes.find((p) => p.name === name)?.pid;

  await removeKubeconfigEntries(state?.previousContext);

  // Node agents first, so nothing restarts the containers we are about to remove.
  for (const name of ["kubelet", "kube-proxy", "coredns", "metrics-server"]) {
    const p = pid(name);
    if (p !== undefined) await stopPid(p);
  }
  const netns = await removeContainers();
  const containerdPid = pid("containerd");
  if (containerdPid !== undefined) await stopPid(containerdPid);
  for (const stray of strayProcesses()) await stopPid(stray, 2_000);
  for (const name of ["kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]) {
    const p = pid(name);
    if (p !== undefined) await stopPid(p);
  }
  const leftover = clusterProcesses().filter((p) => p.alive);
  if (leftover.length > 0)
    log(`WARNING: still running: ${leftover.map((p) => `${p.name}(${p.pid})`).join(", ")}`);

  // Network: kube-proxy's own cleanup, then anything tagged or chained by the cluster (kubelet, CNI).
  if (existsSync(binary("kube-proxy"))) {
    try {
      execFileSync(binary("kube-proxy"), ["--cleanup"], { stdio: "ignore", timeout: 60_000 });
    } catch {
      // best effort: the generic sweep below removes what is left
    }
  }
  const rules = removeIptablesState(CLUSTER.iptablesComment, ["KUBE-", "CNI-"]);
  if (rules.length > 0) log(`removed ${rules.length} iptables rule(s)/chain(s)`);
  for (const path of netns) {
    unmount(path);
    rmSync(path, { force: true });
  }
  let unmounted = 0;
  for (const mount of mountsUnder(CLUSTER_DIRS.state)) if (unmount(mount)) unmounted++;
  if (unmounted > 0 || netns.length > 0)
    log(`unmounted ${unmounted} mount(s), removed ${netns.length} network namespace(s)`);
  removeDevice(CLUSTER.podBridge);
  removeDevice(CLUSTER.nodeDevice);
  const cgroups = removeCgroupTrees(["kubepods", "kubepods.slice"]);
  if (cgroups > 0) log(`removed ${cgroups} cgroup(s)`);

  // Files the kubelet and CNI keep outside the state dir.
  if (existsSync("/var/log/containers")) {
    for (const entry of readdirSync("/var/log/containers")) {
      const link = join("/var/log/containers", entry);
      try {
        if (readlinkSync(link).startsWith(CLUSTER_DIRS.podLogs)) unlinkSync(link);
      } catch {
        // not a link
      }
    }
  }
  for (const dir of ["/var/lib/cni/results", "/var/lib/cni/cache/results"]) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir))
      if (entry.startsWith(`${CLUSTER.cniNetworkName}-`)) rmSync(join(dir, entry), { force: true });
  }

  for (const [name, value] of Object.entries(state?.sysctlsBefore ?? {})) {
    try {
      setSysctl(name, value);
    } catch {
      // the sysctl may not exist any more
    }
  }

  // dockerd, when the project's scripts started it (a Docker engine that was already running stays).
  const dockerPidFile = join(IDFLEET_TMP, "docker", "started-by-idfleet.pid");
  const dockerPid = readPidFile(dockerPidFile);
  if (dockerPid !== undefined && isAlive(dockerPid)) {
    await stopPid(dockerPid, 20_000);
    for (const mount of mountsUnder("/var/lib/docker")) unmount(mount);
    removeCgroupTrees(["docker"]);
    log("stopped dockerd");
  }
  rmSync(join(IDFLEET_TMP, "docker"), { recursive: true, force: true });

  const remaining = mountsUnder(CLUSTER_DIRS.state);
  if (remaining.length > 0) log(`WARNING: could not unmount: ${remaining.join(", ")}`);
  else rmSync(CLUSTER_DIRS.state, { recursive: true, force: true });
  log(state || processes.length > 0 ? "cluster removed" : "no cluster was running");
}

if (import.meta.main) await clusterDown();
