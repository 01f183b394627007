import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { apiServerAccessOf } from "../../../e2e/control-plane/api-server-access.ts";
import { createTestNamespace } from "../../../e2e/control-plane/test-namespace.ts";
import { kubeConfigForServiceAccount } from "../../../e2e/control-plane/user-kubeconfig.ts";
import { offsetBoundsOf, provenOffsetMs, type ServerTimeSample } from "../../../contract/server-time.ts";
import { KubeApiClient } from "../kube/kube-api-client.ts";
import { ConfigMapConflict, ConfigMapMissing, kubernetesConfigMapStore } from "./configmap-store.ts";

/*
 * The generator's ConfigMap store (its own HTTPS client, no client-node) against a real
 * kube-apiserver: admin client certificate, and a ServiceAccount token read from a file
 * the way a pod reads its projected token.
 */

const clients: KubeApiClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
const track = (c: KubeApiClient) => (clients.push(c), c);

describe("kubernetesConfigMapStore against a real API server", () => {
  it("reads, replaces on resourceVersion, maps 404 and 409, keeps metadata and reports the server's clock", async () => {
    const ns = await createTestNamespace("cm-store");
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: "a", labels: { keep: "me" } }, data: { v: "1" } },
    });
    const samples: ServerTimeSample[] = [];
    // Admin kubeconfig: a client certificate.
    const store = kubernetesConfigMapStore(
      track(new KubeApiClient(apiServerAccessOf(ns.kubeConfig))),
      ns.name,
      2000,
      {
        onServerTime: (s) => samples.push(s),
      },
    );

    expect(await store.read("missing")).toBeNull();
    const first = await store.read("a");
    expect(first?.data).toEqual({ v: "1" });
    const second = await store.replace(first!, { v: "2" });
    expect(second.data).toEqual({ v: "2" });
    expect(second.resourceVersion).not.toBe(first!.resourceVersion);
    const onServer = await core.readNamespacedConfigMap({ name: "a", namespace: ns.name });
    expect(onServer.metadata?.labels).toEqual({ keep: "me" });
    expect(onServer.data).toEqual({ v: "2" });

    // A write on the stale version is a conflict; a write to a deleted map says it is missing.
    await expect(store.replace(first!, { v: "3" })).rejects.toBeInstanceOf(ConfigMapConflict);
    await core.deleteNamespacedConfigMap({ name: "a", namespace: ns.name });
    await expect(store.replace(second, { v: "4" })).rejects.toBeInstanceOf(ConfigMapMissing);

    expect(samples.length).toBeGreaterThanOrEqual(5);
    for (const s of samples) {
      expect(s.receivedWallMs).toBeGreaterThanOrEqual(s.sentWallMs);
      // Same host, 1 s resolution of the Date header.
      expect(Math.abs(s.serverDateMs - s.receivedWallMs)).toBeLessThan(2000);
      // One clock on both sides: the proven offset bounds allow zero.
      const bounds = offsetBoundsOf(s);
      if (bounds) expect(provenOffsetMs(bounds)).toBe(0);
    }
  });

  it("authenticates with a token file, re-reads it after a 401, and says what a 403 was", async () => {
    const ns = await createTestNamespace("cm-token");
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: "gen" } } });
    const rbac = ns.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: "read-a" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: "read-a" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-a" },
        subjects: [{ kind: "ServiceAccount", name: "gen", namespace: ns.name }],
      },
    });
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: "a" }, data: {} } });
    const saConfig = await kubeConfigForServiceAccount(ns.kubeConfig, ns.name, "gen");
    const { token, ...rest } = apiServerAccessOf(saConfig);
    const tokenFile = join(mkdtempSync(join(tmpdir(), "idfleet-token-")), "token");

    // The file first holds a token the server refuses (an expired one, say).
    writeFileSync(tokenFile, "not-a-valid-token\n");
    const store = kubernetesConfigMapStore(track(new KubeApiClient({ ...rest, tokenFile })), ns.name, 2000);
    await expect(store.read("a")).rejects.toThrow(/HTTP 401/);
    // The kubelet rotates the file: the next 401 makes the client read it again, and the request succeeds.
    writeFileSync(tokenFile, `${token}\n`);
    expect(await store.read("a")).toMatchObject({ data: {} });

    // Allowed to read, not to write: a clear error with the server's reason.
    const a = await store.read("a");
    await expect(store.replace(a!, { x: "1" })).rejects.toThrow(
      /replace ConfigMap a: HTTP 403: Forbidden .*cannot update/,
    );
  });

  it("gives up after its timeout, aborting the request", async () => {
    // A port that accepts and never answers: the API server's address with an unrouted path is not
    // enough (it answers), so a loopback socket that stays silent stands in for a hung server.
    const { createServer } = await import("node:net");
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as import("node:net").AddressInfo).port;
    try {
      const store = kubernetesConfigMapStore(
        track(new KubeApiClient({ server: `http://127.0.0.1:${port}` })),
        "x",
        300,
      );
      const started = performance.now();
      await expect(store.read("a")).rejects.toThrow(/no answer within 300 ms/);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      silent.close();
    }
  });
});
