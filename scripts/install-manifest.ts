import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";

/**
 * Renders config/kustomization.yaml into the single config/install.yaml: the listed
 * resources in order, joined as one multi-document YAML. The kustomization uses no
 * transformers, so this is exactly what `kubectl apply -k config/` applies.
 */
export function renderInstallYaml(kustomizationDir = "config"): string {
  const docs = resourcesOf(kustomizationDir).map((file) => readFileSync(file, "utf8").trim());
  return (
    "# Generated from config/kustomization.yaml by `npm run crd:generate`. Do not edit by hand.\n" +
    "# Install: kubectl apply --server-side -f config/install.yaml\n" +
    docs.map((d) => (d.startsWith("---") ? d : `---\n${d}`)).join("\n") +
    "\n"
  );
}

function resourcesOf(dir: string): string[] {
  const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as {
    resources?: string[];
    [k: string]: unknown;
  };
  const unsupported = Object.keys(kustomization).filter(
    (k) => !["apiVersion", "kind", "resources"].includes(k),
  );
  if (unsupported.length)
    throw new Error(
      `${dir}/kustomization.yaml uses ${unsupported.join(", ")}; renderInstallYaml only concatenates resources`,
    );
  return (kustomization.resources ?? []).flatMap((r) => {
    const path = join(dir, r);
    return statSync(path).isDirectory() ? resourcesOf(path) : [path];
  });
}

/** Where the rendered install manifest lives. */
export const INSTALL_YAML_PATH = join(dirname("config/kustomization.yaml"), "install.yaml");
