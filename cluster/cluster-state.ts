import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_DIRS } from "./cluster-settings.ts";
import { isAlive, readPidFile } from "./component-process.ts";

/** What `up` recorded so that `down` can undo it. */
export type ClusterState = {
  server: string;
  nodeIp: string;
  /** Host sysctls before `up` changed them, restored by `down`. */
  sysctlsBefore: Record<string, string>;
  /** ~/.kube/config's current-context before `up` switched it. */
  previousContext?: string;
  startedAt: string;
};

/** Reads state.json, or undefined when no cluster was started. */
export function readClusterState(): ClusterState | undefined {
  if (!existsSync(CLUSTER_DIRS.stateFile)) return undefined;
  return JSON.parse(readFileSync(CLUSTER_DIRS.stateFile, "utf8")) as ClusterState;
}

/** Writes state.json. */
export function writeClusterState(state: ClusterState): void {
  writeFileSync(CLUSTER_DIRS.stateFile, JSON.stringify(state, null, 2) + "\n");
}

/** Every component with a pid file, and whether its process is alive. */
export function clusterProcesses(): { name: string; pid: number; alive: boolean }[] {
  if (!existsSync(CLUSTER_DIRS.pids)) return [];
  return readdirSync(CLUSTER_DIRS.pids)
    .filter((f) => f.endsWith(".pid"))
    .flatMap((f) => {
      const pid = readPidFile(join(CLUSTER_DIRS.pids, f));
      return pid === undefined ? [] : [{ name: f.slice(0, -4), pid, alive: isAlive(pid) }];
    });
}
