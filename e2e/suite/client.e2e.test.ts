/**
 * The client through routine operations (docs/client.md): an application pod takes IDs from
 * `@idfleet/client` (pointed at the fleet's headless Service) at a steady rate while the fleet goes
 * through, one after another, a rolling update, a scale-down 3 -> 1 and back up, a pod deleted by
 * force and an operator restart. The application must see no error, and every ID it was handed is
 * audited: none repeats, each is one the fleet issued (an answer the client received), and every
 * answer came from a pod instance that a lease named for the answer's worker id, with no two
 * instances interleaving ticks on one worker id (the chaos run's audit, e2e/suite/chaos/id-audit.ts).
 */
import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, test } from "vitest";
import { LeaseLabel } from "../../contract/lease-record.ts";
import { decodeId, layoutMath } from "../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../contract/id-layout.ts";
import { k, kJson, suiteKubeconfig } from "../../cluster/client/cluster-access.ts";
import { applyFleet, localFleet, waitForFleetReady } from "../../cluster/client/fleet-resources.ts";
import { requireImage } from "../../cluster/client/images.ts";
import {
  installOperator,
  OPERATOR_DEPLOYMENT,
  OPERATOR_NAMESPACE,
} from "../../cluster/client/operator-install.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";
import { FleetObserver } from "./chaos/fleet-observer.ts";
import { auditRun, findDuplicates, findNotIssued, IdCollector, leaseHoldersAt } from "./chaos/id-audit.ts";
import { waitForRollout } from "./support/fleet-rollout.ts";
import { startIdConsumer, type ConsumerRecord } from "./support/id-consumer-pod.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";

const ns = useE2eNamespace("e2e-client");
const FLEET = "ids";
const PORT = 8080;
const REPLICAS = 3;
/** IDs per second the application takes: steady, well below what one pod serves. */
const RATE = Number(process.env.CLIENT_E2E_RATE ?? 10_000);

type Pod = {
  metadata: { name: string; uid: string };
  status?: { conditions?: { type: string; status: string }[] };
};

const fleetPods = async (): Promise<Pod[]> =>
  (await kJson<{ items: Pod[] }>(["get", "pods", "-n", ns.name, "-l", `${LeaseLabel.fleet}=${FLEET}`])).items;
const isReady = (p: Pod) =>
  Boolean(p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));

/** Waits until the fleet has exactly `n` pods, none of them in `gone`, all ready, and is Ready itself. */
async function waitForPods(n: number, gone: ReadonlySet<string> = new Set()): Promise<void> {
  await waitFor(
    `${String(n)} ready pods of ${FLEET}`,
    async () => {
      const pods = await fleetPods();
      const ok = pods.length === n && pods.every((p) => isReady(p) && !gone.has(p.metadata.uid));
      if (!ok) throw new Error(pods.map((p) => `${p.metadata.name} ready=${String(isReady(p))}`).join(", "));
      return true;
    },
    { timeoutMs: 240_000, intervalMs: 1000 },
  );
  await waitForFleetReady(ns.name, FLEET, 120_000);
}

