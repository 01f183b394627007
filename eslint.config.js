import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * An import of a top-level folder of this repository, from any depth (`../../operator/...`).
 * Relative specifiers only: the folders are not packages.
 */
const topLevel = (...folders) => `^(\\.\\./)+(${folders.join("|")})/`;

/** no-restricted-imports for the files of one folder: the folders they must not reach into, and why. */
const mayNotImport = (files, folders, why) => ({
  files,
  rules: {
    "no-restricted-imports": ["error", { patterns: [{ regex: topLevel(...folders), message: why }] }],
  },
});

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "crds/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // An async code base: a promise nobody awaits loses its error, and one passed where a
      // callback's result is ignored (event emitters, timers) does too.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "no-restricted-syntax": [
        "error",
        {
          selector: "TSEnumDeclaration",
          message: "Use a union from an `as const` object instead of an enum.",
        },
      ],
    },
  },
  // Plain JavaScript is outside tsconfig.json: no type information for it.
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },

  // Boundaries. contract/ is the only code the two components share; tests that exercise
  // both live in system/. Product scripts use the cluster library (cluster/), never the e2e
  // suite's helpers.
  mayNotImport(
    ["contract/**"],
    ["generator", "operator", "client", "system", "cluster", "e2e", "scripts", "bench"],
    "contract/ is the leaf both components import: it imports neither of them.",
  ),
  mayNotImport(
    ["generator/**"],
    ["operator", "system"],
    "The generator never imports the operator: share through contract/, or test both from system/.",
  ),
  mayNotImport(
    ["operator/**"],
    ["generator", "system"],
    "The operator never imports the generator: share through contract/, or test both from system/.",
  ),
  mayNotImport(
    ["client/**"],
    ["generator", "operator", "system", "cluster", "e2e", "scripts", "bench"],
    "The client library ships alone: it imports contract/ and nothing else of this repository.",
  ),
  mayNotImport(
    ["scripts/**", "cluster/**"],
    ["e2e", "system"],
    "Product scripts and the cluster library do not import test code: move what they share into cluster/.",
  ),
);
