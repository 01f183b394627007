import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { FleetResource } from "../contract/fleet-spec.ts";
import { afterEach, describe, expect, it } from "vitest";
import { createTestNamespace, type TestNamespace } from "../e2e/control-plane/test-namespace.ts";
import { kubeConfigForServiceAccount } from "../e2e/control-plane/user-kubeconfig.ts";
import { decodeId, layoutMath } from "../contract/id-layout-math.ts";
import { parseIdLayout } from "../contract/id-layout.ts";
import {
  LeaseState,
  leaseNameForPod,
  ledgerNameForIdSpace,
  parseLeaseData,
  parseLedgerData,
  type LeaseData,
  fleetKey,
} from "../contract/lease-record.ts";
import { spaceLayoutOf } from "../contract/id-space-layout.ts";
import type { RunningOperator } from "../operator/src/operator.ts";
import { fleetObjectNames } from "../operator/src/reconcile/fleet-naming.ts";
import { createFleet, startTestOperator, waitFor } from "../operator/test/operator-harness.ts";
import { ReadinessGate } from "../generator/src/health/readiness-gate.ts";
import { Issuer, RefusalCode } from "../generator/src/issuing/issuer.ts";
import { apiServerAccessOf } from "../e2e/control-plane/api-server-access.ts";
import { KubeApiClient } from "../generator/src/kube/kube-api-client.ts";
import { kubernetesConfigMapStore, type ConfigMapStore } from "../generator/src/lease/configmap-store.ts";
import { LEASE_CONDITION, LeaseKeeper } from "../generator/src/lease/lease-keeper.ts";

/*
 * The lease keeper against a real kube-apiserver, with the real operator allocating:
 * the StatefulSet controller makes the pods (they stay Pending: no nodes here), the
 * operator writes their leases and the ledger, and each "generator" is a LeaseKeeper +
 * Issuer authenticated as the fleet's own ServiceAccount.
 */

const FLEET = "ids";
const LEASES = {
  durationSeconds: 3,
  renewIntervalSeconds: 1,
  reclaimGraceSeconds: 1,
  safetyMarginSeconds: 1,
  reserveAheadMs: 2000,
};
const math = layoutMath(parseIdLayout({}));

