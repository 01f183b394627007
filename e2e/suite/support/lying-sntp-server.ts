import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../../cluster/paths.ts";
import { apply, k } from "../../../cluster/client/cluster-access.ts";
import { requireImage } from "../../../cluster/client/images.ts";
import { portForward } from "./port-forward.ts";

/** Name of the lying SNTP server's Pod, Service and ConfigMap. */
export const LYING_SNTP = "lying-sntp";
const SNTP_PORT = 11123;
const CONTROL_PORT = 8080;

// The generator's own test responder and packet code, run from source by the image's node.
const SOURCES: Record<string, string> = {
  "package.json": "",
  "src/clock/sntp-packet.ts": "generator/src/clock/sntp-packet.ts",
  "test-support/sntp-test-responder.ts": "generator/test-support/sntp-test-responder.ts",
  "test-support/lying-sntp-server.ts": "generator/test-support/lying-sntp-server.ts",
};
const keyOf = (path: string) => path.replace(/[/]/g, "_");

/** A running lying SNTP server in the cluster. */
export type LyingSntpServer = {
  /** What to put in spec.clock.ntpServers. */
  ntpServer: string;
  /** Lies by `ms` to the pod at `client` (an IP), or to everyone; 0 tells the truth again. */
  lie: (ms: number, client?: string) => Promise<unknown>;
};

/**
 * Starts generator/test-support/lying-sntp-server.ts in `namespace` (generator image for its node, sources from a
 * ConfigMap) behind a Service: SNTP on udp/123, its control API reached through a port-forward.
 */
export async function startLyingSntpServer(namespace: string): Promise<LyingSntpServer> {
  const data = Object.fromEntries(
    Object.entries(SOURCES).map(([path, source]) => [
      keyOf(path),
      source ? readFileSync(join(REPO_ROOT, source), "utf8") : JSON.stringify({ type: "module" }),
    ]),
  );
  const labels = { "idfleet.dev/e2e-app": LYING_SNTP };
  await apply(namespace, [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: LYING_SNTP }, data },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: LYING_SNTP, labels },
      spec: {
        terminationGracePeriodSeconds: 1,
        securityContext: { runAsNonRoot: true, runAsUser: 65532 },
        containers: [
          {
            name: "sntp",
            // Has node and is loaded into the node (the base image is not).
            image: requireImage("generator"),
            imagePullPolicy: "IfNotPresent",
            command: ["node", "/sntp/test-support/lying-sntp-server.ts"],
            env: [
              { name: "SNTP_PORT", value: String(SNTP_PORT) },
              { name: "CONTROL_PORT", value: String(CONTROL_PORT) },
            ],
            ports: [
              { name: "sntp", containerPort: SNTP_PORT, protocol: "UDP" },
              { name: "control", containerPort: CONTROL_PORT, protocol: "TCP" },
            ],
            readinessProbe: { httpGet: { path: "/lie", port: "control" }, periodSeconds: 2 },
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
            volumeMounts: [{ name: "sources", mountPath: "/sntp", readOnly: true }],
          },
        ],
        volumes: [
          {
            name: "sources",
            configMap: {
              name: LYING_SNTP,
              items: Object.keys(SOURCES).map((path) => ({ key: keyOf(path), path })),
            },
          },
        ],
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: LYING_SNTP, labels },
      spec: {
        selector: labels,
        ports: [{ name: "ntp", port: 123, targetPort: SNTP_PORT, protocol: "UDP" }],
      },
    },
  ]);
  await k(["wait", "-n", namespace, `pod/${LYING_SNTP}`, "--for=condition=Ready", "--timeout=120s"], {
    timeoutMs: 130_000,
  });
  return {
    ntpServer: `${LYING_SNTP}.${namespace}.svc.cluster.local:123`,
    lie: async (ms, client) => {
      const forward = await portForward(namespace, `pod/${LYING_SNTP}`, CONTROL_PORT);
      try {
        const query = new URLSearchParams({ ms: String(ms), ...(client ? { client } : {}) });
        const response = await fetch(`http://127.0.0.1:${forward.localPort}/lie?${query.toString()}`, {
          method: "PUT",
          signal: AbortSignal.timeout(10_000),
        });
        if (!response.ok) throw new Error(`lying SNTP server: ${response.status} ${await response.text()}`);
        return (await response.json()) as unknown;
      } finally {
        forward.close();
      }
    },
  };
}
