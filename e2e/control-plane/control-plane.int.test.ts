import { CoreV1Api, RbacAuthorizationV1Api, ApiException } from "@kubernetes/client-node";
import { describe, expect, inject, test } from "vitest";
import { adminKubeConfig, createTestNamespace, userKubeConfig } from "./test-namespace.ts";
import { kubeConfigForServiceAccount } from "./user-kubeconfig.ts";

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

describe("integration control plane", () => {
  test("serves the API over TLS and creates a namespace per test", async () => {
    const { name, kubeConfig } = await createTestNamespace("cp-smoke");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const ns = await core.readNamespace({ name });
    expect(ns.metadata?.name).toBe(name);
    expect(kubeConfig.getCurrentCluster()?.server).toBe(inject("controlPlane").server);
    expect(inject("controlPlane").server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test("RBAC denies an unprivileged user and allows it once bound", async () => {
    const { name } = await createTestNamespace("cp-rbac");
    const user = `alice-${name}`;
    const asUser = (await userKubeConfig(user, ["idfleet:testers"])).makeApiClient(CoreV1Api);

    const denied = await asUser.listNamespacedConfigMap({ namespace: name }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(statusOf(denied)).toBe(403);

    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRoleBinding({
      namespace: name,
      body: {
        metadata: { name: "testers-view" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "Group", name: "idfleet:testers", apiGroup: "rbac.authorization.k8s.io" }],
      },
    });
    // The RBAC authorizer sees the new binding through an informer: allow it a moment, bounded.
    await expect
      .poll(
        () =>
          asUser.listNamespacedConfigMap({ namespace: name }).then(
            (list) => Array.isArray(list.items),
            () => false,
          ),
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
    // Bound in this namespace only: other namespaces stay forbidden.
    const elsewhere = await asUser.listNamespacedConfigMap({ namespace: "kube-system" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(statusOf(elsewhere)).toBe(403);
  });

  test("a ServiceAccount token authenticates as that account", async () => {
    const { name, kubeConfig } = await createTestNamespace("cp-sa");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "robot" } } });
    const asRobot = (await kubeConfigForServiceAccount(kubeConfig, name, "robot")).makeApiClient(CoreV1Api);
    const denied = await asRobot.listNamespacedSecret({ namespace: name }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(statusOf(denied)).toBe(403);
    expect(String((denied as ApiException<string>).body)).toContain(`system:serviceaccount:${name}:robot`);
  });
});
