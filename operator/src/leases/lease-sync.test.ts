import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseFleetSpec, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { layoutMath, tickAt } from "../../../contract/id-layout-math.ts";
import { spaceLayoutOf } from "../../../contract/id-space-layout.ts";
import {
  LeaseLabel,
  parseLeaseData,
  parseLedgerData,
  serializeLeaseData,
  serializeLedgerData,
} from "../../../contract/lease-record.ts";
import { createOperatorMetrics } from "../metrics/operator-metrics.ts";
import type { IdSpaceFleet, IdSpaceObjects, LeaseStore } from "./lease-store.ts";
import { LeaseSync } from "./lease-sync.ts";
import type { PlanAction } from "./worker-id-planner.ts";

const LEDGER = "ids-worker-ids";
const NOW = Date.parse("2026-01-01T00:00:00Z");

/** ConfigMaps in memory with resourceVersions and uids, as the API server keeps them. */
class MemoryStore implements LeaseStore {
  readonly objects = new Map<string, V1ConfigMap>();
  others: IdSpaceFleet[] = [];
  private rv = 100;

  cached(): undefined {
    return undefined;
  }

  async read(): Promise<IdSpaceObjects> {
    const leases = [...this.objects].filter(([name]) => name !== LEDGER).map(([, cm]) => cm);
    return Promise.resolve({ leases, ledger: this.objects.get(LEDGER) });
  }

  async apply(fleet: IdGeneratorFleet, action: PlanAction) {
    const name = action.kind === "write-ledger" ? LEDGER : action.configMapName;
    const current = this.objects.get(name);
    const expected = action.kind === "create-lease" ? null : action.resourceVersion;
    if ((expected === null) !== (current === undefined)) throw conflict(current ? 409 : 404);
    if (current && current.metadata?.resourceVersion !== expected) throw conflict(409);
    const rv = String(++this.rv);
    if (action.kind === "delete-lease") {
      this.objects.delete(name);
      return Promise.resolve({});
    }
    const data =
      action.kind === "write-ledger" ? serializeLedgerData(action.ledger) : serializeLeaseData(action.lease);
    const uid = current?.metadata?.uid ?? `uid-${rv}`;
    const labels = { [LeaseLabel.fleet]: fleet.metadata.name };
    this.objects.set(name, {
      metadata: { name, namespace: fleet.metadata.namespace, resourceVersion: rv, uid, labels },
      data,
    });
    return Promise.resolve(current ? { resourceVersion: rv } : { resourceVersion: rv, createdUid: uid });
  }

  idSpaceHadHolders(): boolean {
    return true;
  }

  otherFleetsOfIdSpace(): readonly IdSpaceFleet[] {
    return this.others;
  }
}

function conflict(code: 404 | 409): Error {
  return Object.assign(new Error(`HTTP ${code}`), { code });
}

function fleet(deleting = false): IdGeneratorFleet {
  return {
    apiVersion: "idfleet.dev/v1alpha1",
    kind: "IdGeneratorFleet",
    metadata: {
      name: "ids",
      namespace: "team-a",
      uid: "fleet-uid",
      ...(deleting ? { deletionTimestamp: new Date(NOW).toISOString() } : {}),
    },
    spec: parseFleetSpec({ replicas: 0 }),
  };
}

function leaseSync(store: MemoryStore, metrics = createOperatorMetrics()): LeaseSync {
  return new LeaseSync(store, {
    metrics,
    isLeader: () => true,
    clock: { wallMs: () => NOW, monoMs: () => 0 },
  });
}

const ledgerOf = (store: MemoryStore) => parseLedgerData(store.objects.get(LEDGER)?.data);
const math = layoutMath(fleet().spec.layout);

