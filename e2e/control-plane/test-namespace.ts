import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { inject, onTestFinished } from "vitest";
import { kubeConfigForUser } from "./user-kubeconfig.ts";
import "./provided-context.ts";

/** A namespace that exists for one test, and an admin client configured for the shared control plane. */
export type TestNamespace = { name: string; kubeConfig: KubeConfig };

/** Admin KubeConfig for the integration control plane started by global-setup.ts. */
export function adminKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(inject("kubeconfig"));
  return kubeConfig;
}

/** A KubeConfig for an arbitrary user/groups on the integration control plane (for real RBAC checks). */
export async function userKubeConfig(user: string, groups: string[] = []): Promise<KubeConfig> {
  const { server, caFile, clientCaFile, clientCaKeyFile } = inject("controlPlane");
  return kubeConfigForUser({ server, caFile, clientCaFile, clientCaKeyFile }, user, groups);
}

/**
 * Creates a uniquely named namespace for the running test and deletes it when the test finishes
 * (pass or fail). Call it inside a test (or beforeEach).
 */
export async function createTestNamespace(prefix = "test"): Promise<TestNamespace> {
  const kubeConfig = adminKubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const stem =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .slice(0, 40)
      .replace(/^-+|-+$/g, "") || "test";
  const name = `${stem}-${randomBytes(4).toString("hex")}`;
  await core.createNamespace({
    body: { metadata: { name, labels: { "idfleet.dev/test-namespace": "true" } } },
  });
  onTestFinished(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return { name, kubeConfig };
}
