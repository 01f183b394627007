import {
  ApiregistrationV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  RbacAuthorizationV1Api,
  type V1ConfigMap,
  type V1Pod,
} from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { type RequestOptions, request } from "node:https";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, onTestFinished, test } from "vitest";
import {
  LEASE_COMPONENT,
  LeaseLabel,
  type LeaseData,
  LeaseState,
  leaseNameForPod,
  serializeLeaseData,
} from "../../../contract/lease-record.ts";
import {
  adminKubeConfig,
  createTestNamespace,
  userKubeConfig,
} from "../../../e2e/control-plane/test-namespace.ts";
import { kubeConfigForServiceAccount } from "../../../e2e/control-plane/user-kubeconfig.ts";
import { startCustomMetricsServer } from "./custom-metrics-server.ts";
import { leaseReportSourceFromCaches } from "./lease-reports.ts";

const CONFIG_DIR = join(import.meta.dirname, "../../../config/custom-metrics");
const METRIC_PATH = (version: string, ns: string) =>
  `/apis/custom.metrics.k8s.io/${version}/namespaces/${ns}/pods/*/idgen_sequence_utilization`;

/**
 * Endpoints and EndpointSlices refuse loopback addresses (ValidateEndpointIP: "may not be in the
 * loopback range"), so the aggregator cannot be pointed at 127.0.0.1. The machine's own interface
 * address is the next best: traffic to it is delivered locally and never leaves the host.
 */
function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error(
    "no non-loopback IPv4 address on this machine: the aggregator cannot route to a loopback endpoint",
  );
}

/** The config/custom-metrics manifests, moved into the test namespace, cluster-scoped names made unique. */
function manifests(file: string, ns: string): KubernetesObject[] {
  const text = readFileSync(join(CONFIG_DIR, file), "utf8").replaceAll("idfleet-system", ns);
  return parseAllDocuments(text).map((d) => {
    const obj = d.toJS() as KubernetesObject & { roleRef?: unknown };
    const clusterScoped = obj.kind === "ClusterRole" || obj.kind === "ClusterRoleBinding";
    const kubeSystem = obj.metadata?.namespace === "kube-system";
    if (clusterScoped || kubeSystem) obj.metadata!.name = `${obj.metadata!.name}-${ns}`;
    const ref = (obj as { roleRef?: { kind: string; name: string } }).roleRef;
    if (ref?.kind === "ClusterRole" && ref.name.startsWith("idfleet-")) ref.name = `${ref.name}-${ns}`;
    return obj;
  });
}

async function createAll(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    await api.create(obj);
    onTestFinished(async () => {
      await api.delete(obj).catch(() => undefined);
    });
  }
}

type RawResponse = { status: number; body: string; json: () => Record<string, unknown> };

async function getRaw(options: RequestOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ method: "GET", timeout: 10_000, ...options }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          json: () => JSON.parse(body) as Record<string, unknown>,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** GET through the kube-apiserver with `kc`'s credentials. */
async function apiGet(kc: KubeConfig, path: string): Promise<RawResponse> {
  const url = new URL(kc.getCurrentCluster()!.server + path);
  const opts: RequestOptions = {
    host: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
  };
  await kc.applyToHTTPSOptions(opts);
  return getRaw(opts);
}

function lease(podName: string, podUid: string, workerId: number, utilization: number): LeaseData {
  return {
    workerId,
    idSpace: "orders",
    state: LeaseState.Active,
    holderPod: podName,
    holderUid: podUid,
    assignment: 1,
    handoverAfter: 0,
    reservedUntil: 1_000,
    leaseDurationSeconds: 15,
    renewCount: 1,
    renewTime: new Date().toISOString(),
    clockOffsetMs: 0.5,
    clockHealthy: true,
    sequenceUtilization: utilization,
    sequenceExhaustions: 0,
  };
}

function leaseConfigMap(ns: string, data: LeaseData): V1ConfigMap {
  return {
    metadata: {
      name: leaseNameForPod(data.holderPod),
      namespace: ns,
      labels: {
        [LeaseLabel.component]: LEASE_COMPONENT,
        [LeaseLabel.fleet]: "ids",
        [LeaseLabel.workerId]: String(data.workerId),
      },
    },
    data: serializeLeaseData(data),
  };
}

