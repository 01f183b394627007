/**
 * The operator on a real cluster, driven the way a user drives it: `kubectl apply -f` of the sample gives a
 * Ready fleet whose pods serve unique IDs (one worker id per pod) through its client Service; `kubectl get
 * idfleets` shows it; `kubectl scale idfleet` changes the pods and their leases; the API server refuses an
 * invalid spec with the rule's message; deleting the fleet removes everything it owned.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { FleetResource, fleetSpecRules } from "../../contract/fleet-spec.ts";
import { GENERATOR_ENV_DEFAULTS } from "../../contract/generator-env.ts";
import { LEASE_COMPONENT, LeaseLabel, leaseNameForPod, parseLeaseData } from "../../contract/lease-record.ts";
import { fleetObjectNames } from "../../operator/src/reconcile/fleet-naming.ts";
import { k, kJson } from "../../cluster/client/cluster-access.ts";
import { decodeFleetIds, fleetClient } from "../../cluster/client/fleet-ids-client.ts";
import { getFleet, type FleetObject } from "../../cluster/client/fleet-resources.ts";
import {
  applyFleet,
  fetchIdsThroughService,
  getIdFleetsTable,
  installOperator,
  waitForFleetReady,
} from "../../cluster/client/operator-install.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";

const SAMPLE = "config/samples/idfleet-sample.yaml";
const FLEET = "idfleet-sample";
const names = fleetObjectNames(FLEET);
const ns = useE2eNamespace("e2e-fleet");

type Named = { metadata: { name: string; labels?: Record<string, string> } };
type List<T> = { items: T[] };
type ConfigMap = Named & { data?: Record<string, string> };
type Pod = Named & { status?: { phase?: string } };

/** Lease ConfigMaps of the fleet: pod name -> worker id. */
async function leases(): Promise<Map<string, number>> {
  const list = await kJson<List<ConfigMap>>([
    "get",
    "configmaps",
    "-n",
    ns.name,
    "-l",
    `${LeaseLabel.fleet}=${FLEET},${LeaseLabel.component}=${LEASE_COMPONENT}`,
  ]);
  return new Map(
    list.items.map((cm) => {
      const lease = parseLeaseData(cm.data);
      return [lease.holderPod, lease.workerId];
    }),
  );
}

async function podNames(): Promise<string[]> {
  const list = await kJson<List<Pod>>(["get", "pods", "-n", ns.name, "-l", `${LeaseLabel.fleet}=${FLEET}`]);
  return list.items.map((p) => p.metadata.name).sort();
}

/** Waits until the fleet is Ready at `replicas` and exactly its pods `<fleet>-0..n-1` exist, each with a lease. */
async function waitForScale(replicas: number): Promise<{ fleet: FleetObject; leaseOf: Map<string, number> }> {
  const expected = Array.from({ length: replicas }, (_, i) => `${FLEET}-${String(i)}`);
  const fleet = await waitForFleetReady(ns.name, FLEET, 240_000);
  expect(fleet.status?.readyReplicas).toBe(replicas);
  const leaseOf = await waitFor(
    `exactly pods ${expected.join(", ")} with one lease each`,
    async () => {
      const [pods, byPod] = await Promise.all([podNames(), leases()]);
      const leased = [...byPod.keys()].sort();
      if (
        JSON.stringify(pods) !== JSON.stringify(expected) ||
        JSON.stringify(leased) !== JSON.stringify(expected)
      )
        throw new Error(`pods ${pods.join(",")}; leases held by ${leased.join(",")}`);
      return byPod;
    },
    { timeoutMs: 120_000 },
  );
  const statefulSet = await kJson<{ spec: { replicas: number } }>([
    "get",
    "statefulset",
    "-n",
    ns.name,
    FLEET,
  ]);
  expect(statefulSet.spec.replicas).toBe(replicas);
  expect(new Set(leaseOf.values()).size).toBe(replicas);
  return { fleet, leaseOf };
}

/**
 * Pulls IDs through the client Service and from every pod by its stable DNS name: all unique, each pod's
 * IDs carry its lease's worker id, and the Service spreads over every pod.
 */
