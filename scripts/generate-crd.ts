import { readFileSync, writeFileSync } from "node:fs";
import { FLEET_CRD_PATH, renderFleetCrdYaml } from "./fleet-crd.ts";

// Usage: node scripts/generate-crd.ts [--check]  (run from the repository root)
const rendered = renderFleetCrdYaml();
if (process.argv.includes("--check")) {
  const current = readFileSync(FLEET_CRD_PATH, "utf8");
  if (current !== rendered) {
    console.error(`${FLEET_CRD_PATH} is stale; run npm run crd:generate`);
    process.exit(1);
  }
} else {
  writeFileSync(FLEET_CRD_PATH, rendered);
  console.log(`wrote ${FLEET_CRD_PATH}`);
}
