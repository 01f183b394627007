import { join } from "node:path";
import { CLUSTER_STATE_DIR, LOG_ROOT } from "./paths.ts";

/**
 * Fixed shape of the local single-node cluster. The node's address lives on a device the cluster
 * owns, so pods, the apiserver and host-process add-ons reach each other without touching any real
 * interface (loopback cannot be an endpoint or a pod-reachable address).
 */
export const CLUSTER = {
  name: "idfleet-local",
  nodeName: "idfleet-node",
  nodeDevice: "idfleet0",
  nodeIp: "10.250.0.1",
  podCidr: "10.244.0.0/24",
  podBridge: "idfleet-cni0",
  cniNetworkName: "idfleet-pods",
  serviceCidr: "10.96.0.0/16",
  apiServiceIp: "10.96.0.1",
  dnsServiceIp: "10.96.0.10",
  clusterDomain: "cluster.local",
  apiPort: 6443,
  etcdClientPort: 32379,
  etcdPeerPort: 32380,
  controllerManagerPort: 10257,
  schedulerPort: 10259,
  kubeletPort: 10250,
  kubeletHealthzPort: 10248,
  kubeProxyHealthzPort: 10256,
  kubeProxyMetricsPort: 10249,
  metricsServerPort: 4443,
  corednsHealthPort: 18080,
  corednsReadyPort: 18181,
  /** iptables rules the cluster adds itself carry this comment, so `down` finds exactly them. */
  iptablesComment: "idfleet-cluster",
  /** HPA reaction times shortened so the e2e scale-up/scale-down finishes in minutes. */
  hpaSyncPeriod: "5s",
  hpaDownscaleStabilization: "30s",
} as const;

/** Where the full cluster keeps its files. */
export const CLUSTER_DIRS = {
  state: CLUSTER_STATE_DIR,
  pids: join(CLUSTER_STATE_DIR, "pids"),
  logs: join(LOG_ROOT, "cluster"),
  containerd: join(CLUSTER_STATE_DIR, "containerd"),
  containerdSocket: join(CLUSTER_STATE_DIR, "containerd", "containerd.sock"),
  cniConf: join(CLUSTER_STATE_DIR, "cni", "net.d"),
  cniIpam: join(CLUSTER_STATE_DIR, "cni", "ipam"),
  kubelet: join(CLUSTER_STATE_DIR, "kubelet"),
  podLogs: join(CLUSTER_STATE_DIR, "pod-logs"),
  addons: join(CLUSTER_STATE_DIR, "addons"),
  stateFile: join(CLUSTER_STATE_DIR, "state.json"),
} as const;

/** The admin kubeconfig of the running cluster (also merged into ~/.kube/config by `up`). */
export const CLUSTER_KUBECONFIG = join(CLUSTER_STATE_DIR, "kubeconfig", "admin.kubeconfig");
