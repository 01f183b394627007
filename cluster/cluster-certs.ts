import { mkdirSync } from "node:fs";
import { createCa, createServiceAccountKey, issueCert, CertUsage, type CertPair } from "./pki.ts";

/** Every certificate and key a control plane needs (one layout for integration and the full cluster). */
export type ClusterCerts = {
  dir: string;
  /** Signs serving certificates (kube-apiserver, kubelet, metrics-server); clients trust it. */
  ca: CertPair;
  /** Signs client certificates (admin, components, test users); the apiserver's --client-ca-file. */
  clientCa: CertPair;
  /** The request-header CA: the aggregator's proxy client cert is signed by it. */
  frontProxyCa: CertPair;
  frontProxyClient: CertPair;
  apiServer: CertPair;
  apiServerKubeletClient: CertPair;
  admin: CertPair;
  controllerManager: CertPair;
  scheduler: CertPair;
  serviceAccount: { key: string; pub: string };
};

/** Certificates only the full cluster's node needs. */
export type NodeCerts = {
  kubeletClient: CertPair;
  kubeletServing: CertPair;
  kubeProxy: CertPair;
  metricsServerClient: CertPair;
  metricsServerServing: CertPair;
  corednsClient: CertPair;
};

/** The front-proxy client's CN; the apiserver only accepts request headers from it. */
export const FRONT_PROXY_CLIENT_NAME = "front-proxy-client";

/** Creates (or reuses) the control plane's PKI in `dir`. `apiIps` and `apiDnsNames` become apiserver SANs. */
export async function createClusterCerts(
  dir: string,
  options: { apiIps: string[]; apiDnsNames?: string[]; serviceIp: string },
): Promise<ClusterCerts> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const [ca, clientCa, frontProxyCa, serviceAccount] = await Promise.all([
    createCa(dir, "ca", "idfleet-cluster-ca"),
    createCa(dir, "client-ca", "idfleet-client-ca"),
    createCa(dir, "front-proxy-ca", "idfleet-front-proxy-ca"),
    createServiceAccountKey(dir),
  ]);
  const [apiServer, apiServerKubeletClient, admin, controllerManager, scheduler, frontProxyClient] =
    await Promise.all([
      issueCert(dir, ca, {
        name: "kube-apiserver",
        commonName: "kube-apiserver",
        usage: CertUsage.server,
        dnsNames: [
          "kubernetes",
          "kubernetes.default",
          "kubernetes.default.svc",
          "kubernetes.default.svc.cluster.local",
          "localhost",
          ...(options.apiDnsNames ?? []),
        ],
        ips: [...new Set(["127.0.0.1", options.serviceIp, ...options.apiIps])],
      }),
      issueCert(dir, clientCa, {
        name: "kube-apiserver-kubelet-client",
        commonName: "kube-apiserver-kubelet-client",
        organizations: ["system:masters"],
        usage: CertUsage.client,
      }),
      issueCert(dir, clientCa, {
        name: "admin",
        commonName: "idfleet-admin",
        organizations: ["system:masters"],
        usage: CertUsage.client,
      }),
      issueCert(dir, clientCa, {
        name: "kube-controller-manager",
        commonName: "system:kube-controller-manager",
        usage: CertUsage.client,
      }),
      issueCert(dir, clientCa, {
        name: "kube-scheduler",
        commonName: "system:kube-scheduler",
        usage: CertUsage.client,
      }),
      issueCert(dir, frontProxyCa, {
        name: FRONT_PROXY_CLIENT_NAME,
        commonName: FRONT_PROXY_CLIENT_NAME,
        usage: CertUsage.client,
      }),
    ]);
  return {
    dir,
    ca,
    clientCa,
    frontProxyCa,
    frontProxyClient,
    apiServer,
    apiServerKubeletClient,
    admin,
    controllerManager,
    scheduler,
    serviceAccount,
  };
}

/** Creates (or reuses) the node's certificates: kubelet (client + serving), kube-proxy, metrics-server, coredns. */
export async function createNodeCerts(
  certs: ClusterCerts,
  options: { nodeName: string; nodeIp: string },
): Promise<NodeCerts> {
  const { dir, ca, clientCa } = certs;
  const [kubeletClient, kubeletServing, kubeProxy, metricsServerClient, metricsServerServing, corednsClient] =
    await Promise.all([
      issueCert(dir, clientCa, {
        name: "kubelet-client",
        commonName: `system:node:${options.nodeName}`,
        organizations: ["system:nodes"],
        usage: CertUsage.client,
      }),
      issueCert(dir, ca, {
        name: "kubelet-serving",
        commonName: `system:node:${options.nodeName}`,
        usage: CertUsage.server,
        dnsNames: [options.nodeName, "localhost"],
        ips: [options.nodeIp, "127.0.0.1"],
      }),
      issueCert(dir, clientCa, {
        name: "kube-proxy",
        commonName: "system:kube-proxy",
        usage: CertUsage.client,
      }),
      issueCert(dir, clientCa, {
        name: "metrics-server-client",
        commonName: "system:metrics-server",
        usage: CertUsage.client,
      }),
      issueCert(dir, ca, {
        name: "metrics-server-serving",
        commonName: "metrics-server.kube-system.svc",
        usage: CertUsage.server,
        dnsNames: ["metrics-server.kube-system.svc", "metrics-server.kube-system", "metrics-server"],
        ips: [options.nodeIp],
      }),
      issueCert(dir, clientCa, {
        name: "coredns-client",
        commonName: "system:coredns",
        usage: CertUsage.client,
      }),
    ]);
  return {
    kubeletClient,
    kubeletServing,
    kubeProxy,
    metricsServerClient,
    metricsServerServing,
    corednsClient,
  };
}
