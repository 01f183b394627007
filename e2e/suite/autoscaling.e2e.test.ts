/**
 * Autoscaling end to end on the real cluster (HPA sync 5 s there): a bounded load generator pod drives a
 * fleet's pods through its Service and the operator's HPA scales the fleet up, then back down after the
 * load stops, (a) on CPU through metrics-server and (b) on sequence utilization through the operator's
 * custom.metrics.k8s.io; the replica timelines are printed. Scale-ups lease a worker id to each new pod
 * before it serves, scale-downs release them, and (c) replicas never exceed the worker ids available
 * whatever the HPA asks: the fleet says so in WorkerIdsExhausted.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { k, kJson } from "../../cluster/client/cluster-access.ts";
import { getFleet } from "../../cluster/client/fleet-resources.ts";
import { requireImage } from "../../cluster/client/images.ts";
import { startLoad } from "./support/load-generator.ts";
import { applyFleet, installOperator, waitForFleetReady } from "../../cluster/client/operator-install.ts";
import { startReplicaTimeline } from "./support/replica-timeline.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const ns = useE2eNamespace("e2e-autoscaling");
const SCALE_TIMEOUT_MS = 240_000;

type ConfigMap = {
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  data?: Record<string, string>;
};
type Pod = {
  metadata: { name: string; uid: string };
  status: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
};

const fleetSpec = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "idfleet.dev/v1alpha1",
  kind: "IdGeneratorFleet",
  metadata: { name },
  spec: {
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    ...spec,
  },
});

// Scale down after 15 s of low load instead of the default 5 minutes; scale up at once.
const quickBehavior = {
  scaleDown: {
    stabilizationWindowSeconds: 15,
    policies: [{ type: "Percent", value: 100, periodSeconds: 5 }],
  },
  scaleUp: { stabilizationWindowSeconds: 0 },
};

async function podsOf(fleet: string): Promise<Pod[]> {
  const list = await kJson<{ items: Pod[] }>([
    "get",
    "pods",
    "-n",
    ns.name,
    "-l",
    `idfleet.dev/fleet=${fleet}`,
  ]);
  return list.items;
}

async function leasesOf(fleet: string): Promise<ConfigMap[]> {
  const list = await kJson<{ items: ConfigMap[] }>(["get", "configmaps", "-n", ns.name]);
  return list.items.filter(
    (cm) => cm.data?.holderPod?.startsWith(`${fleet}-`) && cm.metadata.name.endsWith("-lease"),
  );
}

/**
 * Every ready pod of the fleet holds its own lease (holder = the pod's UID) with a distinct worker id,
 * and the lease existed before the pod turned ready: the id was allocated before the pod served.
 */
async function expectEachReadyPodLeased(fleet: string): Promise<void> {
  const [pods, leases] = await Promise.all([podsOf(fleet), leasesOf(fleet)]);
  const ready = pods.filter((p) =>
    p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  );
  const workerIds = new Set<string>();
  for (const pod of ready) {
    const lease = leases.find((l) => l.metadata.name === `${pod.metadata.name}-lease`);
    expect(lease, `lease of ${pod.metadata.name}`).toBeDefined();
    expect(lease!.data!.holderUid).toBe(pod.metadata.uid);
    workerIds.add(lease!.data!.workerId!);
    const readyAt = pod.status.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime!;
    expect(Date.parse(lease!.metadata.creationTimestamp)).toBeLessThanOrEqual(Date.parse(readyAt));
  }
  expect(workerIds.size).toBe(ready.length);
}

/** After a scale-down: only the remaining pods hold leases; the ledger holds nothing more for the fleet. */
async function expectReleasedDownTo(fleet: string, replicas: number): Promise<void> {
  await waitFor(
    `${fleet}: only ${replicas} lease(s) left and the ledger's other ids no longer leased`,
    async () => {
      const leases = (await leasesOf(fleet)).filter((l) => l.data?.state !== "Released");
      // Ledgers live in the operator's namespace; they name fleets as namespace/name.
      const ledger = await kJson<ConfigMap>([
        "get",
        "configmap",
        "-n",
        "idfleet-system",
        `${fleet}-worker-ids`,
      ]);
      const leased = Object.values(ledger.data ?? {}).filter((v) => {
        try {
          const entry = JSON.parse(v) as { state?: string; fleet?: string };
          return entry.state === "leased" && entry.fleet === `${ns.name}/${fleet}`;
        } catch {
          return false;
        }
      });
      if (leases.length === replicas && leased.length === replicas) return true;
      throw new Error(`${leases.length} live lease(s), ${leased.length} leased ledger entries`);
    },
    { timeoutMs: 90_000 },
  );
}

