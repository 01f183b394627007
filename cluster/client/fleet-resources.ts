import { parseAllDocuments } from "yaml";
import { FleetResource, type IdGeneratorFleet } from "../../contract/fleet-spec.ts";
import { apply, k, kJson } from "./cluster-access.ts";
import { requireImage } from "./images.ts";
import { waitFor } from "./wait-for.ts";

/** A fleet as the e2e suite reads it back: the raw object (spec as the API server defaulted it). */
export type FleetObject = Omit<IdGeneratorFleet, "spec"> & {
  spec: Record<string, unknown> & { replicas?: number };
};

/** A fleet manifest running the locally built generator image, its Service on `port`; `spec` adds the rest. */
export function localFleet(name: string, port: number, spec: Record<string, unknown>): object {
  return {
    apiVersion: FleetResource.apiVersion,
    kind: FleetResource.kind,
    metadata: { name },
    spec: { image: requireImage("generator"), imagePullPolicy: "IfNotPresent", service: { port }, ...spec },
  };
}

/**
 * Applies fleets (YAML text, possibly several documents, or objects) into `namespace`, whatever namespace
 * the manifest names, with server-side apply. Returns the names applied.
 */
export async function applyFleet(namespace: string, fleet: string | object | object[]): Promise<string[]> {
  const objects: Record<string, unknown>[] =
    typeof fleet === "string"
      ? parseAllDocuments(fleet)
          .map((doc) => doc.toJS() as Record<string, unknown> | null)
          .filter((o): o is Record<string, unknown> => o !== null)
      : (Array.isArray(fleet) ? fleet : [fleet]).map((o) => ({ ...(o as Record<string, unknown>) }));
  const names: string[] = [];
  for (const object of objects) {
    const metadata: Record<string, unknown> = { ...(object.metadata as Record<string, unknown>), namespace };
    object.metadata = metadata;
    names.push(String(metadata.name));
  }
  await apply(namespace, objects);
  return names;
}

/** The fleet `namespace/name` as the API server has it. */
export async function getFleet(namespace: string, name: string): Promise<FleetObject> {
  return kJson<FleetObject>(["get", FleetResource.plural, "-n", namespace, name]);
}

/** One line on what keeps a fleet from being Ready, from its status. */
export function fleetReadiness(fleet: FleetObject): { ready: boolean; summary: string } {
  const status = fleet.status ?? {};
  const ready = status.conditions?.find((c) => c.type === "Ready");
  const desired = fleet.spec.replicas ?? 1;
  const current = status.observedGeneration === fleet.metadata.generation;
  const summary =
    `generation ${String(fleet.metadata.generation)} observed ${String(status.observedGeneration)}, ` +
    `ready ${String(status.readyReplicas ?? 0)}/${String(desired)}, leased ${String(status.leasedWorkers ?? 0)}, ` +
    (status.conditions ?? []).map((c) => `${c.type}=${c.status} (${c.reason}: ${c.message})`).join("; ");
  return {
    ready: current && ready?.status === "True" && (status.readyReplicas ?? 0) === desired,
    summary,
  };
}

/**
 * Waits until the operator has acted on the fleet's current generation, its Ready condition is True and
 * every desired pod is ready. Returns the fleet; on timeout the error carries its conditions.
 */
export async function waitForFleetReady(
  namespace: string,
  name: string,
  timeoutMs = 180_000,
): Promise<FleetObject> {
  return waitFor(
    `fleet ${namespace}/${name} Ready`,
    async () => {
      const fleet = await getFleet(namespace, name);
      const { ready, summary } = fleetReadiness(fleet);
      if (ready) return fleet;
      throw new Error(summary);
    },
    { timeoutMs },
  );
}

/** `kubectl get idfleets` output, as printed and split into columns by header name. */
export type IdFleetsTable = { text: string; headers: string[]; rows: Record<string, string>[] };

/** `kubectl get idfleets` (in `namespace`, or all namespaces when omitted), printed and parsed. */
export async function getIdFleetsTable(namespace?: string): Promise<IdFleetsTable> {
  const text = await k(["get", "idfleets", ...(namespace ? ["-n", namespace] : ["-A"])]);
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const headerLine = lines[0] ?? "";
  // Columns are left-aligned under their header: cut every row at the header's column starts.
  const starts = [...headerLine.matchAll(/\S+/g)].map((m) => m.index);
  const headers = [...headerLine.matchAll(/\S+/g)].map((m) => m[0]);
  const rows = lines
    .slice(1)
    .map((line) =>
      Object.fromEntries(
        headers.map((header, i) => [header, line.slice(starts[i], starts[i + 1] ?? line.length).trim()]),
      ),
    );
  return { text, headers, rows };
}
