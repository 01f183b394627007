import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterEach, describe, expect, inject, it } from "vitest";
import { FleetResource } from "../../contract/fleet-spec.ts";
import { GeneratorEnv } from "../../contract/generator-env.ts";
import {
  ledgerNameForIdSpace,
  parseLeaseData,
  serializeLeaseData,
  parseLedgerData,
} from "../../contract/lease-record.ts";
import { layoutMath, tickAt } from "../../contract/id-layout-math.ts";
import { parseFleetSpec } from "../../contract/fleet-spec.ts";
import { kubectl } from "../../cluster/kubectl.ts";
import { createTestNamespace } from "../../e2e/control-plane/test-namespace.ts";
import type { RunningOperator } from "../src/operator.ts";
import { FLEET_FINALIZER } from "../src/reconcile/fleet-naming.ts";
import {
  createFleet,
  deleteFleet,
  patchFleet,
  readFleet,
  startTestOperator,
  waitFor,
  writeCount,
  renewAsHolder,
} from "./operator-harness.ts";

const running: RunningOperator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop()));
});

const condition = (fleet: Awaited<ReturnType<typeof readFleet>>, type: string) =>
  fleet?.status?.conditions?.find((c) => c.type === type);

describe("the operator reconciles an IdGeneratorFleet", () => {
  it("creates owned objects, leases and status; is idempotent; follows updates and scale; cleans up on delete", async () => {
    const { ns, kubeConfig, op } = await namespaceWithLeader("fleet-operator");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const apps = kubeConfig.makeApiClient(AppsV1Api);

    await createFleet(kubeConfig, ns, "ids", {
      replicas: 2,
      autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4, targetSequenceUtilization: 0.5 },
      service: { port: 8080 },
    });

    // Owned objects, with their important fields.
    const sts = await waitFor("StatefulSet", () =>
      apps.readNamespacedStatefulSet({ name: "ids", namespace: ns }),
    );
    expect(sts.spec).toMatchObject({
      replicas: 2,
      podManagementPolicy: "Parallel",
      serviceName: "ids-headless",
    });
    expect(sts.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "IdGeneratorFleet",
      name: "ids",
      controller: true,
    });
    const container = sts.spec!.template.spec!.containers[0]!;
    expect(container.image).toBe("idfleet/generator:test");
    expect(container.env?.find((e) => e.name === GeneratorEnv.fleet)?.value).toBe("ids");
    expect(container.env?.find((e) => e.name === GeneratorEnv.podUid)?.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.uid",
    );
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(sts.spec!.template.spec!.serviceAccountName).toBe("ids-generator");

    const headless = await core.readNamespacedService({ name: "ids-headless", namespace: ns });
    expect(headless.spec?.clusterIP).toBe("None");
    const client = await core.readNamespacedService({ name: "ids", namespace: ns });
    expect(client.spec?.ports?.[0]).toMatchObject({ port: 8080, targetPort: "http" });
    const hpa = await waitFor("HPA", () =>
      kubeConfig
        .makeApiClient(AutoscalingV2Api)
        .readNamespacedHorizontalPodAutoscaler({ name: "ids", namespace: ns }),
    );
    expect(hpa.spec?.scaleTargetRef).toEqual({
      apiVersion: FleetResource.apiVersion,
      kind: FleetResource.kind,
      name: "ids",
    });
    expect(hpa.spec?.metrics?.map((m) => m.type)).toEqual(["Resource", "Pods"]);
    const pdb = await kubeConfig
      .makeApiClient(PolicyV1Api)
      .readNamespacedPodDisruptionBudget({ name: "ids", namespace: ns });
    expect(pdb.spec?.maxUnavailable).toBe(1);
    const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({ name: "ids-generator", namespace: ns });
    expect(role.rules?.[0]?.resourceNames).toEqual([
      "ids-0-lease",
      "ids-1-lease",
      "ids-2-lease",
      "ids-3-lease",
    ]);
    expect(role.rules?.[0]?.verbs).toEqual(["get", "update", "patch"]);
    expect(role.rules?.[1]).toMatchObject({ resourceNames: ["ids-worker-ids"], verbs: ["get"] });
    await rbac.readNamespacedRoleBinding({ name: "ids-generator", namespace: ns });
    expect((await readFleet(kubeConfig, ns, "ids"))?.metadata.finalizers).toEqual([FLEET_FINALIZER]);

    // The StatefulSet controller creates the pods (no kubelet: they stay Pending); each gets a lease with its own worker id.
    const pods = await waitFor("two pods", async () => {
      const list = await core.listNamespacedPod({ namespace: ns });
      return list.items.length === 2 ? list.items : undefined;
    });
    const leases = await waitFor("two leases", async () => {
      const maps = await Promise.all(
        pods.map((p) => core.readNamespacedConfigMap({ name: `${p.metadata!.name}-lease`, namespace: ns })),
      );
      return maps;
    });
    const parsed = leases.map((cm) => parseLeaseData(cm.data));
    expect(new Set(parsed.map((l) => l.workerId)).size).toBe(2);
    for (const l of parsed) {
      expect(l.state).toBe("Assigned");
      expect(pods.map((p) => p.metadata!.uid)).toContain(l.holderUid);
    }
    const ledger = parseLedgerData(
      (await core.readNamespacedConfigMap({ name: "ids-worker-ids", namespace: ns })).data,
    );
    expect([...ledger.entries.values()].filter((e) => e.state === "leased")).toHaveLength(2);

    // Status and conditions.
    const fleet = await waitFor("status", async () => {
      const f = await readFleet(kubeConfig, ns, "ids");
      return f?.status?.replicas === 2 ? f : undefined;
    });
    expect(fleet.status).toMatchObject({
      observedGeneration: 1,
      readyReplicas: 0,
      selector: "app.kubernetes.io/name=idfleet-generator,idfleet.dev/fleet=ids",
      layoutExhaustsAt: "2093-09-06T15:47:35Z",
    });
    expect(condition(fleet, "Ready")).toMatchObject({
      status: "False",
      reason: "PodsNotReady",
      observedGeneration: 1,
    });
    expect(condition(fleet, "WorkerIdsExhausted")).toMatchObject({ status: "False" });

    // A pod turning Ready (as a kubelet would report it) shows in status and capacity.
    await markReady(core, pods[0]!);
    await waitFor(
      "readyReplicas 1",
      async () => (await readFleet(kubeConfig, ns, "ids"))?.status?.readyReplicas === 1,
    );
    expect((await readFleet(kubeConfig, ns, "ids"))?.status?.capacityIdsPerSecond).toBe(4_096_000);

    // Idempotence: once settled, reconciling again writes nothing.
    await settle(op);
    const before = await writeCount(op);
    await reconcileAgain(op, `${ns}/ids`);
    expect(await writeCount(op)).toBe(before);

    // The holder reports a bad clock and some load: status rolls it up, ClockDrift is raised.
    const math = layoutMath(parseFleetSpec({}).layout);
    const reservedUntil = tickAt(math, Date.now() + 2000);
    const own = leases.find((cm) => parseLeaseData(cm.data).holderUid === pods[0]!.metadata!.uid)!;
    await renewAsHolder(core, ns, own.metadata!.name!, {
      reservedUntil,
      clockOffsetMs: 250,
      clockHealthy: false,
      sequenceUtilization: 0.25,
    });
    const drifting = await waitFor("ClockDrift", async () => {
      const f = await readFleet(kubeConfig, ns, "ids");
      return condition(f, "ClockDrift")?.status === "True" ? f : undefined;
    });
    expect(drifting.status).toMatchObject({
      leasedWorkers: 1,
      clock: { maxOffsetMs: 250, podsOutOfTolerance: 1 },
      sequenceUtilization: { max: 0.25 },
    });
    // No NTP servers in this fleet: the API server's clock is the reference.
    expect(condition(drifting, "ClockDrift")!.message).toMatch(
      /ids-0 is at least 250 ms ahead of the API server's clock \(limit 100 ms\).*spec\.clock\.maxDriftMs/,
    );
    const events = await waitFor("ClockOffsetExceeded event", async () => {
      const list = await core.listNamespacedEvent({ namespace: ns });
      return list.items.some((e) => e.reason === "ClockOffsetExceeded") ? list.items : undefined;
    });
    expect(events.some((e) => e.reason === "Created" && e.involvedObject.name === "ids")).toBe(true);

    // kubectl scale goes through the scale subresource; the operator follows with the StatefulSet and a third lease.
    await kubectl(["scale", "idfleet", "ids", "-n", ns, "--replicas=3"], {
      kubeconfig: inject("kubeconfig"),
    });
    await waitFor(
      "StatefulSet at 3",
      async () => (await apps.readNamespacedStatefulSet({ name: "ids", namespace: ns })).spec?.replicas === 3,
    );
    await waitFor("lease of ids-2", () =>
      core.readNamespacedConfigMap({ name: "ids-2-lease", namespace: ns }),
    );

    // Updates: service port changes, autoscaling off removes the HPA.
    await patchFleet(kubeConfig, ns, "ids", [
      { op: "replace", path: "/spec/service/port", value: 9090 },
      { op: "replace", path: "/spec/autoscaling/enabled", value: false },
    ]);
    await waitFor(
      "client service on 9090",
      async () =>
        (await core.readNamespacedService({ name: "ids", namespace: ns })).spec?.ports?.[0]?.port === 9090,
    );
    await waitFor("HPA deleted", async () => {
      const list = await kubeConfig
        .makeApiClient(AutoscalingV2Api)
        .listNamespacedHorizontalPodAutoscaler({ namespace: ns });
      return list.items.length === 0;
    });
    await waitFor(
      "observedGeneration 3",
      async () => (await readFleet(kubeConfig, ns, "ids"))?.status?.observedGeneration === 3,
    );

    // Delete: the finalizer holds the fleet until pods are gone and the fence has passed, then GC removes the rest.
    await deleteFleet(kubeConfig, ns, "ids");
    await waitFor("fleet gone", async () => (await readFleet(kubeConfig, ns, "ids")) === undefined, 60_000);
    expect(Date.now()).toBeGreaterThan(math.epochMs + (reservedUntil + 1) * math.layout.timeUnitMs);
    await waitFor(
      "StatefulSet collected",
      async () => (await apps.listNamespacedStatefulSet({ namespace: ns })).items.length === 0,
      60_000,
    );
    await waitFor(
      "leases collected",
      async () => {
        const maps = await core.listNamespacedConfigMap({
          namespace: ns,
          labelSelector: "app.kubernetes.io/component=worker-lease",
        });
        return maps.items.length === 0;
      },
      60_000,
    );
  });

  it("deleting a fleet revokes a still-renewing holder's lease before its worker id is free again, with a floor above all it reserved", async () => {
    const { ns, kubeConfig } = await namespaceWithLeader("fleet-delete-zombie");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    // A second fleet of the id space keeps the ledger alive (it owns it too) and could reuse the id.
    const ledgerName = ledgerNameForIdSpace("shared");
    await createFleet(kubeConfig, ns, "keeper", { replicas: 0, idSpace: { name: "shared" } });
    await waitFor("ledger", () => core.readNamespacedConfigMap({ name: ledgerName, namespace: ns }));
    await createFleet(kubeConfig, ns, "ids", { replicas: 1, idSpace: { name: "shared" } });
    const math = layoutMath(parseFleetSpec({}).layout);
    const first = await waitFor("lease of ids-0", () =>
      core.readNamespacedConfigMap({ name: "ids-0-lease", namespace: ns }),
    );
    const workerId = parseLeaseData(first.data).workerId;

    // A holder that keeps renewing as a generator does (conditioned on what it last wrote), e.g. the
    // process of a force-deleted pod on a partitioned node. Every reservation it gets through is kept.
    let last = first;
    const durable: number[] = [];
    const renew = async (): Promise<boolean> => {
      const lease = parseLeaseData(last.data);
      const reservedUntil = tickAt(math, Date.now() + 3000);
      try {
        last = await core.replaceNamespacedConfigMap({
          name: "ids-0-lease",
          namespace: ns,
          body: {
            ...last,
            data: serializeLeaseData({
              ...lease,
              state: "Active",
              renewCount: lease.renewCount + 1,
              reservedUntil,
            }),
          },
        });
        durable.push(reservedUntil);
        return true;
      } catch {
        return false;
      }
    };
    expect(await renew()).toBe(true);

    await deleteFleet(kubeConfig, ns, "ids");
    // Renew every 500 ms until the ledger frees the worker id; a renewal may land until the revocation.
    const freedFloor = await waitFor(
      "worker id freed in the ledger",
      async () => {
        await renew();
        const ledgerMap = await core.readNamespacedConfigMap({ name: ledgerName, namespace: ns });
        const entry = parseLedgerData(ledgerMap.data).entries.get(workerId);
        if (entry?.state !== "free") {
          await new Promise((r) => setTimeout(r, 500));
          return undefined;
        }
        return entry.reservedUntil;
      },
      90_000,
    );
    expect(durable.length).toBeGreaterThan(1);
    expect(freedFloor).toBeGreaterThanOrEqual(Math.max(...durable));
    // The lease was revoked conditionally: no renewal gets through any more.
    const renewedAfterFree = durable.length;
    expect(await renew()).toBe(false);
    expect(durable.length).toBe(renewedAfterFree);
    await waitFor("fleet gone", async () => (await readFleet(kubeConfig, ns, "ids")) === undefined, 60_000);
  });

  it("keeps writing status when the last utilization report goes away (scaled to zero)", async () => {
    const { ns, kubeConfig } = await namespaceWithLeader("fleet-status-empty");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await createFleet(kubeConfig, ns, "ids", { replicas: 1 });
    await waitFor("lease of ids-0", () =>
      core.readNamespacedConfigMap({ name: "ids-0-lease", namespace: ns }),
    );
    await renewAsHolder(core, ns, "ids-0-lease", {
      sequenceUtilization: 0.25,
      clockOffsetMs: 1,
      clockHealthy: true,
    });
    await waitFor("utilization in status", async () => {
      const f = await readFleet(kubeConfig, ns, "ids");
      return (f?.status?.sequenceUtilization as { max?: number } | undefined)?.max === 0.25;
    });
    await kubectl(["scale", "idfleet", "ids", "-n", ns, "--replicas=0"], {
      kubeconfig: inject("kubeconfig"),
    });
    // The roll-ups have nothing left to report; the status write must still go through.
    const after = await waitFor("status of the empty fleet", async () => {
      const f = await readFleet(kubeConfig, ns, "ids");
      return f?.status?.replicas === 0 && f.status.leasedWorkers === 0 ? f : undefined;
    });
    expect(after.status?.sequenceUtilization).toBeUndefined();
  });

  it("reports a spec no retry can fix (an epoch in the future) once, without retrying it with backoff", async () => {
    const { ns, kubeConfig, op } = await namespaceWithLeader("fleet-terminal");
    await createFleet(kubeConfig, ns, "later", { replicas: 0, layout: { epoch: "2999-01-01T00:00:00Z" } });
    const degraded = await waitFor("Degraded", async () => {
      const c = condition(await readFleet(kubeConfig, ns, "later"), "Degraded");
      return c?.status === "True" ? c : undefined;
    });
    expect(degraded.message).toContain("spec.layout.epoch 2999-01-01T00:00:00Z is in the future");
    await waitFor("a terminal reconcile", async () => ((await reconcileResults(op)).terminal ?? 0) > 0);
    await reconcileAgain(op, `${ns}/later`);
    const results = await reconcileResults(op);
    expect(results.error ?? 0).toBe(0);
    expect((await op.metrics.reconcileErrors.get()).values[0]?.value ?? 0).toBe(0);
  });

  it("finishes deleting a fleet whose namespace is deleted, where no ledger can be created any more", async () => {
    // The operator elects in a namespace of its own: the fleet's namespace is about to go.
    const { name: home, kubeConfig } = await createTestNamespace("fleet-ns-delete-op");
    const { name: ns } = await createTestNamespace("fleet-ns-delete");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const op = await startTestOperator(kubeConfig, ns, "op-a", home);
    running.push(op);
    await waitFor("leadership", () => op.isLeader());
    await createFleet(kubeConfig, ns, "ids", { replicas: 2 });
    await waitFor("lease of ids-1", () =>
      core.readNamespacedConfigMap({ name: "ids-1-lease", namespace: ns }),
    );

    await core.deleteNamespace({ name: ns });
    await waitFor(
      "namespace gone",
      async () => {
        try {
          await core.readNamespace({ name: ns });
          return undefined;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      120_000,
    );
  });

  it("recreates a deleted ledger past every reservation it may have forgotten, and never reuses an assignment number", async () => {
    const { ns, kubeConfig } = await namespaceWithLeader("fleet-ledger-loss");
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await createFleet(kubeConfig, ns, "ids", { replicas: 1 });
    const spec = parseFleetSpec({});
    const math = layoutMath(spec.layout);
    const before = parseLeaseData(
      (
        await waitFor("lease of ids-0", () =>
          core.readNamespacedConfigMap({ name: "ids-0-lease", namespace: ns }),
        )
      ).data,
    );

    // A brand-new id space starts without a base floor: no holder can have reserved anything yet.
    const first = parseLedgerData(
      (await core.readNamespacedConfigMap({ name: "ids-worker-ids", namespace: ns })).data,
    );
    expect(first.baseFloor).toBeUndefined();
    await waitFor(
      "status",
      async () => (await readFleet(kubeConfig, ns, "ids"))?.status?.observedGeneration === 1,
    );

    const deletedAt = Date.now();
    await core.deleteNamespacedConfigMap({ name: "ids-worker-ids", namespace: ns });
    // A holder may have reserved up to reserveAhead past its own clock, which may run maxDrift ahead.
    const forgotten = tickAt(math, deletedAt + spec.leases.reserveAheadMs + spec.clock.maxDriftMs);
    const ledger = await waitFor("ledger recreated", async () =>
      parseLedgerData((await core.readNamespacedConfigMap({ name: "ids-worker-ids", namespace: ns })).data),
    );
    expect(ledger.baseFloor).toBeGreaterThan(forgotten);
    // The old lease is not backed by the new ledger: the pod gets a new assignment, past the base
    // floor, once lease duration + grace have passed (the lost ledger may have had live holders retiring).
    const after = await waitFor(
      "lease reassigned",
      async () => {
        const lease = parseLeaseData(
          (await core.readNamespacedConfigMap({ name: "ids-0-lease", namespace: ns })).data,
        );
        return lease.assignment !== before.assignment ? lease : undefined;
      },
      90_000,
    );
    expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(
      (spec.leases.durationSeconds + spec.leases.reclaimGraceSeconds) * 1000,
    );
    expect(after.assignment).toBeGreaterThan(before.assignment);
    expect(after.handoverAfter).toBeGreaterThanOrEqual(ledger.baseFloor!);
  });

  it("leaves what other field managers add to its StatefulSet alone instead of re-applying on every reconcile", async () => {
    const { ns, kubeConfig, op } = await namespaceWithLeader("fleet-foreign-fields");
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    await createFleet(kubeConfig, ns, "ids", { replicas: 1 });
    await waitFor("StatefulSet", () => apps.readNamespacedStatefulSet({ name: "ids", namespace: ns }));
    await settle(op);
    const applies = await statefulSetApplies(op);

    // What the chaos e2e does for libfaketime: its own server-side apply adds an env var, a mount and a volume.
    const patch = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "ids", namespace: ns },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "generator",
                env: [{ name: "LD_PRELOAD", value: "/faketime/libfaketime.so.1" }],
                volumeMounts: [{ name: "faketime", mountPath: "/faketime", readOnly: true }],
              },
            ],
            volumes: [{ name: "faketime", hostPath: { path: "/usr/lib/faketime", type: "Directory" } }],
          },
        },
      },
    };
    await kubectl(["apply", "--server-side", "--field-manager=someone-else", "-f", "-"], {
      kubeconfig: inject("kubeconfig"),
      input: JSON.stringify(patch),
    });
    await reconcileAgain(op, `${ns}/ids`);
    expect(await statefulSetApplies(op)).toBe(applies);

    const sts = await apps.readNamespacedStatefulSet({ name: "ids", namespace: ns });
    const container = sts.spec!.template.spec!.containers[0]!;
    expect(container.env?.map((e) => e.name)).toEqual(
      expect.arrayContaining(["LD_PRELOAD", GeneratorEnv.fleet]),
    );
    expect(sts.spec!.template.spec!.volumes?.map((v) => v.name).sort()).toEqual(["faketime", "tmp"]);
    expect(sts.metadata?.managedFields?.map((m) => m.manager)).toEqual(
      expect.arrayContaining(["idfleet-operator", "someone-else"]),
    );

    // Ownership is unchanged: a fleet change still reaches the StatefulSet, the other manager's fields stay.
    await kubectl(["scale", "idfleet", "ids", "-n", ns, "--replicas=2"], {
      kubeconfig: inject("kubeconfig"),
    });
    await waitFor(
      "StatefulSet at 2",
      async () => (await apps.readNamespacedStatefulSet({ name: "ids", namespace: ns })).spec?.replicas === 2,
    );
    const scaled = await apps.readNamespacedStatefulSet({ name: "ids", namespace: ns });
    expect(scaled.spec!.template.spec!.containers[0]!.env?.some((e) => e.name === "LD_PRELOAD")).toBe(true);
  });

  it("elects one leader among two operators and fails over when it stops", async () => {
    const { name: ns, kubeConfig } = await createTestNamespace("fleet-leader");
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const a = await startTestOperator(kubeConfig, ns, "op-a");
    const b = await startTestOperator(kubeConfig, ns, "op-b");
    running.push(a, b);
    const leader = await waitFor("a leader", () => (a.isLeader() ? a : b.isLeader() ? b : undefined));
    const standby = leader === a ? b : a;
    await new Promise((r) => setTimeout(r, 3000));
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);

    await createFleet(kubeConfig, ns, "ids", { replicas: 1 });
    await waitFor("StatefulSet", () => apps.readNamespacedStatefulSet({ name: "ids", namespace: ns }));
    expect(await writeCount(standby)).toBe(0);

    await leader.stop();
    running.splice(running.indexOf(leader), 1);
    await waitFor("standby takes over", () => standby.isLeader(), 30_000);
    await kubectl(["scale", "idfleet", "ids", "-n", ns, "--replicas=2"], {
      kubeconfig: inject("kubeconfig"),
    });
    await waitFor(
      "new leader scales",
      async () => (await apps.readNamespacedStatefulSet({ name: "ids", namespace: ns })).spec?.replicas === 2,
    );
    expect(await writeCount(standby)).toBeGreaterThan(0);
  });
});

