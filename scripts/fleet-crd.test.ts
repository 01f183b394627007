import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CONFIG_CRD_PATH,
  FLEET_CRD_PATH,
  buildFleetCrd,
  renderFleetCrdYaml,
  toStructuralSchema,
} from "./fleet-crd.ts";
import { INSTALL_YAML_PATH, renderInstallYaml } from "./install-manifest.ts";

describe("fleet CRD", () => {
  it("is up to date with contract/fleet-spec.ts (run npm run crd:generate if not)", () => {
    expect(readFileSync(FLEET_CRD_PATH, "utf8")).toBe(renderFleetCrdYaml());
    expect(readFileSync(CONFIG_CRD_PATH, "utf8")).toBe(renderFleetCrdYaml());
  });

  it("config/install.yaml is up to date with config/kustomization.yaml (run npm run crd:generate if not)", () => {
    expect(readFileSync(INSTALL_YAML_PATH, "utf8")).toBe(renderInstallYaml());
  });

  it("is structural: every schema node has a type unless it preserves unknown fields", () => {
    const walk = (node: Record<string, unknown>, path: string): void => {
      if (!node["x-kubernetes-preserve-unknown-fields"]) expect(node.type, path).toBeTypeOf("string");
      expect(node.$ref, path).toBeUndefined();
      expect(node.anyOf ?? node.oneOf ?? node.allOf, path).toBeUndefined();
      if (node.properties) {
        expect(node.additionalProperties, path).toBeUndefined();
        for (const [k, v] of Object.entries(node.properties as Record<string, Record<string, unknown>>))
          walk(v, `${path}.${k}`);
      }
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
    };
    const crd = buildFleetCrd() as {
      spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] };
    };
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema, "");
  });

  it("drops zod's safe-integer bounds and additionalProperties beside properties", () => {
    expect(
      toStructuralSchema({
        type: "object",
        properties: { n: { type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 } },
        additionalProperties: false,
      }),
    ).toEqual({ type: "object", properties: { n: { type: "integer" } } });
  });
});
