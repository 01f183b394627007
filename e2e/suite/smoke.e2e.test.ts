/**
 * Smoke test of the cluster itself: a Deployment from a locally built image becomes Ready, a ClusterIP
 * Service routes to it (by DNS name and by IP, from a pod; and through port-forward from loopback),
 * `kubectl top` shows its metrics, and an HPA on CPU scales it up under a bounded load and back down.
 */
import { describe, expect, test } from "vitest";
import { apply, k, kJson } from "../../cluster/client/cluster-access.ts";
import { requireImage } from "../../cluster/client/images.ts";
import {
  getWhenReady,
  startInClusterClient,
  type InClusterClient,
} from "../../cluster/client/in-cluster-client.ts";
import { startLoad } from "./support/load-generator.ts";
import { portForward } from "./support/port-forward.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const APP = "smoke";
const ns = useE2eNamespace("e2e-smoke");

type Hpa = {
  spec: { maxReplicas: number };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: { resource?: { name: string; current?: { averageUtilization?: number } } }[];
  };
};

const cpuUtilization = (hpa: Hpa) =>
  hpa.status?.currentMetrics?.find((m) => m.resource?.name === "cpu")?.resource?.current?.averageUtilization;

describe("smoke: the cluster runs, routes, measures and autoscales a workload", () => {
  const image = requireImage("smoke");
  let client: InClusterClient;

  test("a Deployment from a locally built image becomes Ready", async () => {
    await apply(ns.name, [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: APP, labels: { "idfleet.dev/e2e-app": APP } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "idfleet.dev/e2e-app": APP } },
          template: {
            metadata: { labels: { "idfleet.dev/e2e-app": APP } },
            spec: {
              terminationGracePeriodSeconds: 2,
              containers: [
                {
                  name: "server",
                  image,
                  // Loaded into the node by images:build; never pulled.
                  imagePullPolicy: "Never",
                  ports: [{ name: "http", containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 2 },
                  resources: {
                    requests: { cpu: "100m", memory: "48Mi" },
                    limits: { cpu: "500m", memory: "160Mi" },
                  },
                },
              ],
            },
          },
        },
      },
    ]);
    await k(["rollout", "status", "-n", ns.name, `deployment/${APP}`, "--timeout=180s"], {
      timeoutMs: 190_000,
    });
    const deployment = await kJson<{ status: { readyReplicas?: number } }>([
      "get",
      "-n",
      ns.name,
      `deployment/${APP}`,
    ]);
    expect(deployment.status.readyReplicas).toBe(1);
  });

  test("a ClusterIP Service routes to it: by DNS name and IP from a pod, and via port-forward from loopback", async () => {
    await apply(ns.name, [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: APP },
        spec: {
          type: "ClusterIP",
          selector: { "idfleet.dev/e2e-app": APP },
          ports: [{ name: "http", port: 80, targetPort: "http" }],
        },
      },
    ]);
    const service = await kJson<{ spec: { clusterIP: string } }>(["get", "-n", ns.name, `service/${APP}`]);
    expect(service.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const pods = await kJson<{ items: { metadata: { name: string } }[] }>([
      "get",
      "pods",
      "-n",
      ns.name,
      "-l",
      `idfleet.dev/e2e-app=${APP}`,
    ]);
    const podNames = pods.items.map((p) => p.metadata.name);

    client = await startInClusterClient(ns.name, image);
    const byName = JSON.parse(await getWhenReady(client, `http://${APP}.${ns.name}.svc.cluster.local/`)) as {
      hostname: string;
    };
    expect(podNames).toContain(byName.hostname);
    const byIp = JSON.parse(await getWhenReady(client, `http://${service.spec.clusterIP}/`)) as {
      hostname: string;
    };
    expect(podNames).toContain(byIp.hostname);

    const forward = await portForward(ns.name, `svc/${APP}`, 80);
    try {
      const response = await fetch(`http://127.0.0.1:${forward.localPort}/`, {
        signal: AbortSignal.timeout(10_000),
      });
      expect(response.status).toBe(200);
      expect(podNames).toContain(((await response.json()) as { hostname: string }).hostname);
    } finally {
      forward.close();
    }
  });

  test("kubectl top pod shows the pod's CPU and memory", async () => {
    const line = await waitFor(
      "metrics for the smoke pod",
      async () => {
        const out = await k([
          "top",
          "pod",
          "-n",
          ns.name,
          "-l",
          `idfleet.dev/e2e-app=${APP}`,
          "--no-headers",
        ]);
        return out.split("\n").find((l) => /^smoke-\S+\s+\d+m\s+\d+Mi/.test(l.trim()));
      },
      { timeoutMs: 120_000, intervalMs: 5_000 },
    );
    expect(line).toMatch(/\d+m\s+\d+Mi/);
  });

  test("an HPA on CPU reports utilization, scales up under load and back down after it", async () => {
    await apply(ns.name, [
      {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: APP },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: APP },
          minReplicas: 1,
          maxReplicas: 3,
          metrics: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
            },
          ],
          // Explicit, so the test is as quick on any cluster (kind's controller-manager keeps its 5 min default).
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 0 },
            scaleDown: {
              stabilizationWindowSeconds: 30,
              policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
            },
          },
        },
      },
    ]);
    const idle = await waitFor(
      "the HPA to report current CPU utilization",
      async () => {
        const hpa = await kJson<Hpa>(["get", "-n", ns.name, `hpa/${APP}`]);
        return cpuUtilization(hpa) !== undefined ? hpa : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 5_000 },
    );
    expect(cpuUtilization(idle)).toBeGreaterThanOrEqual(0);

    const load = await startLoad(ns.name, image, `http://${APP}.${ns.name}.svc.cluster.local/burn?ms=50`, {
      concurrency: 4,
      maxSeconds: 300,
      maxRequests: 200_000,
    });
    try {
      const busy = await waitFor(
        "the HPA to scale the Deployment above 1 replica",
        async () => {
          const hpa = await kJson<Hpa>(["get", "-n", ns.name, `hpa/${APP}`]);
          return (hpa.status?.desiredReplicas ?? 0) > 1 && (hpa.status?.currentReplicas ?? 0) > 1
            ? hpa
            : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 5_000 },
      );
      expect(cpuUtilization(busy)).toBeGreaterThan(50);
      await k(["rollout", "status", "-n", ns.name, `deployment/${APP}`, "--timeout=120s"], {
        timeoutMs: 130_000,
      });
    } finally {
      await load.stop();
    }

    const calm = await waitFor(
      "the HPA to scale back down to 1 replica after the load stopped",
      async () => {
        const hpa = await kJson<Hpa>(["get", "-n", ns.name, `hpa/${APP}`]);
        return hpa.status?.currentReplicas === 1 && hpa.status.desiredReplicas === 1 ? hpa : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 5_000 },
    );
    expect(cpuUtilization(calm)).toBeLessThan(50);
  });
});
