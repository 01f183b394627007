import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { CLUSTER } from "./cluster-settings.ts";

const docs = (objects: object[]) => objects.map((o) => stringify(o)).join("---\n");

/** A selectorless Service plus the Endpoints that point it at a host process on the node address. */
function hostService(
  name: string,
  ports: { name: string; port: number; targetPort: number; protocol: "TCP" | "UDP" }[],
  clusterIP?: string,
): object[] {
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "idfleet-cluster" };
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: "kube-system", labels },
      spec: {
        ...(clusterIP ? { clusterIP } : {}),
        ports: ports.map(({ name: n, port, targetPort, protocol }) => ({
          name: n,
          port,
          targetPort,
          protocol,
        })),
      },
    },
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name, namespace: "kube-system", labels },
      subsets: [
        {
          addresses: [{ ip: CLUSTER.nodeIp }],
          ports: ports.map(({ name: n, targetPort, protocol }) => ({ name: n, port: targetPort, protocol })),
        },
      ],
    },
  ];
}

/** metrics-server as a host process: RBAC, Service/Endpoints, and the v1beta1.metrics.k8s.io APIService. */
export function metricsServerManifests(caFile: string): string {
  const user = "system:metrics-server";
  return docs([
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:metrics-server" },
      rules: [
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        { apiGroups: [""], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:metrics-server" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:metrics-server" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "metrics-server:system:auth-delegator" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "metrics-server-auth-reader", namespace: "kube-system" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "extension-apiserver-authentication-reader",
      },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
    },
    // Lets `kubectl top` and the HPA read metrics.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: "system:aggregated-metrics-reader",
        labels: {
          "rbac.authorization.k8s.io/aggregate-to-view": "true",
          "rbac.authorization.k8s.io/aggregate-to-edit": "true",
          "rbac.authorization.k8s.io/aggregate-to-admin": "true",
        },
      },
      rules: [
        { apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
      ],
    },
    ...hostService("metrics-server", [
      { name: "https", port: 443, targetPort: CLUSTER.metricsServerPort, protocol: "TCP" },
    ]),
    {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: "v1beta1.metrics.k8s.io" },
      spec: {
        group: "metrics.k8s.io",
        version: "v1beta1",
        groupPriorityMinimum: 100,
        versionPriority: 100,
        service: { name: "metrics-server", namespace: "kube-system", port: 443 },
        caBundle: readFileSync(caFile).toString("base64"),
      },
    },
  ]);
}

/** CoreDNS as a host process: RBAC for its client cert and the kube-dns Service on the cluster DNS IP. */
export function corednsManifests(): string {
  return docs([
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        {
          apiGroups: [""],
          resources: ["endpoints", "services", "pods", "namespaces"],
          verbs: ["list", "watch"],
        },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "system:coredns" }],
    },
    ...hostService(
      "kube-dns",
      [
        { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
      ],
      CLUSTER.dnsServiceIp,
    ),
  ]);
}
