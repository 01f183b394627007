import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { callWithTimeout } from "./api-call-timeout.ts";

/** An API server on loopback: answers GETs of configmap `fast` at once and never answers anything else. */
async function loopbackApiServer(): Promise<{
  server: Server;
  core: CoreV1Api;
  requests: IncomingMessage[];
}> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    if (req.url?.endsWith("/configmaps/fast")) {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fast" } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain HTTP unless TLS verification is explicitly off.
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return { server, core: kc.makeApiClient(CoreV1Api), requests };
}

describe("callWithTimeout", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it("gives up after the timeout and aborts the HTTP request, so no socket is left waiting", async () => {
    const api = await loopbackApiServer();
    server = api.server;

    const started = performance.now();
    await expect(
      callWithTimeout(
        (options) => api.core.readNamespacedConfigMap({ name: "slow", namespace: "ns" }, options),
        150,
        () => new Error("no answer in time"),
      ),
    ).rejects.toThrow("no answer in time");
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    expect(api.requests).toHaveLength(1);
    const request = api.requests[0] as IncomingMessage;
    expect(request.url).toBe("/api/v1/namespaces/ns/configmaps/slow");
    // The client closed its side: the server sees the request's socket end.
    await new Promise<void>((resolve) =>
      request.socket.destroyed ? resolve() : request.socket.once("close", () => resolve()),
    );
    expect(request.socket.destroyed).toBe(true);
  });

  it("returns the answer when it comes in time, with the client's own headers intact", async () => {
    const api = await loopbackApiServer();
    server = api.server;
    const cm = await callWithTimeout(
      (options) => api.core.readNamespacedConfigMap({ name: "fast", namespace: "ns" }, options),
      5_000,
      () => new Error("no answer in time"),
    );
    expect(cm.metadata?.name).toBe("fast");
    expect(api.requests[0]?.headers.authorization).toBe("Bearer t");
  });
});