async function expectFleetServesUniqueIds(fleet: FleetObject, leaseOf: Map<string, number>): Promise<void> {
  const started = Date.now();
  const leasedWorkers = [...new Set(leaseOf.values())].sort();
  // A pod is Ready a moment before kube-proxy routes the Service to it: pull until every leased worker
  // has answered through the Service (a few rounds at most), checking every ID pulled on the way.
  const ids: string[] = [];
  const workers = new Set<number>();
  for (let round = 0; round < 10 && workers.size < leasedWorkers.length; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
    const pulled = await fetchIdsThroughService(ns.name, FLEET, 8_000, { requests: 40 });
    expect(pulled).toHaveLength(8_000);
    ids.push(...pulled);
    for (const d of decodeFleetIds(fleet, pulled)) workers.add(d.workerId);
  }
  expect(new Set(ids).size).toBe(ids.length);
  const decoded = decodeFleetIds(fleet, ids);
  expect([...workers].sort()).toEqual(leasedWorkers);
  for (const d of decoded) {
    expect(d.time.getTime()).toBeGreaterThan(started - 60_000);
    expect(d.time.getTime()).toBeLessThan(Date.now() + 60_000);
  }
  const client = await fleetClient(ns.name);
  for (const [pod, workerId] of leaseOf) {
    const url = `http://${pod}.${names.headlessService}.${ns.name}.svc:${String(GENERATOR_ENV_DEFAULTS.port)}/v1/ids?count=100`;
    const answer = await client.get(url);
    expect(answer.status, `${url}: ${answer.body}`).toBe(200);
    const podIds = (JSON.parse(answer.body) as { ids: string[] }).ids;
    expect(new Set(decodeFleetIds(fleet, podIds).map((d) => d.workerId))).toEqual(new Set([workerId]));
    expect(podIds.filter((id) => ids.includes(id))).toEqual([]);
  }
}

