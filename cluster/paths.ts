import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";

/** Repository root (this file lives in cluster/). */
export const REPO_ROOT = resolve(import.meta.dirname, "..");

/** Everything the test infrastructure writes at run time lives under here (override: IDFLEET_TMP). */
export const IDFLEET_TMP = process.env.IDFLEET_TMP ?? "/tmp/idfleet";

/** The one log directory: every component of every cluster and control plane logs below it. */
export const LOG_ROOT = join(IDFLEET_TMP, "logs");

/** State of the full local cluster (certs, etcd data, containerd/kubelet roots, pid files). */
export const CLUSTER_STATE_DIR = join(IDFLEET_TMP, "cluster");

let cachedBinDir: string | undefined;

/** Directory holding the Kubernetes/etcd/metrics-server/coredns binaries built by build-binaries.sh. */
export function binDir(): string {
  if (cachedBinDir === undefined) {
    cachedBinDir =
      process.env.IDFLEET_BIN_DIR ??
      execFileSync("bash", [join(REPO_ROOT, "cluster/build-binaries.sh"), "--print-bin-dir"], {
        encoding: "utf8",
      }).trim();
  }
  return cachedBinDir;
}

/** Absolute path of one built binary. */
export function binary(name: string): string {
  return join(binDir(), name);
}
