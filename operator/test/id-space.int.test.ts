import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, inject, it } from "vitest";
import { FleetConditionType, parseFleetSpec } from "../../contract/fleet-spec.ts";
import { encodeId, layoutMath, tickAt } from "../../contract/id-layout-math.ts";
import { spaceLayoutOf } from "../../contract/id-space-layout.ts";
import {
  LedgerEntryState,
  ledgerNameForIdSpace,
  parseLeaseData,
  parseLedgerData,
  type LeaseData,
} from "../../contract/lease-record.ts";
import { kubectl } from "../../cluster/kubectl.ts";
import { createTestNamespace } from "../../e2e/control-plane/test-namespace.ts";
import type { RunningOperator } from "../src/operator.ts";
import { createFleet, renewAsHolder, readFleet, startTestOperator, waitFor } from "./operator-harness.ts";

/*
 * One id space, one pool, one layout (docs/design.md, invariant 8), and state that goes
 * missing (docs/lease-protocol.md), against a real API server. There is no kubelet here: the
 * StatefulSet controller makes pods, and a test writes to a lease as its holder would.
 */

const running: RunningOperator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop()));
});

// Short leases, so reclaiming and settling take seconds.
const LEASES = {
  durationSeconds: 3,
  renewIntervalSeconds: 1,
  reclaimGraceSeconds: 1,
  safetyMarginSeconds: 1,
  reserveAheadMs: 2000,
};
const OTHER_LAYOUT = {
  timestampBits: 42,
  workerIdBits: 9,
  sequenceBits: 12,
  timeUnitMs: 1,
  epoch: "2021-01-27T12:28:31.063Z",
};

async function leader(kubeConfig: KubeConfig, ns: string, identity: string, ledgerNamespace = ns) {
  const op = await startTestOperator(kubeConfig, ns, identity, ns, ledgerNamespace);
  running.push(op);
  await waitFor("leadership", () => op.isLeader());
  return op;
}

async function leasesOf(core: CoreV1Api, ns: string, fleet: string): Promise<LeaseData[]> {
  const list = await core.listNamespacedConfigMap({
    namespace: ns,
    labelSelector: `idfleet.dev/fleet=${fleet},app.kubernetes.io/component=worker-lease`,
  });
  return list.items.map((cm) => parseLeaseData(cm.data));
}

async function readLedger(core: CoreV1Api, ns: string, idSpace: string) {
  const cm = await core.readNamespacedConfigMap({ name: ledgerNameForIdSpace(idSpace), namespace: ns });
  return parseLedgerData(cm.data);
}

const condition = (fleet: Awaited<ReturnType<typeof readFleet>>, type: string) =>
  fleet?.status?.conditions?.find((c) => c.type === type);

