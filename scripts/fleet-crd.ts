import { z } from "zod";
import { stringify } from "yaml";
import { FleetResource, fleetSpecSchema, fleetStatusSchema } from "../contract/fleet-spec.ts";

/**
 * Builds the IdGeneratorFleet CustomResourceDefinition from the zod schema in
 * contract/fleet-spec.ts. The CRD file under crds/ is this function's output, written by
 * `npm run crd:generate`; a unit test fails when the file is stale.
 */

type JsonSchema = Record<string, unknown>;

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * Turns zod's OpenAPI 3.0 output into a Kubernetes structural schema: no $schema, no
 * additionalProperties beside properties or preserve-unknown-fields, and without the
 * +-2^53 bounds zod adds to every integer (noise in `kubectl explain`).
 */
export function toStructuralSchema(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue;
    if ((key === "minimum" || key === "maximum") && SAFE_INTEGER_BOUNDS.has(value as number)) continue;
    if (key === "additionalProperties") {
      if (node["x-kubernetes-preserve-unknown-fields"] || node.properties || value === false) continue;
      out[key] = toStructuralSchema(value as JsonSchema);
      continue;
    }
    if (key === "properties") {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [
          name,
          toStructuralSchema(child),
        ]),
      );
      continue;
    }
    if (key === "items") {
      out[key] = toStructuralSchema(value as JsonSchema);
      continue;
    }
    out[key] = value;
  }
  return out;
}

function openApiOf(schema: z.ZodType): JsonSchema {
  return toStructuralSchema(
    z.toJSONSchema(schema, {
      target: "openapi-3.0",
      io: "input",
      reused: "inline",
      unrepresentable: "throw",
    }) as JsonSchema,
  );
}

/** The CRD object. */
export function buildFleetCrd(): JsonSchema {
  const r = FleetResource;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${r.plural}.${r.group}`,
      labels: { "app.kubernetes.io/name": "idfleet", "app.kubernetes.io/part-of": "idfleet" },
    },
    spec: {
      group: r.group,
      scope: "Namespaced",
      names: {
        kind: r.kind,
        listKind: r.listKind,
        plural: r.plural,
        singular: r.singular,
        shortNames: [...r.shortNames],
        categories: [...r.categories],
      },
      versions: [
        {
          name: r.version,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: {
              specReplicasPath: ".spec.replicas",
              statusReplicasPath: ".status.replicas",
              labelSelectorPath: ".status.selector",
            },
          },
          additionalPrinterColumns: [
            {
              name: "Desired",
              type: "integer",
              jsonPath: ".spec.replicas",
              description: "Desired generator pods",
            },
            {
              name: "Ready",
              type: "integer",
              jsonPath: ".status.readyReplicas",
              description: "Ready generator pods",
            },
            {
              name: "Leased",
              type: "integer",
              jsonPath: ".status.leasedWorkers",
              description: "Worker ids held by a live lease",
            },
            {
              name: "Max-Offset",
              type: "number",
              jsonPath: ".status.clock.maxOffsetMs",
              description: "Largest |clock offset| of a holder, ms",
            },
            {
              name: "Seq-Util",
              type: "number",
              jsonPath: ".status.sequenceUtilization.max",
              description: "Highest sequence utilization of a holder, 0..1",
            },
            {
              name: "Capacity",
              type: "integer",
              jsonPath: ".status.capacityIdsPerSecond",
              description: "IDs/s the ready pods can issue",
            },
            {
              name: "Free-Ids",
              type: "integer",
              jsonPath: ".status.workerIds.freeInRange",
              description: "Worker ids of the fleet's range no fleet holds",
            },
            // Wide output only (-o wide): dates far ahead; type string because kubectl shows future dates as <invalid>.
            {
              name: "Layout-Ends",
              type: "string",
              jsonPath: ".status.layoutExhaustsAt",
              description: "When the timestamp bits run out",
              priority: 1,
            },
            {
              name: "Past-2^53",
              type: "string",
              jsonPath: ".status.idsPassSafeIntegerAt",
              description: "When IDs exceed what a JavaScript number holds",
              priority: 1,
            },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "A fleet of 64-bit, time-sortable ID generators. The operator runs it as a StatefulSet whose pods each hold one worker-id lease.",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: openApiOf(fleetSpecSchema),
                status: openApiOf(fleetStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}

/** The CRD as the YAML file checked in under crds/. */
export function renderFleetCrdYaml(): string {
  return (
    "# Generated from contract/fleet-spec.ts by `npm run crd:generate`. Do not edit by hand.\n" +
    stringify(buildFleetCrd(), { lineWidth: 0 })
  );
}

/** Where the generated CRD lives, relative to the repository root. */
export const FLEET_CRD_PATH = `crds/${FleetResource.plural}.${FleetResource.group}.yaml`;

/** The same CRD inside config/, because kustomize loads no file from outside its root. */
export const CONFIG_CRD_PATH = `config/crd/${FleetResource.plural}.${FleetResource.group}.yaml`;
