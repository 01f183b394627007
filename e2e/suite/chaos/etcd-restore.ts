import { execFile } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { CLUSTER_DIRS } from "../../../cluster/cluster-settings.ts";
import { readPidFile } from "../../../cluster/component-process.ts";
import { binary } from "../../../cluster/paths.ts";
import { ControlPlaneComponent } from "../../../cluster/control-plane.ts";
import { answers200 } from "../../../cluster/https-probe.ts";
import { k } from "../../../cluster/client/cluster-access.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import { startAgain, stopComponent, type StoppedComponent } from "./host-faults.ts";

const run = promisify(execFile);

/** Past any revision the cluster wrote between snapshot and restore (etcd's own advice: generous). */
const BUMP_REVISION = 1_000_000_000;

function flag(args: string[], name: string): string {
  const value = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (!value) throw new Error(`etcd runs without --${name}=...; cannot restore a snapshot into it`);
  return value;
}

/** The local cluster's etcd client URL, from the running process's arguments. */
function etcdEndpoint(): string {
  const pid = readPidFile(join(CLUSTER_DIRS.pids, `${ControlPlaneComponent.etcd}.pid`));
  if (pid === undefined) throw new Error("no etcd pid file: is the local cluster up (npm run cluster:up)?");
  const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  return flag(args, "advertise-client-urls").split(",")[0]!;
}

/** Saves a snapshot of the running cluster's etcd (etcdctl snapshot save). */
export async function saveEtcdSnapshot(file: string): Promise<void> {
  rmSync(file, { force: true });
  await run(binary("etcdctl"), [`--endpoints=${etcdEndpoint()}`, "snapshot", "save", file], {
    timeout: 60_000,
  });
}

async function startControlPlane(etcd: StoppedComponent, apiServer: StoppedComponent): Promise<void> {
  startAgain(etcd);
  const url = flag(etcd.args, "advertise-client-urls").split(",")[0]!;
  await waitFor("etcd /health", async () => answers200(`${url}/health`), {
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  startAgain(apiServer);
  await waitFor(
    "kube-apiserver /readyz",
    async () => (await k(["get", "--raw=/readyz"], { timeoutMs: 5_000 })).includes("ok"),
    { timeoutMs: 180_000, intervalMs: 1_000 },
  );
}

/**
 * Rolls the whole cluster back to `file`: stops kube-apiserver and etcd, restores the snapshot
 * into etcd's data directory the way Kubernetes' backup docs say (etcdutl snapshot restore
 * --bump-revision --mark-compacted, so every resourceVersion written later is above any handed
 * out before and watches from before the restore relist), and starts both again. If the restore
 * fails, the old data directory goes back, so the cluster is never left without its state.
 */
export async function restoreEtcdSnapshot(file: string): Promise<void> {
  const apiServer = await stopComponent(ControlPlaneComponent.apiServer);
  const etcd = await stopComponent(ControlPlaneComponent.etcd);
  const dataDir = flag(etcd.args, "data-dir");
  const aside = `${dataDir}.before-restore`;
  rmSync(aside, { recursive: true, force: true });
  renameSync(dataDir, aside);
  try {
    await run(
      binary("etcdutl"),
      [
        "snapshot",
        "restore",
        file,
        `--data-dir=${dataDir}`,
        `--name=${flag(etcd.args, "name")}`,
        `--initial-cluster=${flag(etcd.args, "initial-cluster")}`,
        `--initial-advertise-peer-urls=${flag(etcd.args, "initial-advertise-peer-urls")}`,
        `--bump-revision=${BUMP_REVISION}`,
        "--mark-compacted",
      ],
      { timeout: 120_000 },
    );
  } catch (error) {
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
    renameSync(aside, dataDir);
    await startControlPlane(etcd, apiServer);
    throw error;
  }
  await startControlPlane(etcd, apiServer);
  rmSync(aside, { recursive: true, force: true });
}