describe("an id space is one pool with one layout, in every namespace", () => {
  it("keeps two namespaces' fleets of one id space on one ledger in the operator's namespace, with disjoint worker ids", async () => {
    const home = await createTestNamespace("space-home");
    const a = await createTestNamespace("space-a");
    const b = await createTestNamespace("space-b");
    // Two allocators (one per namespace) on one ledger: the conditional ledger writes keep them apart.
    await leader(a.kubeConfig, a.name, "op-a", home.name);
    await leader(b.kubeConfig, b.name, "op-b", home.name);
    const core = home.kubeConfig.makeApiClient(CoreV1Api);
    const idSpace = `orders-${a.name.slice(-8)}`;
    for (const ns of [a, b]) {
      await createFleet(ns.kubeConfig, ns.name, "f", {
        replicas: 2,
        leases: LEASES,
        idSpace: { name: idSpace },
      });
    }
    const ids = await waitFor(
      "four leases",
      async () => {
        const all = [...(await leasesOf(core, a.name, "f")), ...(await leasesOf(core, b.name, "f"))];
        return all.length === 4 ? all.map((l) => l.workerId) : undefined;
      },
      60_000,
    );
    expect(new Set(ids).size).toBe(4);
    const ledger = await readLedger(core, home.name, idSpace);
    const holders = [...ledger.entries.values()].map((e) =>
      e.state === LedgerEntryState.Leased ? e.fleet : "",
    );
    expect(holders.sort()).toEqual([`${a.name}/f`, `${a.name}/f`, `${b.name}/f`, `${b.name}/f`]);
    // Nothing of the space is left in the fleets' own namespaces.
    await expect(
      core.readNamespacedConfigMap({ name: ledgerNameForIdSpace(idSpace), namespace: a.name }),
    ).rejects.toMatchObject({ code: 404 });
  });

  it("gives a fleet of another layout no worker id: LayoutConflict naming both layouts, a warning event, no pods", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("space-layouts");
    await leader(kubeConfig, ns, "op");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await createFleet(kubeConfig, ns, "a", {
      replicas: 1,
      leases: LEASES,
      idSpace: { name: "orders", workerIdRange: { min: 512, max: 1023 } },
    });
    await waitFor("a leased", async () => (await leasesOf(core, ns, "a")).length === 1);
    await createFleet(kubeConfig, ns, "b", {
      replicas: 1,
      leases: LEASES,
      layout: OTHER_LAYOUT,
      idSpace: { name: "orders", workerIdRange: { min: 0, max: 511 } },
    });
    const b = await waitFor("LayoutConflict on b", async () => {
      const f = await readFleet(kubeConfig, ns, "b");
      return condition(f, FleetConditionType.LayoutConflict)?.status === "True" ? f : undefined;
    });
    expect(condition(b, FleetConditionType.LayoutConflict)?.message).toMatch(
      /41\/10\/12 bits, 1 ms ticks from 2024-01-01T00:00:00.000Z.*42\/9\/12 bits.*layoutSuccession/,
    );
    expect(condition(b, FleetConditionType.Ready)).toMatchObject({
      status: "False",
      reason: "LayoutConflict",
    });
    expect(await leasesOf(core, ns, "b")).toEqual([]);
    const sts = await kubeConfig
      .makeApiClient(AppsV1Api)
      .readNamespacedStatefulSet({ name: "b", namespace: ns });
    expect(sts.spec?.replicas).toBe(0);
    const events = await waitFor("warning event", async () => {
      const list = await core.listNamespacedEvent({ namespace: ns });
      return list.items.find((e) => e.reason === "LayoutConflict" && e.type === "Warning");
    });
    expect(events.involvedObject.name).toBe("b");
    expect((await readLedger(core, ns, "orders")).layout).toEqual(spaceLayoutOf(parseFleetSpec({}).layout));
  });

  it("lets a declared successor take over the space once the old layout's holders are gone, above every ID they may have issued", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("space-succession");
    await leader(kubeConfig, ns, "op");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await createFleet(kubeConfig, ns, "old", { replicas: 1, leases: LEASES, idSpace: { name: "orders" } });
    await waitFor("old leased", async () => (await leasesOf(core, ns, "old")).length === 1);
    // Its holder reserved a minute ahead (a clock far ahead): the successor must start above that.
    const oldMath = layoutMath(parseFleetSpec({}).layout);
    const reserved = tickAt(oldMath, Date.now() + 60_000);
    await renewAsHolder(core, ns, "old-0-lease", { reservedUntil: reserved });

    // More worker bits for a bigger fleet: a new layout for the same tables.
    const next = { ...parseFleetSpec({}).layout, timestampBits: 40, workerIdBits: 11 };
    await createFleet(kubeConfig, ns, "next", {
      replicas: 2,
      leases: LEASES,
      layout: next,
      idSpace: { name: "orders", layoutSuccession: true },
    });
    const waiting = await waitFor("succession waits", async () => {
      const f = await readFleet(kubeConfig, ns, "next");
      const c = condition(f, FleetConditionType.LayoutConflict);
      return c?.reason === "SuccessionWaiting" ? c : undefined;
    });
    expect(waiting.message).toMatch(/waits until no holder of the old layout can issue/);
    expect(await leasesOf(core, ns, "next")).toEqual([]);

    await kubectl(["scale", "idfleet", "old", "-n", ns, "--replicas=0"], {
      kubeconfig: inject("kubeconfig"),
    });
    const leases = await waitFor(
      "successor leased",
      async () => {
        const l = await leasesOf(core, ns, "next");
        return l.length === 2 ? l : undefined;
      },
      60_000,
    );
    const ledger = await readLedger(core, ns, "orders");
    expect(ledger.layout).toEqual(spaceLayoutOf(next));
    expect(ledger.formerLayouts?.[0]?.layout).toEqual(spaceLayoutOf(parseFleetSpec({}).layout));
    const oldHighest = encodeId(oldMath, reserved, oldMath.maxWorkerId, oldMath.maxSequence);
    expect(ledger.highWaterId).toBeGreaterThanOrEqual(oldHighest);
    const nextMath = layoutMath(next);
    for (const lease of leases) {
      // The successor issues only ticks above handoverAfter: its smallest ID is above the old layout's largest.
      expect(encodeId(nextMath, lease.handoverAfter + 1, 0, 0)).toBeGreaterThan(oldHighest);
    }
    const f = await waitFor("successor Ready condition computed", async () => {
      const fleet = await readFleet(kubeConfig, ns, "next");
      return condition(fleet, FleetConditionType.LayoutConflict)?.status === "False" ? fleet : undefined;
    });
    expect(condition(f, FleetConditionType.LayoutConflict)?.reason).toBe("SameLayout");
  });
});

describe("state that goes missing", () => {
  it("re-issues a lease deleted by hand past the reservation its holder had made, with the same assignment", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("space-lost-lease");
    await leader(kubeConfig, ns, "op");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await createFleet(kubeConfig, ns, "ids", { replicas: 1, leases: LEASES });
    const before = await waitFor("lease", async () => (await leasesOf(core, ns, "ids"))[0]);
    // A holder whose clock runs 30 s ahead reserves past anything the operator's clock would guess.
    const math = layoutMath(parseFleetSpec({}).layout);
    const reserved = tickAt(math, Date.now() + 30_000);
    await renewAsHolder(core, ns, "ids-0-lease", { reservedUntil: reserved });
    await waitFor("reservation recorded in the ledger", async () => {
      const entry = (await readLedger(core, ns, "ids")).entries.get(before.workerId);
      return entry?.state === LedgerEntryState.Leased && (entry.seenReservedUntil ?? 0) >= reserved;
    });

    await core.deleteNamespacedConfigMap({ name: "ids-0-lease", namespace: ns }); // kubectl delete cm
    const after = await waitFor("lease re-issued", async () => {
      const l = await leasesOf(core, ns, "ids");
      return l[0];
    });
    expect(after.workerId).toBe(before.workerId);
    expect(after.assignment).toBe(before.assignment);
    expect(after.handoverAfter).toBeGreaterThanOrEqual(reserved);
  });
});