describe("the client through routine operations", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("a rollout, scale-down and up, a forced pod deletion and an operator restart surface no error and repeat no ID", async () => {
    await applyFleet(
      ns.name,
      localFleet(FLEET, PORT, {
        replicas: REPLICAS,
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      }),
    );
    const fleet = await waitForFleetReady(ns.name, FLEET, 240_000);
    const math = layoutMath(parseIdLayout(fleet.spec.layout ?? {}));
    const observer = new FleetObserver(suiteKubeconfig(), ns.name, FLEET, 250);
    observer.start();

    const app = await startIdConsumer(ns.name, requireImage("generator"), "orders-app", {
      source: "client",
      endpoint: `http://${FLEET}-headless.${ns.name}.svc:${String(PORT)}`,
      concurrency: 4,
      takeSize: 50,
      ratePerSecond: RATE,
      maxSeconds: 600,
      record: true,
      progressMs: 2000,
    });
    const timeline: string[] = [];
    const started = Date.now();
    const step = async (what: string, run: () => Promise<void>) => {
      const t0 = Date.now();
      await run();
      timeline.push(
        `${new Date(t0).toISOString()} (+${((t0 - started) / 1000).toFixed(0)} s) ${what}, ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
    };
    let result;
    try {
      await app.flowing(RATE);
      await step("rolling update (spec.podAnnotations)", async () => {
        const patch = { spec: { podAnnotations: { "idfleet.dev/e2e-rollout": String(Date.now()) } } };
        await k(["patch", "idfleet", FLEET, "-n", ns.name, "--type=merge", "-p", JSON.stringify(patch)]);
        await waitForRollout(ns.name, FLEET, REPLICAS);
      });
      await step("scale-down 3 -> 1", async () => {
        await k(["scale", "idfleet", FLEET, "-n", ns.name, "--replicas=1"]);
        await waitForPods(1);
      });
      await step("scale-up 1 -> 3", async () => {
        await k(["scale", "idfleet", FLEET, "-n", ns.name, `--replicas=${String(REPLICAS)}`]);
        await waitForPods(REPLICAS);
      });
      await step("pod force-deleted (--grace-period=0 --force)", async () => {
        const victim = (await fleetPods()).find((p) => p.metadata.name === `${FLEET}-1`);
        if (!victim) throw new Error(`no pod ${FLEET}-1`);
        await k(["delete", "pod", "-n", ns.name, victim.metadata.name, "--grace-period=0", "--force"]);
        await waitForPods(REPLICAS, new Set([victim.metadata.uid]));
      });
      await step("operator restart (its pod deleted, a new one ready)", async () => {
        const label = `app.kubernetes.io/name=${OPERATOR_DEPLOYMENT}`;
        const operatorPods = async () =>
          (await kJson<{ items: Pod[] }>(["get", "pods", "-n", OPERATOR_NAMESPACE, "-l", label])).items;
        const before = new Set((await operatorPods()).map((p) => p.metadata.uid));
        await k(["delete", "pod", "-n", OPERATOR_NAMESPACE, "-l", label, "--wait=false"]);
        await waitFor(
          "a new operator pod ready",
          async () => {
            const pods = await operatorPods();
            if (!pods.some((p) => !before.has(p.metadata.uid) && isReady(p)))
              throw new Error(pods.map((p) => `${p.metadata.name} ready=${String(isReady(p))}`).join(", "));
            return true;
          },
          { timeoutMs: 180_000, intervalMs: 1000 },
        );
        await waitForFleetReady(ns.name, FLEET, 120_000);
      });
      await sleep(5000);
    } finally {
      result = await app.stop();
      await observer.stop();
    }
    const record: ConsumerRecord = await app.collect();
    await app.remove();

    // Every answer the client received, attributed to the pod instance that had the answering IP;
    // an answer fetched by the Service's name (the first, before the client resolved it) to the
    // pod instance a lease named for its worker id at the time.
    const collector = new IdCollector(math);
    const sightings = [...observer.sightings.values()];
    let offset = 0;
    for (const b of record.batches) {
      const ids = Array.from(record.fetched.subarray(offset, offset + b.count));
      offset += b.count;
      let pod: { uid: string; name: string } | undefined;
      if (isIP(b.ip)) pod = observer.addresses.at(b.ip, b.atMs);
      else if (ids.length) {
        const holders = leaseHoldersAt(sightings, decodeId(math, ids[0]!).workerId, b.atMs, 1000);
        if (holders.length === 1) pod = { uid: holders[0]!, name: `${b.ip} (by lease)` };
      }
      collector.addBatch(pod?.uid ?? `unknown pod at ${b.ip}`, pod?.name ?? b.ip, ids, b.atMs);
    }
    const fetchedSorted = record.fetched.slice().sort();
    const fetchedAudit = auditRun(math, collector, sightings);
    const delivered = record.delivered.slice().sort();
    const deliveredDuplicates = findDuplicates(math, delivered);
    const notIssued = findNotIssued(math, delivered, fetchedSorted);
    const first = delivered.length ? decodeId(math, delivered[0]!) : undefined;
    const last = delivered.length ? decodeId(math, delivered.at(-1)!) : undefined;

    const n = (x: number) => x.toLocaleString("en-US");
    console.log(
      [
        `[client e2e] application: ${n(result.delivered)} IDs consumed in ${result.seconds.toFixed(0)} s (${n(result.idsPerSecond)}/s), ` +
          `errors ${JSON.stringify(result.errors)}, longest call ${String(result.maxCallMs)} ms, ${result.cpuSeconds.toFixed(1)} CPU s`,
        `[client e2e] client hooks: ${n(result.refills)} refills (${n(result.refilledIds)} IDs), ${n(result.failovers)} failovers ${JSON.stringify(result.failoverReasons)}, ` +
          `${n(result.staleDrops)} stale drops, ${n(result.endpointChanges)} endpoint changes; stats ${JSON.stringify(result.stats)}`,
        `[client e2e] audit: ${n(delivered.length)} IDs handed out, ${n(deliveredDuplicates.duplicates)} duplicates, ${n(notIssued.notIssued)} not issued to the client; ` +
          `${n(fetchedAudit.idsChecked)} IDs received in ${n(record.batches.length)} answers, ${n(fetchedAudit.duplicates)} duplicates, ` +
          `${n(fetchedAudit.unleasedBatches.length)} answers without a lease, ${n(fetchedAudit.holderOverlaps.length)} interleaved holders; ` +
          `worker ids ${fetchedAudit.workerIdsSeen.join(",")} from ${String(fetchedAudit.podInstancesSeen)} pod instances (${String(observer.sightings.size)} lease sightings)`,
        `[client e2e] IDs' times ${first?.time.toISOString()} .. ${last?.time.toISOString()}`,
        ...timeline.map((t) => `[client e2e] ${t}`),
      ].join("\n"),
    );
    for (const [what, lines] of [
      ["first errors", result.errorSamples],
      ["failovers", result.failoverSamples],
      ["calls slower than 250 ms", result.slowCalls],
    ] as const)
      if (lines.length) console.log(`[client e2e] ${what}:\n    ${lines.join("\n    ")}`);

    expect(result.errors).toEqual({});
    expect(result.delivered).toBe(delivered.length);
    expect(result.delivered).toBeGreaterThan(RATE * 10);
    expect(result.layout).toEqual(math.layout);
    expect(deliveredDuplicates.duplicateExamples).toEqual([]);
    expect(deliveredDuplicates.duplicates).toBe(0);
    expect(notIssued.examples).toEqual([]);
    expect(fetchedAudit.duplicates).toBe(0);
    expect(fetchedAudit.unleasedBatches.slice(0, 10)).toEqual([]);
    expect(fetchedAudit.holderOverlaps).toEqual([]);
    // Handed out within maxAgeMs (5 s) of being asked for, so no ID predates the run by more.
    expect(first!.time.getTime()).toBeGreaterThan(started - 30_000);
    expect(fetchedAudit.podInstancesSeen).toBeGreaterThanOrEqual(REPLICAS * 2);
    await k(["delete", "idfleet", FLEET, "-n", ns.name, "--wait=false"]);
  });
});
