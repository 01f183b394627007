import { describe, expect, it } from "vitest";
import { desiredLedgerReaderBinding, desiredLedgerReaderRole } from "./desired-ledger-access.ts";
import { GeneratorEnv, parseGeneratorEnv } from "../../../contract/generator-env.ts";
import { fullFleetSpec } from "../../../contract/fleet-spec.fixtures.ts";
import { fleetFixture } from "../../test/fleet-fixture.ts";
import { desiredStatefulSet, DEFAULT_GENERATOR_RESOURCES } from "./desired-statefulset.ts";
import { desiredClientService, desiredHeadlessService } from "./desired-services.ts";
import { desiredHpa } from "./desired-hpa.ts";
import { desiredPdb } from "./desired-pdb.ts";
import { desiredRole, desiredRoleBinding, desiredServiceAccount, ordinalsToCover } from "./desired-rbac.ts";
import { fleetSelectorString } from "./fleet-naming.ts";

describe("desired StatefulSet", () => {
  const fleet = fleetFixture(fullFleetSpec);
  const sts = desiredStatefulSet(fleet, {
    defaultImage: "idfleet/generator:default",
    replicas: 2,
    ledgerNamespace: "team-a",
  });
  const pod = sts.spec!.template.spec!;
  const container = pod.containers[0]!;

  it("runs pods in parallel behind the headless service, owned by the fleet", () => {
    expect(sts.metadata).toMatchObject({ name: "ids", namespace: "team-a" });
    expect(sts.metadata!.ownerReferences).toEqual([
      expect.objectContaining({
        kind: "IdGeneratorFleet",
        name: "ids",
        uid: fleet.metadata.uid,
        controller: true,
      }),
    ]);
    expect(sts.spec).toMatchObject({
      replicas: 2,
      podManagementPolicy: "Parallel",
      serviceName: "ids-headless",
    });
    expect(sts.spec!.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "idfleet-generator",
      "idfleet.dev/fleet": "ids",
    });
    expect(sts.spec!.template.metadata!.labels).toMatchObject({
      ...sts.spec!.selector.matchLabels,
      team: "payments",
    });
  });

  it("renders an environment the generator parses back into the fleet's settings", () => {
    const env: Record<string, string> = { POD_NAME: "ids-0", POD_UID: "u", POD_NAMESPACE: "team-a" };
    for (const e of container.env!) if (e.value !== undefined) env[e.name] = e.value;
    const config = parseGeneratorEnv(env);
    expect(config.layout).toEqual(fleet.spec.layout);
    expect(config.sequenceStart).toBe("rolling");
    expect(config.idSpace).toBe("orders");
    expect(config.maxDriftMs).toBe(50);
    expect(config.ntpServers).toEqual([{ host: "ntp.internal", port: 123 }]);
    expect(config.mode).toMatchObject({
      kind: "lease",
      fleet: "ids",
      leaseDurationSeconds: 15,
      renewIntervalSeconds: 5,
    });
    const downward = container
      .env!.filter((e) => e.valueFrom)
      .map((e) => [e.name, e.valueFrom!.fieldRef!.fieldPath]);
    expect(downward).toEqual([
      [GeneratorEnv.podName, "metadata.name"],
      [GeneratorEnv.podUid, "metadata.uid"],
      [GeneratorEnv.podNamespace, "metadata.namespace"],
    ]);
  });

  it("renders the default sequence start as nothing, so existing fleets' pods are not rolled", () => {
    const zero = desiredStatefulSet(fleetFixture({ ...fullFleetSpec, sequence: { start: "zero" } }), {
      defaultImage: "idfleet/generator:default",
      replicas: 2,
      ledgerNamespace: "team-a",
    });
    const names = zero.spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    expect(names).not.toContain(GeneratorEnv.sequenceStart);
    expect(container.env!.map((e) => e.name)).toContain(GeneratorEnv.sequenceStart);
  });

  it("is locked down: non-root, read-only root, no capabilities, RuntimeDefault seccomp", () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.serviceAccountName).toBe("ids-generator");
    expect(container.readinessProbe!.httpGet!.path).toBe("/readyz");
    expect(container.livenessProbe!.httpGet!.path).toBe("/healthz");
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      fleet.spec.leases.renewIntervalSeconds * 2,
    );
  });

  it("passes the pod settings through and defaults the image and resources", () => {
    expect(container.image).toBe("idfleet/generator:dev");
    expect(container.resources).toEqual(fullFleetSpec.resources);
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(pod.tolerations).toEqual(fullFleetSpec.tolerations);
    expect(pod.priorityClassName).toBe("high");
    expect(pod.topologySpreadConstraints![0]!.labelSelector).toEqual({
      matchLabels: sts.spec!.selector.matchLabels,
    });
    const plain = desiredStatefulSet(fleetFixture({}), {
      defaultImage: "idfleet/generator:default",
      replicas: 1,
      ledgerNamespace: "team-a",
    });
    const c = plain.spec!.template.spec!.containers[0]!;
    expect(c.image).toBe("idfleet/generator:default");
    expect(c.resources).toEqual(DEFAULT_GENERATOR_RESOURCES);
    expect(plain.spec!.template.spec!.nodeSelector).toBeUndefined();
  });
});

