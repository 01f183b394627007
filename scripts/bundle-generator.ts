/**
 * Bundles the generator for its image: main.js and warm-compile-cache.js, sharing chunks, in `outDir`.
 *
 * Why: a generator starts on a busy node exactly when the HPA has asked for more pods. Resolving
 * and loading ~300 modules one by one cost it about 0.13 CPU-s of its ~0.33 (docs/serving.md, "A
 * light generator"); one bundle skips the resolution and the per-module wrappers. Code splitting
 * keeps what loads lazily (the lease code, /docs) out of what every start evaluates.
 *
 * @fastify/swagger and @fastify/swagger-ui stay in node_modules: swagger-ui serves files it finds
 * next to its own code, and both load only when /docs is first asked for.
 *
 * Usage: node scripts/bundle-generator.ts <outDir>
 */
import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..");

/** Modules the bundle leaves to node_modules (see above). */
export const GENERATOR_EXTERNALS = ["@fastify/swagger", "@fastify/swagger-ui"] as const;

/** What bundleGenerator wrote. */
export interface GeneratorBundle {
  /** Path of the bundle's main.js. */
  main: string;
  /** Packages the bundle imports from node_modules at run time (Node's own modules left out). */
  packagesImported: string[];
}

/** Writes the bundle into `outDir`. */
export async function bundleGenerator(outDir: string): Promise<GeneratorBundle> {
  const result = await build({
    entryPoints: [join(repo, "generator/src/main.ts"), join(repo, "generator/src/warm-compile-cache.ts")],
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    external: [...GENERATOR_EXTERNALS],
    // Bundled CommonJS packages (fastify, pino, prom-client) call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __idfleetRequire } from 'node:module'; const require = __idfleetRequire(import.meta.url);",
    },
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    logLevel: "warning",
  });
  // ESM by declaration: without it Node would first try each file as CommonJS.
  writeFileSync(join(outDir, "package.json"), '{ "type": "module" }\n');
  const packagesImported = Object.values(result.metafile.outputs).flatMap((o) =>
    o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path),
  );
  return { main: join(outDir, "main.js"), packagesImported: [...new Set(packagesImported)].sort() };
}

if (import.meta.main) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error("usage: node scripts/bundle-generator.ts <outDir>");
    process.exit(2);
  }
  console.log(`bundled ${(await bundleGenerator(resolve(outDir))).main}`);
}
