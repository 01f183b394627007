import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The client library imports these modules as they are: they must import nothing but each
// other (no zod, no node: modules, no packages), or the client grows a runtime dependency.
const DEPENDENCY_FREE = [
  "id-layout-math.ts",
  "id-encoding.ts",
  "id-bounds.ts",
  "id-capacity.ts",
  "layout-document.ts",
  "id-documents.ts",
  "sequence-start.ts",
];

const here = dirname(fileURLToPath(import.meta.url));
const importsOf = (file: string) =>
  [...readFileSync(join(here, file), "utf8").matchAll(/^import\s+(type\s+)?[^;]*?from\s+"([^"]+)";/gms)].map(
    (m) => ({ typeOnly: Boolean(m[1]), from: m[2] as string }),
  );

describe("the contract modules the client library uses", () => {
  it.each(DEPENDENCY_FREE)("%s imports only other dependency-free contract modules", (file) => {
    for (const { typeOnly, from } of importsOf(file)) {
      if (typeOnly) continue;
      expect(
        from.startsWith("./") && DEPENDENCY_FREE.includes(from.slice(2)),
        `${file} imports ${from}`,
      ).toBe(true);
    }
  });
});
