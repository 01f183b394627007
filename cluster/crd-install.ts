import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { kubectl } from "./kubectl.ts";
import { REPO_ROOT } from "./paths.ts";

/** The repository's CustomResourceDefinition manifests (crds/*.yaml), sorted; empty when there are none yet. */
export function crdManifests(dir = join(REPO_ROOT, "crds")): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort()
    .map((f) => join(dir, f));
}

/** Server-side applies every CRD manifest and waits until all CRDs are Established. Returns the files applied. */
export async function installCrds(kubeconfig: string, files = crdManifests()): Promise<string[]> {
  if (files.length === 0) return [];
  const fileArgs = files.flatMap((f) => ["-f", f]);
  await kubectl(
    ["apply", "--server-side", "--field-manager=idfleet-test-setup", "--force-conflicts", ...fileArgs],
    {
      kubeconfig,
    },
  );
  const names = (await kubectl(["get", ...fileArgs, "-o", "name"], { kubeconfig }))
    .trim()
    .split("\n")
    .filter(Boolean);
  const crds = names.filter((n) => n.startsWith("customresourcedefinition"));
  if (crds.length > 0) {
    await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...crds], {
      kubeconfig,
      timeoutMs: 70_000,
    });
  }
  return files;
}
