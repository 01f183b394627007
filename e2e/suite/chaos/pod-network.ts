import { execFileSync } from "node:child_process";
import { CLUSTER } from "../../../cluster/cluster-settings.ts";

/** Where a pod reaches the API server: the `kubernetes` Service, and the address it is DNATed to. */
const API_SERVER_ADDRESSES = [
  { ip: CLUSTER.apiServiceIp, port: 443 },
  { ip: CLUSTER.nodeIp, port: CLUSTER.apiPort },
];
const RULE_COMMENT = "idfleet-chaos-api-cut";

function iptablesInNetns(pid: number, op: "-I" | "-D", ip: string, port: number): void {
  execFileSync(
    "nsenter",
    [
      "-t",
      String(pid),
      "-n",
      "iptables",
      "-w",
      op,
      "OUTPUT",
      "-p",
      "tcp",
      "-d",
      ip,
      "--dport",
      String(port),
      "-m",
      "comment",
      "--comment",
      RULE_COMMENT,
      "-j",
      "DROP",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
}

/**
 * Drops every packet from the network namespace of process `pid` (a pod's) to the API server,
 * as a partition between a node and the control plane would, while clients on the node still
 * reach the pod by its IP. Returns the heal: it deletes the rules again, and does nothing once
 * the pod's namespace is gone (a deleted pod takes its rules with it).
 */
export function cutOffFromApiServer(pid: number): () => void {
  for (const { ip, port } of API_SERVER_ADDRESSES) iptablesInNetns(pid, "-I", ip, port);
  return () => {
    for (const { ip, port } of API_SERVER_ADDRESSES) {
      try {
        iptablesInNetns(pid, "-D", ip, port);
      } catch {
        // The process (and with it the pod's network namespace) is gone.
      }
    }
  };
}