describe("lease sync: a ledger that went missing or back", () => {
  it("counts a ledger brought back at the very version it last read, after another replaced it, as rolled back", async () => {
    const store = new MemoryStore();
    const metrics = createOperatorMetrics();
    const sync = leaseSync(store, metrics);
    await sync.sync(fleet(), []);
    const restoredLater = structuredClone(store.objects.get(LEDGER)!);
    store.objects.delete(LEDGER); // kubectl delete: the operator recreates it
    await sync.sync(fleet(), []);
    expect(store.objects.get(LEDGER)?.metadata?.uid).not.toBe(restoredLater.metadata?.uid);
    store.objects.set(LEDGER, restoredLater); // etcd restored from a snapshot taken before the deletion
    await sync.sync(fleet(), []);
    const rollbacks = await metrics.ledgerRollbacks.get();
    expect(rollbacks.values.reduce((n, v) => n + v.value, 0)).toBe(1);
    // It trusts none of it: the base floor rises past its clock.
    expect(ledgerOf(store).baseFloor).toBeGreaterThan(tickAt(math, NOW));
  });

  it("recreates a lost ledger above the base floor it last read (a succession's floor lies ahead)", async () => {
    const store = new MemoryStore();
    const sync = leaseSync(store);
    await sync.sync(fleet(), []);
    const ahead = tickAt(math, NOW) + 3_600_000;
    const ledger = store.objects.get(LEDGER)!;
    ledger.data = serializeLedgerData({ ...ledgerOf(store), baseFloor: ahead });
    await sync.sync(fleet(), []);
    store.objects.delete(LEDGER);
    await sync.sync(fleet(), []);
    expect(ledgerOf(store).baseFloor).toBe(ahead);
  });

  it("recreates a lost ledger above the floors its own leases carry, even after a restart", async () => {
    const store = new MemoryStore();
    const ahead = tickAt(math, NOW) + 3_600_000;
    const lease = {
      workerId: 0,
      idSpace: "ids",
      state: "Assigned" as const,
      holderPod: "ids-0",
      holderUid: "u0",
      assignment: 7,
      handoverAfter: ahead,
      reservedUntil: ahead,
      leaseDurationSeconds: 15,
      renewCount: 0,
      renewTime: "",
    };
    store.objects.set("ids-0-lease", {
      metadata: {
        name: "ids-0-lease",
        namespace: "team-a",
        resourceVersion: "5",
        uid: "l",
        labels: { [LeaseLabel.fleet]: "ids" },
      },
      data: serializeLeaseData(lease),
    });
    await leaseSync(store).sync(fleet(), []);
    expect(ledgerOf(store).baseFloor).toBeGreaterThanOrEqual(ahead);
  });

  it("recreates a lost ledger while a deleted fleet is released, so its layout outlives it", async () => {
    const store = new MemoryStore();
    store.others = [
      {
        key: "team-b/next",
        layout: { ...spaceLayoutOf(fleet().spec.layout), workerIdBits: 9, timestampBits: 42 },
        layoutSuccession: true,
      },
    ];
    const sync = leaseSync(store);
    expect(store.objects.has(LEDGER)).toBe(false);
    await sync.releaseFleet(fleet(true), NOW);
    expect(ledgerOf(store).layout).toEqual(spaceLayoutOf(fleet().spec.layout));
    expect(ledgerOf(store).highWaterId).toBeGreaterThan(0n);
  });
});

describe("lease sync: what it reports", () => {
  const pod = { metadata: { name: "ids-0", uid: "pod-uid-0" } };
  const oneReplica = (): IdGeneratorFleet => ({ ...fleet(), spec: parseFleetSpec({ replicas: 1 }) });

  it("names a created ledger and a claim, and keeps a renewal's bookkeeping out of events", async () => {
    const store = new MemoryStore();
    let now = NOW; // a new ledger's ids wait for holders it cannot see to have lapsed
    const sync = new LeaseSync(store, {
      metrics: createOperatorMetrics(),
      isLeader: () => true,
      clock: { wallMs: () => now, monoMs: () => now - NOW },
    });
    const applied: string[] = [];
    for (let i = 0; i < 5 && store.objects.size < 2; i++, now += 60_000)
      applied.push(...(await sync.sync(oneReplica(), [pod])).applied);
    expect(applied[0]).toMatch(/^ledger: created/);
    expect(applied.join("; ")).toContain("worker id 0: claimed for ids-0");

    // The holder renews far ahead: the ledger notes the reservation, a change nobody needs an event for.
    const [name, cm] = [...store.objects].find(([n]) => n !== LEDGER)!;
    const lease = parseLeaseData(cm.data);
    const renewed = { ...lease, reservedUntil: tickAt(math, now) + 3_600_000, renewCount: 1 };
    store.objects.set(name, { ...cm, data: serializeLeaseData(renewed) });
    const before = ledgerOf(store).entries.get(0);
    const second = await sync.sync(oneReplica(), [pod]);
    expect(ledgerOf(store).entries.get(0)).not.toEqual(before);
    expect(second.applied).toEqual([]);
  });
});
