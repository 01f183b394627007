import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../paths.ts";
import { k, kJson } from "./cluster-access.ts";

/** One object of config/custom-metrics, as far as deleting it needs. */
export type ShippedObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { service?: { namespace?: string; name?: string } };
};

const COMPONENT_DIR = join(REPO_ROOT, "config", "custom-metrics");

/** Every object config/custom-metrics ships (its kustomization's resources, in order). */
export function customMetricsObjects(): ShippedObject[] {
  const kustomization = parse(readFileSync(join(COMPONENT_DIR, "kustomization.yaml"), "utf8")) as {
    resources: string[];
  };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(COMPONENT_DIR, file), "utf8"))
      .map((doc) => doc.toJS() as ShippedObject | null)
      .filter((o): o is ShippedObject => o !== null),
  );
}

type ApiServiceList = { items: ShippedObject[] };

/**
 * Names of the APIServices on the cluster that the operator serves: those pointing at the Service
 * config/custom-metrics registers them with. An APIService of the same group served by someone else
 * (prometheus-adapter, KEDA) is not the operator's and is never listed.
 */
export async function operatorApiServices(): Promise<string[]> {
  const ours = customMetricsObjects().filter((o) => o.kind === "APIService");
  const backends = new Set(ours.map((o) => `${o.spec?.service?.namespace}/${o.spec?.service?.name}`));
  const list = await kJson<ApiServiceList>(["get", "apiservices"]);
  return list.items
    .filter((a) => backends.has(`${a.spec?.service?.namespace}/${a.spec?.service?.name}`))
    .map((a) => a.metadata.name)
    .sort();
}

/**
 * Deletes the operator's APIServices and waits until they are gone. Run it before the operator stops
 * serving them: an APIService whose backend does not answer fails discovery for the whole cluster, and
 * the namespace controller then leaves every namespace being deleted in Terminating
 * (NamespaceDeletionDiscoveryFailure) until it answers or is deleted.
 */
export async function deleteOperatorApiServices(): Promise<void> {
  const names = await operatorApiServices();
  if (names.length === 0) return;
  await k(["delete", "apiservice", ...names, "--ignore-not-found", "--wait=true", "--timeout=60s"], {
    timeoutMs: 70_000,
  });
}

/**
 * Removes what config/custom-metrics installed: the APIServices first (see deleteOperatorApiServices),
 * then their Service and RBAC. For installs without the custom metrics API: `kubectl apply` never
 * prunes, so these would otherwise stay from an earlier install that had it.
 */
export async function deleteCustomMetricsObjects(): Promise<void> {
  await deleteOperatorApiServices();
  const rest = customMetricsObjects().filter((o) => o.kind !== "APIService");
  const input = rest.map((o) => JSON.stringify(o)).join("\n");
  await k(["delete", "--ignore-not-found", "--wait=true", "-f", "-"], { input, timeoutMs: 120_000 });
}
