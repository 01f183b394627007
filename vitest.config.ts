import { defineConfig } from "vitest/config";

/**
 * Three suites, by file name:
 *  - `*.test.ts`      unit tests, pure logic, beside the source
 *  - `*.int.test.ts`  integration tests against a real etcd + kube-apiserver (started once per run)
 *  - `*.e2e.test.ts`  end-to-end tests against a full cluster given by KUBECONFIG
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "{client,contract,generator,operator,system,cluster,bench,e2e,scripts,config}/**/*.test.ts",
          ],
          exclude: ["**/*.int.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["{client,contract,generator,operator,system,cluster,e2e,config}/**/*.int.test.ts"],
          globalSetup: ["e2e/control-plane/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: true,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["e2e/suite/**/*.e2e.test.ts"],
          globalSetup: ["e2e/suite/support/namespace-cleanup-check.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