describe("an IdGeneratorFleet on a real cluster", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("kubectl apply -f the sample gives a Ready fleet serving unique IDs through its Service", async () => {
    await k(["apply", "-n", ns.name, "-f", SAMPLE]);
    const { fleet, leaseOf } = await waitForScale(2);
    const status = fleet.status ?? {};
    expect(status.observedGeneration).toBe(fleet.metadata.generation);
    expect(status.replicas).toBe(2);
    expect(status.leasedWorkers).toBe(2);
    expect(status.selector).toContain(`${LeaseLabel.fleet}=${FLEET}`);
    expect(status.capacityIdsPerSecond).toBe(2 * 4_096_000);
    expect(status.layoutExhaustsAt).toMatch(/^2093-09-0/);
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True" });
    expect(fleet.metadata.finalizers ?? []).toContain(`${FleetResource.group}/worker-id-fence`);

    // What it owns, by name, each controlled by the fleet.
    for (const [kind, name] of [
      ["statefulset", names.statefulSet],
      ["service", names.clientService],
      ["service", names.headlessService],
      ["hpa", names.hpa],
      ["pdb", names.pdb],
      ["serviceaccount", names.serviceAccount],
      ["role", names.role],
      ["rolebinding", names.roleBinding],
      ...[...leaseOf.keys()].map((pod) => ["configmap", leaseNameForPod(pod)] as const),
    ] as const) {
      const object = await kJson<{ metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }>(
        ["get", kind, "-n", ns.name, name],
      );
      expect(object.metadata.ownerReferences, `${kind}/${name}`).toContainEqual(
        expect.objectContaining({ uid: fleet.metadata.uid }),
      );
    }
    const hpa = await kJson<{
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    }>(["get", "hpa", "-n", ns.name, names.hpa]);
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: FleetResource.kind, name: FLEET });
    expect(hpa.spec.minReplicas).toBe(2);

    await expectFleetServesUniqueIds(fleet, leaseOf);
  });

  test("kubectl get idfleets shows the fleet with its printer columns", async () => {
    const table = await getIdFleetsTable(ns.name);
    console.log(table.text);
    expect(table.headers).toEqual([
      "NAME",
      "DESIRED",
      "READY",
      "LEASED",
      "MAX-OFFSET",
      "SEQ-UTIL",
      "CAPACITY",
      "FREE-IDS",
      "AGE",
    ]);
    expect(table.rows).toHaveLength(1);
    expect(table.rows[0]).toMatchObject({
      NAME: FLEET,
      DESIRED: "2",
      READY: "2",
      LEASED: "2",
      CAPACITY: String(2 * 4_096_000),
      "FREE-IDS": "1022",
    });
    // The short names and category work too.
    expect(await k(["get", "idfleet", "-n", ns.name, "-o", "name"])).toContain(FLEET);
    expect(await k(["get", "idfleet", "-n", ns.name, "-o", "name"])).toEqual(
      await k(["get", "idgeneratorfleets", "-n", ns.name, "-o", "name"]),
    );
  });

  test("kubectl scale idfleet changes the pods and their leases", async () => {
    // The sample autoscales (min 2); hand the replica count back to the user first.
    await k([
      "patch",
      "idfleet",
      FLEET,
      "-n",
      ns.name,
      "--type=merge",
      "-p",
      '{"spec":{"autoscaling":{"enabled":false}}}',
    ]);
    await waitFor(
      "the HPA removed once autoscaling is off",
      async () => (await k(["get", "hpa", "-n", ns.name, "-o", "name"])).trim() === "",
      { timeoutMs: 60_000 },
    );

    await k(["scale", "idfleet", FLEET, "-n", ns.name, "--replicas=3"]);
    const up = await waitForScale(3);
    await expectFleetServesUniqueIds(up.fleet, up.leaseOf);
    expect((await getIdFleetsTable(ns.name)).rows[0]).toMatchObject({
      DESIRED: "3",
      READY: "3",
      LEASED: "3",
    });

    await k(["scale", "idfleet", FLEET, "-n", ns.name, "--replicas=1"]);
    const down = await waitForScale(1);
    // The remaining pod keeps the worker id it had: scaling down never moves a live holder.
    expect(down.leaseOf.get(`${FLEET}-0`)).toBe(up.leaseOf.get(`${FLEET}-0`));
    await expectFleetServesUniqueIds(down.fleet, down.leaseOf);
  });

  test("the API server refuses an invalid spec with a message saying what to change", async () => {
    const ruleMessage = (fieldPath: string) => {
      const rule = fleetSpecRules.find((r) => r.fieldPath === fieldPath);
      if (!rule) throw new Error(`no rule on ${fieldPath}`);
      return rule.message;
    };
    const refusal = async (fleet: object) => {
      const error = await applyFleet(ns.name, fleet).then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      expect(error, "the API server accepted an invalid fleet").toBeDefined();
      return error ?? "";
    };
    const fleet = (name: string, spec: object) => ({
      apiVersion: FleetResource.apiVersion,
      kind: FleetResource.kind,
      metadata: { name },
      spec,
    });
    expect(
      await refusal(fleet("bad-bits", { layout: { timestampBits: 41, workerIdBits: 10, sequenceBits: 13 } })),
    ).toContain(ruleMessage(".layout"));
    expect(
      await refusal(fleet("bad-replicas", { replicas: 5, idSpace: { workerIdRange: { min: 0, max: 3 } } })),
    ).toContain(ruleMessage(".replicas"));
    expect(
      await refusal(
        fleet("bad-autoscaling", { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } }),
      ),
    ).toContain("autoscaling.minReplicas must not exceed maxReplicas");
    expect(await refusal(fleet("bad-image", { image: "Not An Image" }))).toContain(
      "image must be a non-empty image reference",
    );
    // Immutable after creation: the layout of the running fleet.
    const changedLayout = await k([
      "patch",
      "idfleet",
      FLEET,
      "-n",
      ns.name,
      "--type=merge",
      "-p",
      '{"spec":{"layout":{"epoch":"2020-01-01T00:00:00Z"}}}',
    ]).then(
      () => undefined,
      (e: unknown) => String(e),
    );
    expect(changedLayout, "the API server accepted a layout change").toContain("layout is immutable");
    expect(await podNames()).toEqual([`${FLEET}-0`]);
    const names = (await k(["get", "idfleets", "-n", ns.name, "-o", "name"])).trim().split("\n");
    expect(names).toEqual([`idgeneratorfleet.idfleet.dev/${FLEET}`]);
  });

  test("deleting the fleet removes everything it owned, once its finalizer is done", async () => {
    const fleet = await getFleet(ns.name, FLEET);
    await k(["delete", "idfleet", FLEET, "-n", ns.name, "--wait=false"]);
    await waitFor(
      "the fleet gone (finalizer done)",
      async () => (await k(["get", "idfleets", "-n", ns.name, "-o", "name"])).trim() === "",
      { timeoutMs: 180_000 },
    );
    await waitFor(
      "nothing left of the fleet",
      async () => {
        const left = (
          await k([
            "get",
            "statefulsets,services,hpa,pdb,serviceaccounts,roles,rolebindings,configmaps,pods",
            "-n",
            ns.name,
            "-o",
            "json",
          ])
        ).trim();
        const items = (
          JSON.parse(left) as List<
            Named & { kind: string; metadata: { ownerReferences?: { uid: string }[] } }
          >
        ).items;
        const remaining = items
          .filter(
            (o) =>
              o.metadata.labels?.[LeaseLabel.fleet] === FLEET ||
              o.metadata.labels?.[LeaseLabel.idSpace] !== undefined ||
              o.metadata.ownerReferences?.some((r) => r.uid === fleet.metadata.uid),
          )
          .map((o) => `${o.kind}/${o.metadata.name}`);
        if (remaining.length > 0) throw new Error(`still there: ${remaining.join(", ")}`);
        return true;
      },
      { timeoutMs: 120_000 },
    );
  });
});