async function waitForReplicas(
  fleet: string,
  predicate: (n: number) => boolean,
  what: string,
): Promise<number> {
  return waitFor(
    `${fleet} ${what}`,
    async () => {
      const f = await getFleet(ns.name, fleet);
      const ready = f.status?.readyReplicas ?? 0;
      const desired = f.spec.replicas ?? 0;
      if (predicate(desired) && ready === desired) return desired;
      throw new Error(`spec.replicas ${desired}, ready ${ready}`);
    },
    { timeoutMs: SCALE_TIMEOUT_MS, intervalMs: 3_000 },
  );
}

describe("autoscaling: the HPA scales fleets on CPU and on sequence utilization, within the worker ids", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("(a) CPU: load scales the fleet up, ids leased before pods serve; no load scales it down and releases them", async () => {
    const fleet = "cpu";
    await applyFleet(
      ns.name,
      fleetSpec(fleet, {
        replicas: 1,
        autoscaling: {
          enabled: true,
          minReplicas: 1,
          maxReplicas: 4,
          targetCPUUtilizationPercentage: 50,
          behavior: quickBehavior,
        },
      }),
    );
    await waitForFleetReady(ns.name, fleet, 180_000);
    const timeline = startReplicaTimeline(ns.name, fleet);
    try {
      timeline.setPhase("load");
      const load = await startLoad(
        ns.name,
        requireImage("smoke"),
        `http://${fleet}.${ns.name}.svc/v1/ids?count=2000`,
        { concurrency: 6, maxSeconds: 180, maxRequests: 400_000 },
        "load-cpu",
      );
      const peak = await waitForReplicas(fleet, (n) => n >= 2, "scaled up to at least 2 ready pods");
      await expectEachReadyPodLeased(fleet);
      await load.stop();
      timeline.setPhase("no load");
      await waitForReplicas(fleet, (n) => n === 1, "back down to 1 pod");
      await expectReleasedDownTo(fleet, 1);
      expect(peak).toBeGreaterThanOrEqual(2);
    } finally {
      await timeline.stop();
      timeline.print("(a) CPU, target 50% of 100m");
    }
    const maxSeen = Math.max(...timeline.samples.map((s) => s.fleetReplicas ?? 0));
    expect(maxSeen).toBeLessThanOrEqual(4);
  });

  test("(b) sequence utilization through custom.metrics.k8s.io: load scales up, no load scales down", async () => {
    const fleet = "seq";
    // 4 sequence bits: 16 IDs per 1 ms tick, 16,000 IDs/s per pod. A load pod can fill that, so the
    // target is a meaningful fraction; with the default 12 bits (4,096,000 IDs/s per pod) a test load
    // reaches a few percent at most and the target would have to be tiny.
    await applyFleet(
      ns.name,
      fleetSpec(fleet, {
        replicas: 1,
        layout: { timestampBits: 49, workerIdBits: 10, sequenceBits: 4, timeUnitMs: 1 },
        autoscaling: {
          enabled: true,
          minReplicas: 1,
          maxReplicas: 4,
          // CPU would scale too; far out of reach here, so only sequence utilization drives this fleet.
          targetCPUUtilizationPercentage: 1000,
          targetSequenceUtilization: 0.25,
          behavior: quickBehavior,
        },
      }),
    );
    await waitForFleetReady(ns.name, fleet, 180_000);
    const timeline = startReplicaTimeline(ns.name, fleet);
    try {
      timeline.setPhase("load");
      const load = await startLoad(
        ns.name,
        requireImage("smoke"),
        `http://${fleet}.${ns.name}.svc/v1/ids?count=400`,
        { concurrency: 8, maxSeconds: 180, maxRequests: 400_000 },
        "load-seq",
      );
      const raw = await waitFor(
        "custom.metrics.k8s.io reports the fleet's pods above the target",
        async () => {
          const list = JSON.parse(
            await k([
              "get",
              "--raw",
              `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns.name}/pods/*/idgen_sequence_utilization?labelSelector=idfleet.dev%2Ffleet%3D${fleet}`,
            ]),
          ) as { items: { describedObject: { name: string }; value: string }[] };
          const above = list.items.some((i) => quantityValue(i.value) > 0.25);
          return above ? list : undefined;
        },
        { timeoutMs: 90_000 },
      );
      console.log(
        "custom.metrics.k8s.io idgen_sequence_utilization:",
        raw.items.map((i) => `${i.describedObject.name}=${i.value}`).join(" "),
      );
      const peak = await waitForReplicas(fleet, (n) => n >= 2, "scaled up to at least 2 ready pods");
      await expectEachReadyPodLeased(fleet);
      await load.stop();
      timeline.setPhase("no load");
      await waitForReplicas(fleet, (n) => n === 1, "back down to 1 pod");
      await expectReleasedDownTo(fleet, 1);
      expect(peak).toBeGreaterThanOrEqual(2);
    } finally {
      await timeline.stop();
      timeline.print("(b) sequence utilization, target 0.25 of 16 IDs/tick");
    }
    // The sequence metric, not CPU, drove it: the HPA saw utilization above its target while scaling up.
    expect(
      timeline.samples.some((s) => s.sequenceUtilization && quantityValue(s.sequenceUtilization) > 0.25),
    ).toBe(true);
  });

  test("(c) replicas never exceed the worker ids available, whatever the HPA asks; the fleet says so", async () => {
    const space = `tiny-${ns.name.slice(-6)}`;
    // A fleet sharing the id space holds worker id 2 of the three ids (0..2) the autoscaled fleet may use.
    await applyFleet(
      ns.name,
      fleetSpec("hog", { replicas: 1, idSpace: { name: space, workerIdRange: { min: 2, max: 2 } } }),
    );
    await waitForFleetReady(ns.name, "hog", 180_000);
    await applyFleet(
      ns.name,
      fleetSpec("tiny", {
        replicas: 1,
        idSpace: { name: space, workerIdRange: { min: 0, max: 2 } },
        // The HPA asks for 3 at once (its minimum); only 2 ids are free.
        autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 3, behavior: quickBehavior },
      }),
    );
    const exhausted = await waitFor(
      "tiny: HPA asked for 3, WorkerIdsExhausted True, 2 pods ready",
      async () => {
        const f = await getFleet(ns.name, "tiny");
        const c = f.status?.conditions?.find((x) => x.type === "WorkerIdsExhausted");
        if (f.spec.replicas === 3 && c?.status === "True" && f.status?.readyReplicas === 2) return f;
        throw new Error(
          `spec.replicas ${f.spec.replicas}, ready ${f.status?.readyReplicas}, ${c?.status} ${c?.message}`,
        );
      },
      { timeoutMs: SCALE_TIMEOUT_MS },
    );
    const condition = exhausted.status!.conditions!.find((x) => x.type === "WorkerIdsExhausted")!;
    console.log(`WorkerIdsExhausted: ${condition.reason}: ${condition.message}`);
    expect(condition.message).toContain("spec.replicas is 3 but only 2 worker ids are free for this fleet");
    expect(condition.message).toContain(`other fleets of id space ${space} (hog) hold 1 of the 3`);
    expect(condition.message).toContain("lower spec.autoscaling.minReplicas and maxReplicas to 2 or ");
    // Held for a while: the StatefulSet stays at 2 and no third pod appears.
    for (let i = 0; i < 4; i++) {
      const sts = await kJson<{ spec: { replicas: number } }>(["get", "statefulset", "-n", ns.name, "tiny"]);
      expect(sts.spec.replicas).toBe(2);
      expect((await podsOf("tiny")).length).toBeLessThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
    await expectEachReadyPodLeased("tiny");
    const leases = await leasesOf("tiny");
    expect(leases.map((l) => l.data!.workerId).sort()).toEqual(["0", "1"]);
    console.log((await k(["get", "idfleets", "-n", ns.name])).trim());
  });
});

/** A Kubernetes quantity as the custom metrics API writes it ("250m", "1", "12500u") as a number. */
function quantityValue(q: string): number {
  const match = /^(-?\d+(?:\.\d+)?)([numk]?)$/.exec(q);
  if (!match) throw new Error(`unexpected quantity ${q}`);
  const scale = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, "": 1 }[match[2] as "n" | "u" | "m" | "k" | ""];
  return Number(match[1]) * scale;
}