describe("desired StatefulSet: serving through routine operations", () => {
  const podOf = (spec: Parameters<typeof fleetFixture>[0]) =>
    desiredStatefulSet(fleetFixture(spec), { defaultImage: "g", replicas: 1, ledgerNamespace: "team-a" })
      .spec!.template.spec!;

  it("derives a grace period covering drain + in-flight + release, or takes the fleet's own", () => {
    // Default: 5 s drain + 5 s in flight + 2 * 5 s release + 5 s margin = 25, at least 30.
    expect(podOf({}).terminationGracePeriodSeconds).toBe(30);
    const long = podOf({
      shutdown: { drainSeconds: 30 },
      leases: { renewIntervalSeconds: 10, reserveAheadMs: 20_000 },
    });
    expect(long.terminationGracePeriodSeconds).toBe(30 + 5 + 20 + 5);
    expect(
      podOf({ shutdown: { drainSeconds: 10, terminationGracePeriodSeconds: 90 } })
        .terminationGracePeriodSeconds,
    ).toBe(90);
    const env = podOf({ shutdown: { drainSeconds: 12 } }).containers[0]!.env!;
    expect(env).toContainEqual({ name: GeneratorEnv.drainSeconds, value: "12" });
  });

  it("has probes that never kill a slow starter and follow /readyz within about two seconds", () => {
    const c = podOf({}).containers[0]!;
    expect(c.startupProbe).toMatchObject({ httpGet: { path: "/healthz" } });
    // At least five minutes to start before the kubelet gives up.
    expect(c.startupProbe!.periodSeconds! * c.startupProbe!.failureThreshold!).toBeGreaterThanOrEqual(300);
    // Liveness: a minute or more of no answer at all, with a generous timeout.
    const live = c.livenessProbe!;
    expect(live.httpGet!.path).toBe("/healthz");
    expect(live.timeoutSeconds).toBeGreaterThanOrEqual(5);
    expect(live.periodSeconds! * live.failureThreshold!).toBeGreaterThanOrEqual(60);
    // Readiness: one slow (timed out) answer is tolerated, a 503 turns the pod unready within ~2 s.
    const ready = c.readinessProbe!;
    expect(ready.httpGet!.path).toBe("/readyz");
    expect(ready.failureThreshold).toBeGreaterThanOrEqual(2);
    expect(ready.timeoutSeconds).toBeGreaterThanOrEqual(2);
    expect(ready.periodSeconds! * ready.failureThreshold!).toBeLessThanOrEqual(2);
  });

  it("spreads pods over nodes and zones unless the fleet says otherwise", () => {
    const spread = podOf({}).topologySpreadConstraints!;
    expect(spread.map((c) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable])).toEqual([
      ["kubernetes.io/hostname", 1, "ScheduleAnyway"],
      ["topology.kubernetes.io/zone", 1, "ScheduleAnyway"],
    ]);
    expect(spread[0]!.labelSelector).toEqual({
      matchLabels: { "app.kubernetes.io/name": "idfleet-generator", "idfleet.dev/fleet": "ids" },
    });
    const own = podOf({
      topologySpreadConstraints: [{ maxSkew: 2, topologyKey: "rack", whenUnsatisfiable: "DoNotSchedule" }],
    }).topologySpreadConstraints!;
    expect(own.map((c) => c.topologyKey)).toEqual(["rack"]);
    expect(podOf({ topologySpreadConstraints: [] }).topologySpreadConstraints).toBeUndefined();
  });
});

