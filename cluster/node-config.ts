import { stringify } from "yaml";
import { CLUSTER, CLUSTER_DIRS } from "./cluster-settings.ts";
import type { ClusterCerts, NodeCerts } from "./cluster-certs.ts";

/**
 * containerd 1.6 config (version 2): CRI on, cgroupfs (SystemdCgroup=false), Debian's CNI plugins.
 * restrict_oom_score_adj: kubelet asks for oom_score_adj -998 on sandboxes, and lowering it needs
 * CAP_SYS_RESOURCE, which machines like this one (a VM whose root lacks it) do not grant; clamping to
 * containerd's own score keeps runc from failing with "can't get final child's PID from pipe".
 */
export function containerdConfig(sandboxImage: string): string {
  const d = CLUSTER_DIRS.containerd;
  return `version = 2
root = "${d}/root"
state = "${d}/state"

[grpc]
  address = "${CLUSTER_DIRS.containerdSocket}"

[ttrpc]
  address = "${CLUSTER_DIRS.containerdSocket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  enable_selinux = false
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${d}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${CLUSTER_DIRS.cniConf}"
    max_conf_num = 1
`;
}

/** CNI: one bridge with hairpin on, host-local IPAM over the node's pod subnet, portmap for hostPorts. */
export function cniConflist(): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: CLUSTER.cniNetworkName,
      plugins: [
        {
          type: "bridge",
          bridge: CLUSTER.podBridge,
          isGateway: true,
          // Pods talk only to this machine's node address and each other: nothing to masquerade.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: CLUSTER.podCidr }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: CLUSTER_DIRS.cniIpam,
          },
        },
        { type: "portmap", capabilities: { portMappings: true }, snat: true },
      ],
    },
    null,
    2,
  );
}

/** KubeletConfiguration: cgroupfs on cgroup v1, no swap check, webhook authn/authz, serving cert from our CA. */
export function kubeletConfig(certs: ClusterCerts, node: NodeCerts, resolvConf: string): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: CLUSTER.nodeIp,
    port: CLUSTER.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: CLUSTER.kubeletHealthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: certs.clientCa.cert },
    },
    authorization: { mode: "Webhook" },
    tlsCertFile: node.kubeletServing.cert,
    tlsPrivateKeyFile: node.kubeletServing.key,
    containerRuntimeEndpoint: `unix://${CLUSTER_DIRS.containerdSocket}`,
    cgroupDriver: "cgroupfs",
    failCgroupV1: false,
    failSwapOn: false,
    clusterDNS: [CLUSTER.dnsServiceIp],
    clusterDomain: CLUSTER.clusterDomain,
    resolvConf,
    podLogsDir: CLUSTER_DIRS.podLogs,
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // A dev machine's disk is usually fuller than a CI node's: do not evict test pods over it.
    evictionHard: {
      "memory.available": "100Mi",
      "nodefs.available": "1%",
      "imagefs.available": "1%",
      "nodefs.inodesFree": "1%",
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    nodeStatusUpdateFrequency: "5s",
    syncFrequency: "10s",
    maxPods: 110,
  });
}

/** KubeProxyConfiguration: iptables mode; conntrack sysctls left alone; NodePorts only on the node address. */
export function kubeProxyConfig(kubeconfig: string): string {
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "iptables",
    clientConnection: { kubeconfig },
    hostnameOverride: CLUSTER.nodeName,
    bindAddress: CLUSTER.nodeIp,
    clusterCIDR: CLUSTER.podCidr,
    healthzBindAddress: `127.0.0.1:${CLUSTER.kubeProxyHealthzPort}`,
    metricsBindAddress: `127.0.0.1:${CLUSTER.kubeProxyMetricsPort}`,
    nodePortAddresses: [`${CLUSTER.nodeIp}/32`],
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    iptables: { localhostNodePorts: false, syncPeriod: "10s", minSyncPeriod: "1s" },
    // Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which not every root has.
    oomScoreAdj: 0,
  });
}

/** CoreDNS on the node address: cluster.local from the API; every other name NXDOMAIN (no upstream, by rule). */
export function corefile(kubeconfig: string): string {
  return `${CLUSTER.clusterDomain}:53 in-addr.arpa:53 ip6.arpa:53 {
    bind ${CLUSTER.nodeIp}
    errors
    health 127.0.0.1:${CLUSTER.corednsHealthPort}
    ready 127.0.0.1:${CLUSTER.corednsReadyPort}
    kubernetes ${CLUSTER.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
    loadbalance
}
.:53 {
    bind ${CLUSTER.nodeIp}
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`;
}
