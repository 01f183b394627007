import { CoreV1Api, type V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { createTestNamespace } from "../../e2e/control-plane/test-namespace.ts";
import { startResilientInformer } from "../src/kube/resilient-informer.ts";
import { waitFor } from "./operator-harness.ts";

describe("resilient informer", () => {
  it("keeps retrying a failing list with backoff, then syncs and follows changes", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("informer");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "before" } } });
    let failuresLeft = 2;
    const logs: string[] = [];
    const seen: string[] = [];
    const informer = startResilientInformer<V1ConfigMap>({
      kubeConfig,
      what: "configmaps",
      path: `/api/v1/namespaces/${ns}/configmaps`,
      list: () => {
        // The API server is real; the first two lists fail as if it were briefly unreachable.
        if (failuresLeft-- > 0) return Promise.reject(new Error("injected: connection refused"));
        return core.listNamespacedConfigMap({ namespace: ns });
      },
      onChange: (obj, verb) => seen.push(`${verb}:${obj.metadata?.name}`),
      log: (_level, message) => logs.push(message),
    });
    try {
      await waitFor("sync", () => informer.hasSynced(), 15_000);
      expect(logs.filter((l) => l.includes("injected"))).toHaveLength(2);
      expect(informer.cache.get("before", ns)).toBeDefined();
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "after" } } });
      await waitFor("watch event", () => seen.includes("add:after"));
      await core.deleteNamespacedConfigMap({ namespace: ns, name: "before" });
      await waitFor("delete event", () => seen.includes("delete:before"));
      expect(informer.cache.get("before", ns)).toBeUndefined();
    } finally {
      await informer.stop();
    }
  });
});
