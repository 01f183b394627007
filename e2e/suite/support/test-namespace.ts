import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { LOG_ROOT } from "../../../cluster/paths.ts";
import { k } from "../../../cluster/client/cluster-access.ts";

/** A namespace that lives for one test file. */
export type E2eNamespace = { readonly name: string };

/**
 * Registers beforeAll/afterAll hooks that create a uniquely named namespace for the calling test file and
 * delete it afterwards. Before deleting, what was in it (objects, events, the last lines of the pods
 * still there) is saved under LOG_ROOT/e2e/<namespace>/ so a failed run can be diagnosed. On the local
 * cluster every pod's whole log, also of pods deleted mid-test, is in LOG_ROOT/pod-logs/<namespace>/
 * (cluster/pod-log-mirror.ts).
 */
export function useE2eNamespace(prefix: string): E2eNamespace {
  const name = `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40)}-${randomBytes(3).toString("hex")}`;
  beforeAll(async () => {
    await k(["create", "namespace", name]);
    await k(["label", "namespace", name, "idfleet.dev/e2e=true"]);
  });
  afterAll(async () => {
    const dir = join(LOG_ROOT, "e2e", name);
    mkdirSync(dir, { recursive: true });
    for (const [file, args] of [
      ["objects.yaml", ["get", "all,hpa,events,configmaps", "-n", name, "-o", "yaml"]],
      ["pods.txt", ["get", "pods", "-n", name, "-o", "wide"]],
    ] as const) {
      writeFileSync(join(dir, file), await k([...args]).catch((e: unknown) => String(e)));
    }
    writeFileSync(join(dir, "pod-logs.txt"), await podLogs(name));
    await k(["delete", "namespace", name, "--wait=false"]).catch(() => "");
  });
  return {
    get name() {
      return name;
    },
  };
}

/** The last 200 lines of every container of every pod still in the namespace. */
async function podLogs(namespace: string): Promise<string> {
  const pods = (await k(["get", "pods", "-n", namespace, "-o", "name"]).catch(() => "")).split("\n");
  const out: string[] = [];
  for (const pod of pods.filter((p) => p.trim() !== "")) {
    out.push(
      await k(["logs", "-n", namespace, pod.trim(), "--all-containers", "--prefix", "--tail=200"]).catch(
        (e: unknown) => `${pod}: ${String(e)}`,
      ),
    );
  }
  return out.join("\n");
}
