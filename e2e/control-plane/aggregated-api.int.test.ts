/**
 * Proves the aggregation layer of the integration control plane end to end, the way a host-process
 * aggregated API server (such as a custom.metrics.k8s.io adapter) uses it: a selectorless Service whose
 * EndpointSlice points at `hostAddress`, an APIService with our CA bundle, and requests proxied by the
 * apiserver with its front-proxy client certificate and X-Remote-User.
 */
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { ApiregistrationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api } from "@kubernetes/client-node";
import { describe, expect, inject, onTestFinished, test } from "vitest";
import { CertUsage, createCa, issueCert } from "../../cluster/pki.ts";
import { createTestNamespace } from "./test-namespace.ts";

type Seen = { user: string | undefined; proxyClient: string | undefined };

async function startHostApiServer(
  hostAddress: string,
  serviceDns: string,
  group: string,
): Promise<{ server: Server; port: number; caFile: string; seen: Seen[] }> {
  const dir = mkdtempSync(join(tmpdir(), "idfleet-aggregated-"));
  const ca = await createCa(dir, "ca", "aggregated-test-ca");
  const serving = await issueCert(dir, ca, {
    name: "serving",
    commonName: serviceDns,
    usage: CertUsage.server,
    dnsNames: [serviceDns],
    ips: [hostAddress],
  });
  const seen: Seen[] = [];
  const groupVersion = `${group}/v1`;
  const server = createServer(
    {
      cert: readFileSync(serving.cert),
      key: readFileSync(serving.key),
      // The apiserver proxies with a client certificate signed by the request-header CA.
      ca: readFileSync(inject("controlPlane").requestHeaderCaFile),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
      res.setHeader("content-type", "application/json");
      if (req.url === `/apis/${groupVersion}`) {
        res.end(
          JSON.stringify({
            kind: "APIResourceList",
            apiVersion: "v1",
            groupVersion,
            resources: [
              { name: "echoes", singularName: "echo", namespaced: false, kind: "Echo", verbs: ["get"] },
            ],
          }),
        );
        return;
      }
      if (req.url?.startsWith(`/apis/${groupVersion}/echoes/`)) {
        const record = {
          user: req.headers["x-remote-user"] as string | undefined,
          proxyClient: Array.isArray(peer) ? peer[0] : peer,
        };
        seen.push(record);
        res.end(
          JSON.stringify({
            kind: "Echo",
            apiVersion: groupVersion,
            metadata: { name: req.url.split("/").pop() },
            ...record,
          }),
        );
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404 }));
    },
  );
  await new Promise<void>((resolveListen) => server.listen(0, hostAddress, resolveListen));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no listening address");
  return { server, port: address.port, caFile: ca.cert, seen };
}

describe("aggregation layer", () => {
  test("an APIService backed by a host process on hostAddress becomes Available and receives proxied requests", async (context) => {
    const hostAddress = inject("controlPlane").hostAddress;
    if (!hostAddress) context.skip("hostAddress needs root (a network device is created for it)");
    const { name: namespace, kubeConfig } = await createTestNamespace("aggregated");
    const group = `${namespace}.idfleet-test.example.com`;
    const serviceName = "host-api";
    const api = await startHostApiServer(hostAddress!, `${serviceName}.${namespace}.svc`, group);
    onTestFinished(() => void api.server.close());

    await kubeConfig.makeApiClient(CoreV1Api).createNamespacedService({
      namespace,
      body: {
        metadata: { name: serviceName },
        spec: { ports: [{ name: "https", port: 443, targetPort: api.port }] },
      },
    });
    await kubeConfig.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace,
      body: {
        metadata: {
          name: `${serviceName}-host`,
          labels: {
            "kubernetes.io/service-name": serviceName,
            "endpointslice.kubernetes.io/managed-by": "idfleet-test",
          },
        },
        addressType: "IPv4",
        endpoints: [{ addresses: [hostAddress!], conditions: { ready: true } }],
        ports: [{ name: "https", port: api.port, protocol: "TCP" }],
      },
    });
    const registration = kubeConfig.makeApiClient(ApiregistrationV1Api);
    const apiServiceName = `v1.${group}`;
    await registration.createAPIService({
      body: {
        metadata: { name: apiServiceName },
        spec: {
          group,
          version: "v1",
          groupPriorityMinimum: 1000,
          versionPriority: 15,
          service: { namespace, name: serviceName, port: 443 },
          caBundle: readFileSync(api.caFile).toString("base64"),
        },
      },
    });
    onTestFinished(async () => {
      await registration.deleteAPIService({ name: apiServiceName }).catch(() => undefined);
    });

    await expect
      .poll(
        async () => {
          const status = await registration.readAPIServiceStatus({ name: apiServiceName });
          return status.status?.conditions?.find((c) => c.type === "Available")?.status;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe("True");

    const echo = (await kubeConfig
      .makeApiClient(CustomObjectsApi)
      .getClusterCustomObject({ group, version: "v1", plural: "echoes", name: "hello" })) as Seen & {
      metadata: { name: string };
    };
    expect(echo.metadata.name).toBe("hello");
    expect(echo.user).toBe("idfleet-admin");
    expect(echo.proxyClient).toBe(inject("controlPlane").requestHeaderAllowedName);
    expect(api.seen.length).toBeGreaterThan(0);
  });
});
