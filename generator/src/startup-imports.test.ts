import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The generator process must start light (docs/serving.md, "A light generator"): nothing
 * reachable from main.ts may load @kubernetes/client-node at run time (type-only imports
 * are erased and fine). Walks the static and dynamic imports of the source.
 */
const IMPORT =
  /^\s*(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gm;

function runtimeImports(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const specifiers: string[] = [];
    seen.set(file, specifiers);
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      if (m[2]) continue; // import type ... from
      const spec = m[3] ?? m[4] ?? m[5] ?? "";
      specifiers.push(spec);
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
    }
  };
  visit(entry);
  return seen;
}

describe("generator start-up imports", () => {
  it("never loads @kubernetes/client-node", () => {
    const main = fileURLToPath(new URL("./main.ts", import.meta.url));
    const graph = runtimeImports(main);
    expect(graph.size).toBeGreaterThan(10);
    // The lease-mode modules are reached through main's dynamic imports.
    expect([...graph.keys()].some((f) => f.endsWith("kube-api-client.ts"))).toBe(true);
    const offenders = [...graph].filter(([, specs]) => specs.some((s) => s.startsWith("@kubernetes/")));
    expect(offenders.map(([file]) => file)).toEqual([]);
  });
});