interface Generator {
  pod: string;
  uid: string;
  keeper: LeaseKeeper;
  issuer: Issuer;
  readiness: ReadinessGate;
  /** While true, every request of this generator fails as if its node were cut off. */
  partition: { on: boolean };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fleetWithOperator(
  replicas: number,
): Promise<{ ns: TestNamespace; core: CoreV1Api; sa: KubeConfig }> {
  const ns = await createTestNamespace("lease-keeper");
  const op: RunningOperator = await startTestOperator(ns.kubeConfig, ns.name, "op");
  cleanups.push(() => op.stop());
  await createFleet(ns.kubeConfig, ns.name, FLEET, { replicas, leases: LEASES, service: { port: 8080 } });
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  const saName = fleetObjectNames(FLEET).serviceAccount;
  await waitFor("generator ServiceAccount and RoleBinding", async () => {
    await core.readNamespacedServiceAccount({ name: saName, namespace: ns.name });
    await ns.kubeConfig
      .makeApiClient(RbacAuthorizationV1Api)
      .readNamespacedRoleBinding({ name: fleetObjectNames(FLEET).roleBinding, namespace: ns.name });
    return true;
  });
  const sa = await kubeConfigForServiceAccount(ns.kubeConfig, ns.name, saName);
  return { ns, core, sa };
}

async function podUid(core: CoreV1Api, namespace: string, pod: string, not?: string): Promise<string> {
  return waitFor(`pod ${pod}`, async () => {
    const p = await core.readNamespacedPod({ name: pod, namespace });
    const uid = p.metadata?.uid;
    return uid && uid !== not && !p.metadata?.deletionTimestamp ? uid : undefined;
  });
}

function partitionable(store: ConfigMapStore, partition: { on: boolean }): ConfigMapStore {
  const cut = () => {
    if (partition.on) throw new Error("network unreachable (test partition)");
  };
  return {
    read: async (name) => (cut(), store.read(name)),
    replace: async (previous, data) => (cut(), store.replace(previous, data)),
  };
}

function startGenerator(sa: KubeConfig, namespace: string, pod: string, uid: string): Generator {
  const issuer = new Issuer({ math, workerId: null, maxBackwardWaitMs: 5 });
  const readiness = new ReadinessGate();
  const partition = { on: false };
  // The generator's own client (no client-node), with the ServiceAccount's token.
  const api = new KubeApiClient(apiServerAccessOf(sa));
  cleanups.push(async () => api.close());
  const store = partitionable(kubernetesConfigMapStore(api, namespace, 1000), partition);
  const keeper = new LeaseKeeper({
    store,
    issuer,
    readiness,
    report: () => ({
      clockOffsetMs: 0.75,
      clockHealthy: true,
      sequenceUtilization: 0.25,
      sequenceExhaustions: 3,
      message: null,
    }),
    math,
    settings: {
      fleet: fleetKey(namespace, FLEET),
      layout: spaceLayoutOf(math.layout),
      podName: pod,
      podUid: uid,
      leaseName: leaseNameForPod(pod),
      leaseDurationMs: LEASES.durationSeconds * 1000,
      safetyMarginMs: LEASES.safetyMarginSeconds * 1000,
      reserveAheadTicks: LEASES.reserveAheadMs / math.layout.timeUnitMs,
    },
    ledgerName: ledgerNameForIdSpace(FLEET),
    renewIntervalMs: LEASES.renewIntervalSeconds * 1000,
    acquirePollMs: 200,
  });
  keeper.start();
  cleanups.push(() => keeper.stop());
  return { pod, uid, keeper, issuer, readiness, partition };
}

function issue(g: Generator) {
  return g.issuer.next(1, Date.now(), performance.now());
}

async function readLease(core: CoreV1Api, namespace: string, pod: string): Promise<LeaseData> {
  const cm = await core.readNamespacedConfigMap({ name: leaseNameForPod(pod), namespace });
  return parseLeaseData(cm.data);
}

async function readLedger(core: CoreV1Api, namespace: string) {
  const cm = await core.readNamespacedConfigMap({ name: ledgerNameForIdSpace(FLEET), namespace });
  return parseLedgerData(cm.data);
}

const holding = (g: Generator) =>
  waitFor(`${g.pod} holds its lease`, () => g.keeper.state().mode === "holding");

describe("lease keeper against a real API server and operator", () => {
  it("acquires, renews with telemetry, issues only inside what it reserved, and releases so the next holder starts above it", async () => {
    const { ns, core, sa } = await fleetWithOperator(1);
    const uid = await podUid(core, ns.name, `${FLEET}-0`);
    const g = startGenerator(sa, ns.name, `${FLEET}-0`, uid);
    await holding(g);
    const first = await readLease(core, ns.name, `${FLEET}-0`);
    expect(first).toMatchObject({
      state: LeaseState.Active,
      holderUid: uid,
      clockOffsetMs: 0.75,
      sequenceExhaustions: 3,
    });
    expect(g.readiness.evaluate().conditions[LEASE_CONDITION]).toEqual({ ok: true });

    let maxTick = -1;
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      const d = issue(g);
      if (d.kind === "issued") {
        expect(d.workerId).toBe(first.workerId);
        maxTick = Math.max(maxTick, d.tick);
        // Invariant 2: never past what is durably in the lease right now.
        expect(d.tick).toBeLessThanOrEqual((await readLease(core, ns.name, `${FLEET}-0`)).reservedUntil);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(maxTick).toBeGreaterThan(0);
    const renewed = await readLease(core, ns.name, `${FLEET}-0`);
    expect(renewed.renewCount).toBeGreaterThanOrEqual(first.renewCount + 2);
    expect(renewed.reservedUntil).toBeGreaterThan(first.reservedUntil);

    // Clean release (SIGTERM path): stop issuing, then Released.
    g.issuer.setFence(null);
    await g.keeper.release();
    const released = await readLease(core, ns.name, `${FLEET}-0`);
    expect(released.state).toBe(LeaseState.Released);

    // The replacement pod gets an id at once; whoever gets the released id starts above its reservation.
    await core.deleteNamespacedPod({ name: `${FLEET}-0`, namespace: ns.name, gracePeriodSeconds: 0 });
    const uid2 = await podUid(core, ns.name, `${FLEET}-0`, uid);
    const next = await waitFor("lease for the replacement pod", async () => {
      const l = await readLease(core, ns.name, `${FLEET}-0`);
      return l.holderUid === uid2 ? l : undefined;
    });
    // (The operator may first have moved the still-existing pod to another id, then given the
    // released one to the replacement: either way its floor travels with it.)
    const entry = (await readLedger(core, ns.name)).entries.get(released.workerId);
    if (next.workerId === released.workerId) {
      expect(next.handoverAfter).toBeGreaterThanOrEqual(released.reservedUntil);
      expect(entry).toMatchObject({ state: "leased", podUid: uid2 });
    } else {
      expect(entry).toMatchObject({ state: "free", reservedUntil: released.reservedUntil });
    }
    const g2 = startGenerator(sa, ns.name, `${FLEET}-0`, uid2);
    await holding(g2);
    const d = await waitFor("an ID from the replacement", () => {
      const r = issue(g2);
      return r.kind === "issued" ? r : undefined;
    });
    if (next.workerId === released.workerId) expect(d.tick).toBeGreaterThan(released.reservedUntil);
  });

  it("fences itself lease duration minus safety margin after the last renewal it sent, and recovers", async () => {
    const { ns, core, sa } = await fleetWithOperator(1);
    const g = startGenerator(sa, ns.name, `${FLEET}-0`, await podUid(core, ns.name, `${FLEET}-0`));
    await holding(g);
    await waitFor("an ID", () => issue(g).kind === "issued");
    g.partition.on = true;
    const fence = g.keeper.state().fence!;
    const cutAt = performance.now();
    // Still issuing right up to the fence, refusing (503 path, unready) from then on.
    let refusedAt = Infinity;
    while (performance.now() - cutAt < 10_000) {
      const d = issue(g);
      if (d.kind === "refused" && d.code === RefusalCode.Fenced) {
        refusedAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(refusedAt).toBeLessThanOrEqual(fence.validUntilMonoMs + 100);
    expect(refusedAt - cutAt).toBeLessThanOrEqual(
      (LEASES.durationSeconds - LEASES.safetyMarginSeconds) * 1000 + 100,
    );
    expect(g.readiness.evaluate().conditions[LEASE_CONDITION]).toMatchObject({
      ok: false,
      reason: "LeaseNotConfirmed",
    });
    // The operator does not reclaim a live pod's lease; when the network heals, the holder renews and serves again.
    g.partition.on = false;
    await waitFor("serving again", () => issue(g).kind === "issued", 10_000);
    expect(g.keeper.state().workerId).toBe((await readLease(core, ns.name, `${FLEET}-0`)).workerId);
  });

  it("stops a force-deleted pod's process when its lease goes to the replacement, and reclaims the id after lease duration + grace", async () => {
    const { ns, core, sa } = await fleetWithOperator(1);
    const pod = `${FLEET}-0`;
    const uid = await podUid(core, ns.name, pod);
    const zombie = startGenerator(sa, ns.name, pod, uid);
    await holding(zombie);
    const old = await readLease(core, ns.name, pod);

    await core.deleteNamespacedPod({ name: pod, namespace: ns.name, gracePeriodSeconds: 0 });
    const uid2 = await podUid(core, ns.name, pod, uid);
    const replacement = startGenerator(sa, ns.name, pod, uid2);
    await holding(replacement);
    // The old process found another UID in its lease and stopped issuing.
    await waitFor("the old process stops", () => zombie.keeper.state().mode !== "holding", 10_000);
    expect(issue(zombie)).toMatchObject({ kind: "refused" });
    expect(replacement.keeper.state().workerId).not.toBe(old.workerId);

    const retiring = (await readLedger(core, ns.name)).entries.get(old.workerId);
    expect(retiring?.state).toBe("retiring");
    const freed = await waitFor(
      "the old id is reclaimed",
      async () => {
        const e = (await readLedger(core, ns.name)).entries.get(old.workerId);
        return e?.state === "free" ? e : undefined;
      },
      30_000,
    );
    expect(freed.reservedUntil).toBeGreaterThanOrEqual(old.reservedUntil);
  });

  it("re-acquires a new worker id when the operator revokes and reassigns its pod's lease", async () => {
    const { ns, core, sa } = await fleetWithOperator(1);
    const pod = `${FLEET}-0`;
    const g = startGenerator(sa, ns.name, pod, await podUid(core, ns.name, pod));
    await holding(g);
    const before = g.keeper.state();
    // Someone edits the ledger so it no longer backs the lease: the operator revokes the lease
    // and gives the (live) pod a fresh assignment; the keeper must drop the old id at once.
    const ledgerName = ledgerNameForIdSpace(FLEET);
    const cm = await core.readNamespacedConfigMap({ name: ledgerName, namespace: ns.name });
    const key = `w-${before.workerId}`;
    const entry = JSON.parse(cm.data![key]!) as { floor: number };
    cm.data![key] = JSON.stringify({ state: "free", reservedUntil: entry.floor, since: "test" });
    await core.replaceNamespacedConfigMap({ name: ledgerName, namespace: ns.name, body: cm });

    await waitFor(
      "a new assignment held",
      () => {
        const now = g.keeper.state();
        return now.mode === "holding" && now.assignment !== before.assignment ? now : undefined;
      },
      20_000,
    );
    const after = g.keeper.state();
    expect(after.workerId).not.toBe(before.workerId);
    const d = await waitFor("an ID on the new worker id", () => {
      const r = issue(g);
      return r.kind === "issued" ? r : undefined;
    });
    expect(d.workerId).toBe(after.workerId);
    // The revoked id is retiring with the old holder's reservation, not free.
    const old = (await readLedger(core, ns.name)).entries.get(before.workerId!);
    expect(old?.state).toBe("retiring");
  });

  it("gives the generator's ServiceAccount its own leases and a read of the ledger, nothing more", async () => {
    const { ns, core, sa } = await fleetWithOperator(1);
    await podUid(core, ns.name, `${FLEET}-0`);
    await waitFor("lease", () => readLease(core, ns.name, `${FLEET}-0`));
    const asGenerator = sa.makeApiClient(CoreV1Api);
    const leaseName = leaseNameForPod(`${FLEET}-0`);
    const own = await asGenerator.readNamespacedConfigMap({ name: leaseName, namespace: ns.name });
    await asGenerator.replaceNamespacedConfigMap({ name: leaseName, namespace: ns.name, body: own });
    await asGenerator.readNamespacedConfigMap({ name: ledgerNameForIdSpace(FLEET), namespace: ns.name });

    const forbidden = async (what: string, call: () => Promise<unknown>) => {
      await expect(call(), what).rejects.toMatchObject({ code: 403 });
    };
    const ledger = await core.readNamespacedConfigMap({
      name: ledgerNameForIdSpace(FLEET),
      namespace: ns.name,
    });
    await forbidden("write the ledger", () =>
      asGenerator.replaceNamespacedConfigMap({
        name: ledgerNameForIdSpace(FLEET),
        namespace: ns.name,
        body: ledger,
      }),
    );
    await forbidden("list ConfigMaps", () => asGenerator.listNamespacedConfigMap({ namespace: ns.name }));
    await forbidden("create a ConfigMap", () =>
      asGenerator.createNamespacedConfigMap({
        namespace: ns.name,
        body: { metadata: { name: leaseNameForPod(`${FLEET}-9`) }, data: {} },
      }),
    );
    await forbidden("delete its lease", () =>
      asGenerator.deleteNamespacedConfigMap({ name: leaseName, namespace: ns.name }),
    );
    await forbidden("read another pod's lease beyond the fleet", () =>
      asGenerator.readNamespacedConfigMap({ name: leaseNameForPod("other-0"), namespace: ns.name }),
    );
    await forbidden("read pods", () => asGenerator.listNamespacedPod({ namespace: ns.name }));
  });
});

describe("allocation across fleets and operator restarts", () => {
  it("keeps two fleets of one id space on one ledger with disjoint ids, across an operator restart", async () => {
    const ns = await createTestNamespace("lease-shared");
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    let op = await startTestOperator(ns.kubeConfig, ns.name, "op-1");
    cleanups.push(() => op.stop());
    const spec = (min: number, replicas: number) => ({
      replicas,
      leases: LEASES,
      service: { port: 8080 },
      idSpace: { name: "shared", workerIdRange: { min, max: min + 3 } },
    });
    await createFleet(ns.kubeConfig, ns.name, "a", spec(0, 2));
    await createFleet(ns.kubeConfig, ns.name, "b", spec(4, 2));
    const leases = async () =>
      (await core.listNamespacedConfigMap({ namespace: ns.name })).items
        .filter((cm) => cm.metadata?.name?.endsWith("-lease"))
        .map((cm) => parseLeaseData(cm.data));
    await waitFor("four leases", async () => (await leases()).length === 4, 30_000);

    // The operator restarts (a new process, nothing remembered) and the fleets scale up meanwhile.
    await op.stop();
    const custom = ns.kubeConfig.makeApiClient(CustomObjectsApi);
    for (const name of ["a", "b"]) {
      await custom.patchNamespacedCustomObject(
        {
          group: FleetResource.group,
          version: FleetResource.version,
          plural: FleetResource.plural,
          namespace: ns.name,
          name,
          body: { spec: { replicas: 3 } },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    }
    op = await startTestOperator(ns.kubeConfig, ns.name, "op-2");
    const all = await waitFor(
      "six leases",
      async () => {
        const l = await leases();
        return l.length === 6 ? l : undefined;
      },
      30_000,
    );
    const ids = all.map((l) => l.workerId);
    expect(new Set(ids).size).toBe(6);
    for (const l of all) expect(l.idSpace).toBe("shared");
    expect(all.filter((l) => l.holderPod.startsWith("a-")).every((l) => l.workerId <= 3)).toBe(true);
    expect(all.filter((l) => l.holderPod.startsWith("b-")).every((l) => l.workerId >= 4)).toBe(true);
    const ledger = parseLedgerData(
      (await core.readNamespacedConfigMap({ name: ledgerNameForIdSpace("shared"), namespace: ns.name })).data,
    );
    const claims = [...ledger.entries].filter(([, e]) => e.state === "leased");
    expect(claims.map(([w]) => w).sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(all.map((l) => l.assignment)).size).toBe(6);
  });
});

describe("the generator process in lease mode", () => {
  it("serves IDs on its leased worker id, and on SIGTERM drains, stops and releases", async () => {
    const { ns, core, sa } = await fleetWithOperator(1);
    const pod = `${FLEET}-0`;
    const uid = await podUid(core, ns.name, pod);
    const dir = mkdtempSync(join(tmpdir(), "idfleet-gen-"));
    // What a pod has: the API server's address in the environment, the token and CA as files.
    const access = apiServerAccessOf(sa);
    writeFileSync(join(dir, "token"), access.token ?? "");
    writeFileSync(join(dir, "ca.crt"), access.ca ?? "");
    const server = new URL(access.server);
    const port = await freePort();
    const child = spawn(process.execPath, ["generator/src/main.ts"], {
      env: {
        PATH: process.env.PATH,
        KUBERNETES_SERVICE_HOST: server.hostname,
        KUBERNETES_SERVICE_PORT: server.port,
        IDGEN_SERVICE_ACCOUNT_DIR: dir,
        IDGEN_DRAIN_SECONDS: "1",
        POD_NAME: pod,
        POD_UID: uid,
        POD_NAMESPACE: ns.name,
        IDGEN_FLEET: FLEET,
        IDGEN_ID_SPACE: FLEET,
        IDGEN_HOST: "127.0.0.1",
        IDGEN_PORT: String(port),
        IDGEN_LEASE_DURATION_SECONDS: String(LEASES.durationSeconds),
        IDGEN_RENEW_INTERVAL_SECONDS: String(LEASES.renewIntervalSeconds),
        IDGEN_SAFETY_MARGIN_SECONDS: String(LEASES.safetyMarginSeconds),
        IDGEN_RESERVE_AHEAD_MS: String(LEASES.reserveAheadMs),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    cleanups.push(async () => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      `generator ready (output so far: ${output.slice(-500)})`,
      async () => (await fetch(`${base}/readyz`)).ok,
      20_000,
    );
    const lease = await readLease(core, ns.name, pod);
    const body = (await (await fetch(`${base}/v1/id`)).json()) as { id: string };
    const decoded = decodeId(math, BigInt(body.id));
    expect(decoded.workerId).toBe(lease.workerId);
    expect(decoded.timestamp).toBeGreaterThan(lease.handoverAfter);

    child.kill("SIGTERM");
    // Draining: unready at once, still answering, telling keep-alive clients to reconnect.
    await waitFor("unready after SIGTERM", async () => (await fetch(`${base}/readyz`)).status === 503);
    const draining = await fetch(`${base}/v1/id`);
    expect(draining.status).toBe(200);
    expect(draining.headers.get("connection")).toBe("close");
    expect(await exited).toBe(0);
    // Released, and (the pod itself lives on) possibly already freed and reassigned by the operator:
    // a clean release frees the id at once, with the released reservation as its floor.
    const after = await readLease(core, ns.name, pod);
    if (after.assignment === lease.assignment) {
      expect(after.state).toBe(LeaseState.Released);
      expect(after.reservedUntil).toBeGreaterThanOrEqual(decoded.timestamp);
    } else {
      const entry = (await readLedger(core, ns.name)).entries.get(lease.workerId);
      const floor =
        entry?.state === "leased" ? entry.floor : entry?.state === "free" ? entry.reservedUntil : -1;
      expect(entry?.state).not.toBe("retiring");
      expect(floor).toBeGreaterThanOrEqual(decoded.timestamp);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}
