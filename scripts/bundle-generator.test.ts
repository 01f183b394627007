import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleGenerator, GENERATOR_EXTERNALS } from "./bundle-generator.ts";

describe("bundleGenerator", () => {
  const out = mkdtempSync(join(tmpdir(), "generator-bundle-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("writes main.js and warm-compile-cache.js as ESM, with only the docs packages left to node_modules", async () => {
    const bundle = await bundleGenerator(out);
    expect(bundle.main).toBe(join(out, "main.js"));
    expect(existsSync(join(out, "warm-compile-cache.js"))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "package.json"), "utf8"))).toEqual({ type: "module" });
    expect(bundle.packagesImported).toEqual([...GENERATOR_EXTERNALS].sort());
  });
});
