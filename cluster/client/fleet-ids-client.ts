import { decodeId, layoutMath, parseIdString, type DecodedId } from "../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../contract/id-layout.ts";
import { k, kJson } from "./cluster-access.ts";
import type { FleetObject } from "./fleet-resources.ts";
import { requireImage } from "./images.ts";
import { startInClusterClient, type InClusterClient } from "./in-cluster-client.ts";

/** Name of the client pod fetchIdsThroughService starts (once per namespace) next to the fleet. */
export const FLEET_CLIENT_POD = "idfleet-client";

const clients = new Map<string, Promise<InClusterClient>>();

/** The namespace's client pod (from the local Node base image), started on first use and then reused. */
export function fleetClient(namespace: string): Promise<InClusterClient> {
  let client = clients.get(namespace);
  if (!client) {
    // The generator image has node and is loaded into the node for every fleet; the base image is not loaded.
    client = startInClusterClient(namespace, requireImage("generator"), FLEET_CLIENT_POD);
    client.catch(() => clients.delete(namespace));
    clients.set(namespace, client);
  }
  return client;
}

/** Options of fetchIdsThroughService. */
export type FetchIdsOptions = {
  /**
   * HTTP requests to spread the IDs over, each on a new connection so kube-proxy balances them across the
   * fleet's pods (a kept-alive connection would stay on one pod). Default min(n, 40).
   */
  requests?: number;
};

/**
 * Fetches `n` IDs from the fleet's client Service `<name>.<namespace>.svc` from a pod inside the cluster
 * (DNS, the Service's ClusterIP and kube-proxy all exercised for real), as decimal strings in the order
 * received. Fails with the answers when any request is not a 200.
 */
export async function fetchIdsThroughService(
  namespace: string,
  name: string,
  n: number,
  options: FetchIdsOptions = {},
): Promise<string[]> {
  const requests = Math.max(1, Math.min(n, options.requests ?? 40));
  const perRequest = Math.ceil(n / requests);
  const service = await kJson<{ spec: { ports: { port: number }[] } }>([
    "get",
    "service",
    "-n",
    namespace,
    name,
  ]);
  const port = service.spec.ports[0]?.port ?? 80;
  const url = `http://${name}.${namespace}.svc:${String(port)}/v1/ids?count=${String(perRequest)}`;
  // `agent: false`: a fresh TCP connection per request. Requests run one after another, each bounded.
  const script = `
    const http = require("node:http");
    const one = () => new Promise((resolve) => {
      const req = http.get(${JSON.stringify(url)}, { agent: false, timeout: 10000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      });
      req.on("timeout", () => req.destroy(new Error("timed out after 10s")));
      req.on("error", (e) => resolve({ status: 0, body: String(e) }));
    });
    (async () => {
      const answers = [];
      for (let i = 0; i < ${String(requests)}; i++) answers.push(await one());
      console.log(JSON.stringify(answers));
    })();
  `;
  const client = await fleetClient(namespace);
  const answers = JSON.parse(await client.runNode(script, 30_000 + requests * 11_000)) as {
    status: number;
    body: string;
  }[];
  const failed = answers.filter((a) => a.status !== 200);
  if (failed.length > 0) {
    throw new Error(
      `${String(failed.length)} of ${String(requests)} requests to ${url} failed: ` +
        failed
          .slice(0, 5)
          .map((a) => `${String(a.status)} ${a.body}`)
          .join(" | "),
    );
  }
  return answers.flatMap((a) => (JSON.parse(a.body) as { ids: string[] }).ids).slice(0, n);
}

/** Decodes IDs with the fleet's layout (as the API server defaulted it). */
export function decodeFleetIds(fleet: FleetObject, ids: readonly string[]): DecodedId[] {
  const math = layoutMath(parseIdLayout(fleet.spec.layout ?? {}));
  return ids.map((id) => decodeId(math, parseIdString(id)));
}

/** Deletes the namespace's client pod (if fetchIdsThroughService started one). */
export async function stopFleetClient(namespace: string): Promise<void> {
  clients.delete(namespace);
  await k(["delete", "pod", "-n", namespace, FLEET_CLIENT_POD, "--ignore-not-found", "--wait=false"]);
}
