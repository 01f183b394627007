/**
 * Serving through routine operations (docs/serving.md): clients pull IDs through a fleet's client
 * Service without pause or retry — some on kept-alive connections, some on a new connection per
 * request — while the fleet is rolled (a pod template change), scaled down 3 -> 1, and cold-started
 * with many replicas on small CPU requests on the (2-core) node. Every request must succeed, no ID
 * may repeat, and no container may be restarted.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { LeaseLabel } from "../../contract/lease-record.ts";
import { k, kJson } from "../../cluster/client/cluster-access.ts";
import { requireImage } from "../../cluster/client/images.ts";
import { applyFleet, localFleet, waitForFleetReady } from "../../cluster/client/fleet-resources.ts";
import { installOperator } from "../../cluster/client/operator-install.ts";
import {
  pullerSummary,
  startServicePullers,
  type PullerResult,
  type PullerSettings,
} from "./support/service-pullers.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";
import { waitForRollout } from "./support/fleet-rollout.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const ns = useE2eNamespace("e2e-serving");
const PORT = 8080;
const COLD_REPLICAS = Number(process.env.SERVING_COLD_REPLICAS ?? 30);
const PULLERS: PullerSettings = {
  keepAlive: 4,
  fresh: 4,
  count: 50,
  timeoutMs: 3000,
  pauseMs: 10,
  maxSeconds: 420,
};

type Pod = {
  metadata: { name: string; uid: string; creationTimestamp: string };
  status?: {
    containerStatuses?: { restartCount: number; ready: boolean }[];
    conditions?: { type: string; status: string; lastTransitionTime: string }[];
  };
};

async function fleetPods(fleet: string): Promise<Pod[]> {
  return (await kJson<{ items: Pod[] }>(["get", "pods", "-n", ns.name, "-l", `${LeaseLabel.fleet}=${fleet}`]))
    .items;
}

/** Seconds from each pod's creation to its Ready condition (1 s resolution), ascending. */
const readySeconds = (pods: Pod[]) =>
  pods
    .map((p) => {
      const ready = p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
      return ready
        ? (Date.parse(ready.lastTransitionTime) - Date.parse(p.metadata.creationTimestamp)) / 1000
        : NaN;
    })
    .sort((a, b) => a - b);

const restartsOf = (pods: Pod[]) =>
  pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0), 0);

const fleet = (name: string, spec: Record<string, unknown>) => localFleet(name, PORT, spec);

function expectClean(what: string, r: PullerResult): void {
  console.log(pullerSummary(what, r));
  if (r.samples.length) console.log(`  first failures:\n    ${r.samples.join("\n    ")}`);
  expect(r.ok).toBeGreaterThan(50);
  expect(r.keepAlive.requests).toBeGreaterThan(0);
  expect(r.fresh.requests).toBeGreaterThan(0);
  expect(r.failures, what).toEqual({});
  expect(r.duplicates, what).toBe(0);
}

describe("serving through routine operations", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("a rolling update and a scale-down 3 -> 1 fail no request and repeat no ID", async () => {
    await applyFleet(ns.name, fleet("roll", { replicas: 3 }));
    await waitForFleetReady(ns.name, "roll", 240_000);
    const image = requireImage("generator");

    const rolling = await startServicePullers(ns.name, image, "roll", PORT, PULLERS, "pullers-rollout");
    await rolling.flowing();
    const before = new Set((await fleetPods("roll")).map((p) => p.metadata.uid));
    const started = Date.now();
    await k([
      "patch",
      "idfleet",
      "roll",
      "-n",
      ns.name,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { podAnnotations: { "idfleet.dev/e2e-rollout": String(started) } } }),
    ]);
    await waitForRollout(ns.name, "roll", 3);
    const after = await fleetPods("roll");
    expect(after.filter((p) => before.has(p.metadata.uid))).toEqual([]); // every pod was replaced
    console.log(
      `rolling update of 3 pods took ${((Date.now() - started) / 1000).toFixed(0)} s; new pod created -> Ready and leased: ${readySeconds(after).join(", ")} s`,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expectClean("rolling update (3 pods)", await rolling.stop());

    const scaling = await startServicePullers(ns.name, image, "roll", PORT, PULLERS, "pullers-scale-down");
    await scaling.flowing();
    await k(["scale", "idfleet", "roll", "-n", ns.name, "--replicas=1"]);
    await waitFor(
      "one pod left",
      async () => {
        const pods = await fleetPods("roll");
        if (pods.length !== 1) throw new Error(`${String(pods.length)} pods`);
        return true;
      },
      { timeoutMs: 120_000 },
    );
    await waitForFleetReady(ns.name, "roll", 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    expectClean("scale-down 3 -> 1", await scaling.stop());
    expect(restartsOf(await fleetPods("roll"))).toBe(0);
    await k(["delete", "idfleet", "roll", "-n", ns.name, "--wait=true"], { timeoutMs: 120_000 });
  });

  test(`a cold start of ${String(COLD_REPLICAS)} replicas on small CPU requests restarts nothing and fails no request`, async () => {
    const created = Date.now();
    await applyFleet(
      ns.name,
      fleet("cold", {
        replicas: COLD_REPLICAS,
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "256Mi" } },
      }),
    );
    // Clients start as soon as the Service has a ready pod, and pull while the rest start.
    const endpoints = async () =>
      (
        await kJson<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>([
          "get",
          "endpointslices",
          "-n",
          ns.name,
          "-l",
          "kubernetes.io/service-name=cold",
        ])
      ).items
        .flatMap((s) => s.endpoints ?? [])
        .filter((e) => e.conditions?.ready).length;
    await waitFor(
      "a first ready pod behind the Service",
      async () => {
        if ((await endpoints()) < 1) throw new Error("no ready endpoint yet");
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    const firstReadyS = (Date.now() - created) / 1000;
    const pullers = await startServicePullers(
      ns.name,
      requireImage("generator"),
      "cold",
      PORT,
      PULLERS,
      "pullers-cold",
    );
    await pullers.flowing();
    await waitForFleetReady(ns.name, "cold", 420_000);
    const allReadyS = (Date.now() - created) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const result = await pullers.stop();
    const pods = await fleetPods("cold");
    const readyAfter = readySeconds(pods);
    const restarts = restartsOf(pods);
    console.log(
      `cold start of ${String(COLD_REPLICAS)} pods (CPU request 10m each): first ready after ${firstReadyS.toFixed(0)} s, all ready after ${allReadyS.toFixed(0)} s; ` +
        `pod created -> Ready: median ${String(readyAfter[readyAfter.length >> 1])} s, max ${String(readyAfter.at(-1))} s; container restarts: ${String(restarts)}`,
    );
    expectClean(`cold start of ${String(COLD_REPLICAS)} replicas`, result);
    expect(pods).toHaveLength(COLD_REPLICAS);
    expect(restarts).toBe(0);
    await k(["delete", "idfleet", "cold", "-n", ns.name, "--wait=false"]);
  });
});
