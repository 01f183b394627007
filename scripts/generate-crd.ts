import { readFileSync, writeFileSync } from "node:fs";
import { FLEET_CRD_PATH, CONFIG_CRD_PATH, renderFleetCrdYaml } from "./fleet-crd.ts";
import { INSTALL_YAML_PATH, renderInstallYaml } from "./install-manifest.ts";

// Usage: node scripts/generate-crd.ts [--check]  (from the repository root)
// Writes every generated manifest: the CRD (crds/ and config/crd/) and config/install.yaml.
const check = process.argv.includes("--check");
const outputs: [string, () => string][] = [
  [FLEET_CRD_PATH, renderFleetCrdYaml],
  [CONFIG_CRD_PATH, renderFleetCrdYaml],
  // Rendered last: it embeds config/crd/.
  [INSTALL_YAML_PATH, () => renderInstallYaml()],
];
let stale = 0;
for (const [path, render] of outputs) {
  if (check) {
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== render()) {
      console.error(`${path} is stale; run npm run crd:generate`);
      stale++;
    }
  } else {
    writeFileSync(path, render());
    console.log(`wrote ${path}`);
  }
}
process.exit(stale ? 1 : 0);