describe("desired services, PDB, HPA and RBAC", () => {
  const fleet = fleetFixture(fullFleetSpec);

  it("makes a headless service for pod DNS and a client service with the spec's type and port", () => {
    expect(desiredHeadlessService(fleet).spec).toMatchObject({
      clusterIP: "None",
      publishNotReadyAddresses: true,
    });
    expect(desiredHeadlessService(fleet).metadata!.name).toBe("ids-headless");
    expect(desiredClientService(fleet).spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ port: 8080, targetPort: "http" }],
    });
    expect(desiredClientService(fleet).metadata!.name).toBe("ids");
  });

  it("allows one disruption at a time", () => {
    expect(desiredPdb(fleet).spec).toMatchObject({ maxUnavailable: 1 });
  });

  it("targets the fleet's scale subresource with CPU and sequence utilization", () => {
    const hpa = desiredHpa(fleet)!;
    expect(hpa.spec!.scaleTargetRef).toEqual({
      apiVersion: "idfleet.dev/v1alpha1",
      kind: "IdGeneratorFleet",
      name: "ids",
    });
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 8,
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
    });
    expect(hpa.spec!.metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "idgen_sequence_utilization" },
          target: { type: "AverageValue", averageValue: "500m" },
        },
      },
    ]);
    expect(desiredHpa(fleetFixture({}))).toBeNull();
    expect(desiredHpa(fleetFixture({ autoscaling: { enabled: true } }))!.spec!.metrics).toHaveLength(1);
    const fine = desiredHpa(
      fleetFixture({ autoscaling: { enabled: true, targetSequenceUtilization: 0.0125 } }),
    );
    expect(fine!.spec!.metrics![1]!.pods!.target.averageValue).toBe("12500u");
  });

  it("grants the generators their own lease ConfigMaps by name and nothing else", () => {
    const role = desiredRole(fleet, ordinalsToCover(fleet, []), "team-a");
    expect(role.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: Array.from({ length: 8 }, (_, i) => `ids-${i}-lease`),
        verbs: ["get", "update", "patch"],
      },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["orders-worker-ids"], verbs: ["get"] },
    ]);
    expect(ordinalsToCover(fleetFixture({ replicas: 3 }), [0, 1, 2, 6])).toBe(7);
    expect(desiredRole(fleetFixture({ replicas: 0 }), 0, "team-a").rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["ids-worker-ids"], verbs: ["get"] },
    ]);
    expect(desiredRoleBinding(fleet).subjects).toEqual([
      { kind: "ServiceAccount", name: "ids-generator", namespace: "team-a" },
    ]);
    expect(desiredServiceAccount(fleet).metadata!.name).toBe("ids-generator");
  });

  it("grants reading the ledger in the operator's namespace by a Role there, for this fleet only", () => {
    expect(desiredRole(fleet, 1, "idfleet-system").rules).toHaveLength(1);
    const role = desiredLedgerReaderRole(fleet, "idfleet-system");
    expect(role.metadata).toMatchObject({ name: "idfleet-ledger-team-a.ids", namespace: "idfleet-system" });
    expect(role.metadata!.ownerReferences).toBeUndefined();
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["orders-worker-ids"], verbs: ["get"] },
    ]);
    const binding = desiredLedgerReaderBinding(fleet, "idfleet-system");
    expect(binding.roleRef.name).toBe("idfleet-ledger-team-a.ids");
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "ids-generator", namespace: "team-a" },
    ]);
    const sts = desiredStatefulSet(fleet, {
      defaultImage: "x",
      replicas: 1,
      ledgerNamespace: "idfleet-system",
    });
    expect(sts.spec!.template.spec!.containers[0]!.env).toContainEqual({
      name: "IDGEN_LEDGER_NAMESPACE",
      value: "idfleet-system",
    });
  });

  it("publishes the pod selector for the scale subresource", () => {
    expect(fleetSelectorString("ids")).toBe("app.kubernetes.io/name=idfleet-generator,idfleet.dev/fleet=ids");
  });
});