/** A test namespace with one operator watching it, once it leads. */
async function namespaceWithLeader(prefix: string) {
  const { name: ns, kubeConfig } = await createTestNamespace(prefix);
  const op = await startTestOperator(kubeConfig, ns, "op-a");
  running.push(op);
  await waitFor("leadership", () => op.isLeader());
  return { ns, kubeConfig, op };
}

async function markReady(core: CoreV1Api, pod: V1Pod) {
  const now = new Date().toISOString();
  await core.replaceNamespacedPodStatus({
    name: pod.metadata!.name!,
    namespace: pod.metadata!.namespace!,
    body: {
      ...(await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace! })),
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: now as unknown as Date }],
      },
    },
  });
}

async function statefulSetApplies(op: RunningOperator): Promise<number> {
  const metric = await op.metrics.apiWrites.get();
  return metric.values
    .filter((v) => v.labels.kind === "StatefulSet" && v.labels.verb === "apply")
    .reduce((sum, v) => sum + v.value, 0);
}

// Asks for three reconciles of `key`, spaced out, and waits until at least one of them ran.
async function reconcileAgain(op: RunningOperator, key: string) {
  const reconciles = await reconcileCount(op);
  for (let i = 0; i < 3; i++) {
    op.enqueue(key);
    await new Promise((r) => setTimeout(r, 300));
  }
  await waitFor("reconciles ran", async () => (await reconcileCount(op)) >= reconciles + 1);
}

async function reconcileResults(op: RunningOperator): Promise<Record<string, number>> {
  const metric = await op.metrics.reconcileTotal.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

async function reconcileCount(op: RunningOperator): Promise<number> {
  const metric = await op.metrics.reconcileTotal.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

// Waits until the operator has stopped writing for a couple of seconds.
async function settle(op: RunningOperator) {
  let last = await writeCount(op);
  let quietSince = Date.now();
  await waitFor("operator to settle", async () => {
    const now = await writeCount(op);
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
    return Date.now() - quietSince > 2500;
  });
}