/** Marks a pod Running and Ready, as a kubelet would (there is none in the integration control plane). */
async function markRunning(core: CoreV1Api, ns: string, pod: V1Pod): Promise<void> {
  const now = new Date();
  await core.replaceNamespacedPodStatus({
    name: pod.metadata!.name!,
    namespace: ns,
    body: {
      ...pod,
      status: {
        phase: "Running",
        startTime: new Date(now.getTime() - 600_000),
        conditions: [
          { type: "Ready", status: "True", lastTransitionTime: new Date(now.getTime() - 600_000) },
        ],
      },
    },
  });
}

describe("custom metrics API through the real aggregation layer", () => {
  test(
    "serves idgen_sequence_utilization from lease reports to kubectl, RBAC-checked callers and the HPA controller",
    { timeout: 240_000 },
    async () => {
      const { name: ns } = await createTestNamespace("custom-metrics");
      const admin = adminKubeConfig();
      const core = admin.makeApiClient(CoreV1Api);
      const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
      const registration = admin.makeApiClient(ApiregistrationV1Api);
      const address = hostAddress();

      // The operator's identity: its ServiceAccount with exactly config/custom-metrics/rbac.yaml,
      // plus read access to ConfigMaps and pods (granted by the operator's own RBAC in a real install).
      await core.createNamespacedServiceAccount({
        namespace: ns,
        body: { metadata: { name: "idfleet-operator" } },
      });
      await createAll(admin, manifests("rbac.yaml", ns));
      await rbac.createNamespacedRole({
        namespace: ns,
        body: {
          metadata: { name: "operator-reads" },
          rules: [{ apiGroups: [""], resources: ["configmaps", "pods"], verbs: ["get", "list", "watch"] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: {
          metadata: { name: "operator-reads" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "operator-reads" },
          subjects: [{ kind: "ServiceAccount", name: "idfleet-operator", namespace: ns }],
        },
      });
      const operatorKc = await kubeConfigForServiceAccount(admin, ns, "idfleet-operator");

      // The operator core's informer caches, here started directly.
      const operatorCore = operatorKc.makeApiClient(CoreV1Api);
      const configMaps = makeInformer<V1ConfigMap>(operatorKc, `/api/v1/namespaces/${ns}/configmaps`, () =>
        operatorCore.listNamespacedConfigMap({ namespace: ns }),
      );
      const pods = makeInformer<V1Pod>(operatorKc, `/api/v1/namespaces/${ns}/pods`, () =>
        operatorCore.listNamespacedPod({ namespace: ns }),
      );
      // RBAC bindings reach the authorizer through its informer: retry the first list briefly.
      await expect
        .poll(
          () =>
            configMaps.start().then(
              () => true,
              () => false,
            ),
          { timeout: 10_000 },
        )
        .toBe(true);
      await pods.start();
      onTestFinished(async () => {
        await configMaps.stop();
        await pods.stop();
      });

      const startAsOperator = (options: { refreshIntervalMs?: number } = {}) =>
        startCustomMetricsServer({
          kubeConfig: operatorKc,
          source: leaseReportSourceFromCaches({ configMaps, pods }),
          namespace: ns,
          port: 0,
          host: address,
          windowSeconds: 5,
          log: () => undefined,
          ...options,
        });
      const server = await startAsOperator({ refreshIntervalMs: 1_000 });
      // Registered before the APIServices exist, so (cleanup runs in reverse) they are deleted first.
      onTestFinished(() => server.close());

      // Service + EndpointSlice to this process, then the APIServices exactly as shipped.
      // The shipped Service without its selector: there is no operator pod to select here.
      const service = manifests("service.yaml", ns)[0] as KubernetesObject & { spec: { selector?: unknown } };
      delete service.spec.selector;
      await createAll(admin, [service]);
      await admin.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
        namespace: ns,
        body: {
          metadata: {
            name: "idfleet-custom-metrics-host",
            labels: {
              "kubernetes.io/service-name": "idfleet-custom-metrics",
              "endpointslice.kubernetes.io/managed-by": "idfleet-test",
            },
          },
          addressType: "IPv4",
          endpoints: [{ addresses: [address], conditions: { ready: true } }],
          ports: [{ name: "https", port: server.port, protocol: "TCP" }],
        },
      });
      // APIServices are cluster-wide: delete them first on the way out, so no other test sees an
      // unavailable custom.metrics.k8s.io (which stalls namespace deletion's discovery).
      const apiServices = manifests("api-service.yaml", ns);
      await createAll(admin, apiServices);

      // The server started before the APIServices existed: its periodic refresh fills their caBundle.
      for (const name of ["v1beta2.custom.metrics.k8s.io", "v1beta1.custom.metrics.k8s.io"]) {
        await expect
          .poll(async () => (await registration.readAPIService({ name })).spec?.caBundle, { timeout: 15_000 })
          .toBe(Buffer.from(server.caBundlePem()).toString("base64"));
        expect((await registration.readAPIService({ name })).spec!.insecureSkipTLSVerify ?? false).toBe(
          false,
        );
      }
      // A second replica shares the certificate through the Secret instead of minting its own.
      const replica = await startAsOperator();
      expect(replica.caBundlePem()).toBe(server.caBundlePem());
      await replica.close();
      // Available means the aggregator dialed the endpoint, verified our certificate against caBundle
      // and got discovery, authenticated as the front proxy.
      await expect
        .poll(
          async () => {
            const svc = await registration.readAPIServiceStatus({ name: "v1beta2.custom.metrics.k8s.io" });
            return svc.status?.conditions?.find((c) => c.type === "Available")?.status;
          },
          { timeout: 60_000, interval: 500 },
        )
        .toBe("True");

      // A fleet's pods: a Deployment whose pods an HPA can scale, marked running; one lease each.
      const apps = admin.makeApiClient(AppsV1Api);
      const labels = { "idfleet.dev/fleet": "ids", app: "ids" };
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: "ids" },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                automountServiceAccountToken: false,
                containers: [{ name: "ids", image: "idfleet/generator:test" }],
              },
            },
          },
        },
      });
      let fleetPods: V1Pod[] = [];
      await expect
        .poll(
          async () => {
            fleetPods = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=ids" })).items;
            return fleetPods.length;
          },
          { timeout: 60_000, interval: 500 },
        )
        .toBe(2);
      fleetPods.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
      const utilizations = [0.5, 0.25];
      for (const [i, pod] of fleetPods.entries()) {
        await markRunning(core, ns, pod);
        await core.createNamespacedConfigMap({
          namespace: ns,
          body: leaseConfigMap(ns, lease(pod.metadata!.name!, pod.metadata!.uid!, i, utilizations[i]!)),
        });
      }
      // A pod of another fleet with a lease: the HPA's selector must leave it out.
      const other = await core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name: "other-0", labels: { "idfleet.dev/fleet": "other" } },
          spec: {
            automountServiceAccountToken: false,
            containers: [{ name: "x", image: "idfleet/generator:test" }],
          },
        },
      });
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: leaseConfigMap(ns, lease("other-0", other.metadata!.uid!, 9, 0.99)),
      });

      // 1. Through the kube-apiserver, as an admin, both versions.
      const selector = encodeURIComponent("idfleet.dev/fleet=ids");
      const expected = fleetPods.map((p, i) => ({
        name: p.metadata!.name!,
        value: utilizations[i] === 0.5 ? "500m" : "250m",
      }));
      await expect
        .poll(
          async () => {
            const res = await apiGet(admin, `${METRIC_PATH("v1beta2", ns)}?labelSelector=${selector}`);
            if (res.status !== 200) return res.body;
            const items = res.json().items as { describedObject: { name: string }; value: string }[];
            return items.map((i) => ({ name: i.describedObject.name, value: i.value }));
          },
          { timeout: 30_000, interval: 500 },
        )
        .toEqual(expected);
      const v1beta2 = (await apiGet(admin, `${METRIC_PATH("v1beta2", ns)}?labelSelector=${selector}`)).json();
      expect(v1beta2).toMatchObject({ kind: "MetricValueList", apiVersion: "custom.metrics.k8s.io/v1beta2" });
      expect((v1beta2.items as object[])[0]).toMatchObject({
        describedObject: { kind: "Pod", namespace: ns, name: fleetPods[0]!.metadata!.name, apiVersion: "v1" },
        metric: { name: "idgen_sequence_utilization" },
        windowSeconds: 5,
        value: "500m",
      });
      const v1beta1 = await apiGet(admin, `${METRIC_PATH("v1beta1", ns)}?labelSelector=${selector}`);
      expect(v1beta1.status).toBe(200);
      expect(v1beta1.json().items).toHaveLength(2);
      expect((v1beta1.json().items as object[])[0]).toMatchObject({
        metricName: "idgen_sequence_utilization",
        value: "500m",
      });
      // Discovery as the aggregator merged it, and the errors a user sees.
      const resources = (await apiGet(admin, "/apis/custom.metrics.k8s.io/v1beta2")).json();
      expect(resources.resources).toEqual([
        expect.objectContaining({ name: "pods/idgen_sequence_utilization", namespaced: true }),
      ]);
      const unknown = await apiGet(
        admin,
        `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/cpu_seconds`,
      );
      expect(unknown.status).toBe(404);
      expect(unknown.json().message).toMatch(/could not find the metric cpu_seconds for pods/);
      const badSelector = await apiGet(admin, `${METRIC_PATH("v1beta2", ns)}?labelSelector=a+in+b`);
      expect(badSelector.status).toBe(400);
      expect(badSelector.json().message).toMatch(/expected '\(' after 'in'/);

      // 2. RBAC: a user bound to config's reader ClusterRole gets the metric; an unbound one is refused.
      const readerRole = `idfleet-custom-metrics-reader-${ns}`;
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name: `reader-${ns}` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: readerRole },
          subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: `reader-${ns}` }],
        },
      });
      onTestFinished(async () => {
        await rbac.deleteClusterRoleBinding({ name: `reader-${ns}` }).catch(() => undefined);
      });
      const reader = await userKubeConfig(`reader-${ns}`);
      await expect
        .poll(
          async () =>
            (await apiGet(reader, `${METRIC_PATH("v1beta2", ns)}?labelSelector=${selector}`)).status,
          {
            timeout: 10_000,
          },
        )
        .toBe(200);
      const stranger = await userKubeConfig(`stranger-${ns}`);
      expect((await apiGet(stranger, METRIC_PATH("v1beta2", ns))).status).toBe(403);

      // 3. Straight to the server (no aggregator): a cluster client certificate is authenticated as
      // its CN and authorized by SubjectAccessReview; proxy headers from it are ignored; no
      // certificate is 401.
      const direct = async (kc: KubeConfig | undefined, headers: Record<string, string> = {}) => {
        const tls: { cert?: string | Buffer; key?: string | Buffer } = {};
        if (kc) await kc.applyToHTTPSOptions(tls);
        return getRaw({
          host: address,
          port: server.port,
          path: `${METRIC_PATH("v1beta2", ns)}?labelSelector=${selector}`,
          ca: server.caBundlePem(),
          servername: `idfleet-custom-metrics.${ns}.svc`,
          cert: tls.cert,
          key: tls.key,
          headers,
        });
      };
      expect((await direct(reader)).status).toBe(200);
      const refused = await direct(stranger, {
        "X-Remote-User": "system:admin",
        "X-Remote-Group": "system:masters",
      });
      expect(refused.status).toBe(403);
      expect(refused.json().message).toMatch(
        new RegExp(`User "stranger-${ns}" cannot get resource "pods/idgen_sequence_utilization"`),
      );
      expect((await direct(undefined)).status).toBe(401);

      // 4. A lease renewal with a new utilization reaches the API through the informer.
      const first = fleetPods[0]!;
      await core.replaceNamespacedConfigMap({
        name: leaseNameForPod(first.metadata!.name!),
        namespace: ns,
        body: leaseConfigMap(ns, lease(first.metadata!.name!, first.metadata!.uid!, 0, 0.875)),
      });
      await expect
        .poll(
          async () => {
            const items = (
              await apiGet(admin, `${METRIC_PATH("v1beta2", ns)}?labelSelector=${selector}`)
            ).json().items as { value: string }[];
            return items[0]?.value;
          },
          { timeout: 10_000, interval: 200 },
        )
        .toBe("875m");

      // 5. The HPA controller (kube-controller-manager, its own ServiceAccount) reads the metric
      // through the aggregator and scales: 2 pods averaging 0.5625 (in milli: 562m) against a
      // target of 0.25 -> ceil(2 x 2.25) = 5 replicas.
      await admin.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
        namespace: ns,
        body: {
          metadata: { name: "ids" },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "ids" },
            minReplicas: 1,
            maxReplicas: 10,
            metrics: [
              {
                type: "Pods",
                pods: {
                  metric: { name: "idgen_sequence_utilization" },
                  target: { type: "AverageValue", averageValue: "250m" },
                },
              },
            ],
          },
        },
      });
      await expect
        .poll(
          async () => {
            const hpa = await admin
              .makeApiClient(AutoscalingV2Api)
              .readNamespacedHorizontalPodAutoscalerStatus({ name: "ids", namespace: ns });
            const current = hpa.status?.currentMetrics?.[0]?.pods?.current.averageValue;
            return {
              current: current === undefined ? undefined : String(current),
              desired: hpa.status?.desiredReplicas,
            };
          },
          { timeout: 90_000, interval: 1_000 },
        )
        .toEqual({ current: "562m", desired: 5 });
    },
  );
});
