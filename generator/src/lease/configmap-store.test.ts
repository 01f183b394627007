import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigMapTimeout, kubernetesConfigMapStore } from "./configmap-store.ts";

/** An API server on loopback that takes requests and never answers them. */
async function hangingApiServer(): Promise<{ server: Server; url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req) => requests.push(req));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, requests };
}

function coreApi(url: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain HTTP unless TLS verification is explicitly off.
    clusters: [{ name: "c", server: url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc.makeApiClient(CoreV1Api);
}

describe("kubernetesConfigMapStore timeouts", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it("gives up after the timeout and aborts the HTTP request, so no socket is left waiting", async () => {
    const api = await hangingApiServer();
    server = api.server;
    const store = kubernetesConfigMapStore(coreApi(api.url), "ns", 150);

    const started = performance.now();
    await expect(store.read("ids-0-lease")).rejects.toBeInstanceOf(ConfigMapTimeout);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    expect(api.requests).toHaveLength(1);
    const request = api.requests[0] as IncomingMessage;
    expect(request.url).toBe("/api/v1/namespaces/ns/configmaps/ids-0-lease");
    // The client closed its side: the server sees the request's socket end.
    await new Promise<void>((resolve) =>
      request.socket.destroyed ? resolve() : request.socket.once("close", () => resolve()),
    );
    expect(request.socket.destroyed).toBe(true);
  });

  it("says which call timed out and that it may still be applied", async () => {
    const api = await hangingApiServer();
    server = api.server;
    const store = kubernetesConfigMapStore(coreApi(api.url), "ns", 100);
    const previous = {
      resourceVersion: "7",
      data: {},
      object: { metadata: { name: "ids-0-lease", namespace: "ns" } },
    };
    await expect(store.replace(previous, { a: "b" })).rejects.toThrow(
      "replace ids-0-lease: no answer within 100 ms",
    );
  });
});
