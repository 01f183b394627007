import { describe, expect, inject, it } from "vitest";
import { kubectl } from "../../../cluster/kubectl.ts";
import { LIST_MAP_KEYS } from "./list-map-keys.ts";

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
};

describe("list-map keys", () => {
  it("names only lists the API server merges by exactly that key (StatefulSet schema)", async () => {
    const doc = JSON.parse(
      await kubectl(["get", "--raw", "/openapi/v3/apis/apps/v1"], { kubeconfig: inject("kubeconfig") }),
    ) as { components: { schemas: Record<string, Schema> } };
    const schemas = doc.components.schemas;
    const resolve = (s: Schema | undefined): Schema | undefined => {
      const ref = s?.$ref ?? s?.allOf?.find((a) => a.$ref)?.$ref;
      return ref ? schemas[ref.replace("#/components/schemas/", "")] : s;
    };
    const listAt = (path: string): Schema | undefined => {
      let schema = schemas["io.k8s.api.apps.v1.StatefulSet"];
      const segments = path.split(".");
      segments.forEach((segment, i) => {
        const field = resolve(schema)?.properties?.[segment.replace("[]", "")];
        const last = i === segments.length - 1;
        schema = last ? field : segment.endsWith("[]") ? resolve(field)?.items : field;
      });
      return schema;
    };
    for (const [path, key] of Object.entries(LIST_MAP_KEYS)) {
      const list = listAt(path);
      expect(list, path).toBeDefined();
      expect([path, list?.["x-kubernetes-list-type"], list?.["x-kubernetes-list-map-keys"]]).toEqual([
        path,
        "map",
        [key],
      ]);
    }
  });
});
