import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../paths.ts";

/** Image names written by cluster/images/build-images.sh (already loaded into the cluster's node). */
export type SuiteImages = {
  base: string;
  smoke: string;
  generator: string | null;
  operator: string | null;
  loader: string;
};

/** Path of images.json (override: IDFLEET_IMAGES_JSON). */
export const IMAGES_JSON = process.env.IDFLEET_IMAGES_JSON ?? join(REPO_ROOT, "e2e", ".work", "images.json");

/** The suite's images; fails with what to run when they were never built. */
export function suiteImages(): SuiteImages {
  if (!existsSync(IMAGES_JSON)) throw new Error(`${IMAGES_JSON} missing: run \`npm run images:build\` first`);
  return JSON.parse(readFileSync(IMAGES_JSON, "utf8")) as SuiteImages;
}

/** One image by role; fails with what is missing (e.g. the generator image before Dockerfile.generator exists). */
export function requireImage(role: "smoke" | "generator" | "operator" | "base"): string {
  const image = suiteImages()[role];
  if (!image)
    throw new Error(
      `no ${role} image in ${IMAGES_JSON}: add Dockerfile.${role} and run \`npm run images:build\``,
    );
  return image;
}
