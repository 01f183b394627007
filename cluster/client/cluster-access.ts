import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { kubectl } from "../kubectl.ts";

/**
 * The kubeconfig the e2e suite runs against: $KUBECONFIG (first entry) or ~/.kube/config, whose current
 * context `npm run cluster:up` and e2e/kind/run-kind-e2e.sh both set. The suite does not care which cluster.
 */
export function suiteKubeconfig(): string {
  const path = process.env.KUBECONFIG?.split(":").find(Boolean) ?? join(homedir(), ".kube", "config");
  if (!existsSync(path)) {
    throw new Error(
      `no kubeconfig at ${path}: start a cluster with \`npm run cluster:up\` (or \`npm run e2e:kind\`)`,
    );
  }
  return path;
}

/** kubectl against the suite's cluster. */
export async function k(
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return kubectl(args, { kubeconfig: suiteKubeconfig(), ...options });
}

/** kubectl ... -o json, parsed. */
export async function kJson<T>(args: string[], timeoutMs?: number): Promise<T> {
  return JSON.parse(await k([...args, "-o", "json"], timeoutMs === undefined ? {} : { timeoutMs })) as T;
}

/** Server-side applies Kubernetes objects (as plain objects) into `namespace`. */
export async function apply(namespace: string, objects: object[]): Promise<void> {
  const input = objects.map((o) => JSON.stringify(o)).join("\n");
  await k(["apply", "--server-side", "--field-manager=idfleet-e2e", "-n", namespace, "-f", "-"], { input });
}
