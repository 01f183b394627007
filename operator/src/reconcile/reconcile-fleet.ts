import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import {
  FleetConditionType,
  parseFleetSpec,
  type FleetCondition,
  type FleetStatus,
  type IdGeneratorFleet,
} from "../../../contract/fleet-spec.ts";
import { LeaseLabel } from "../../../contract/lease-record.ts";
import { leaseTimingProblems } from "../../../contract/lease-rules.ts";
import { layoutExpiryProblem, layoutMath } from "../../../contract/id-layout-math.ts";
import type { LeaseSync, LeaseSyncResult } from "../leases/lease-sync.ts";
import type { FleetCaches, RawFleet } from "../kube/fleet-caches.ts";
import type { ObjectWriter } from "../kube/object-writer.ts";
import { describeError } from "../kube/api-errors.ts";
import { desiredHash } from "../kube/desired-match.ts";
import { desiredStatefulSet } from "./desired-statefulset.ts";
import { desiredClientService, desiredHeadlessService } from "./desired-services.ts";
import { desiredHpa } from "./desired-hpa.ts";
import { desiredPdb } from "./desired-pdb.ts";
import { desiredRole, desiredRoleBinding, desiredServiceAccount, ordinalsToCover } from "./desired-rbac.ts";
import { computeFleetStatus } from "./fleet-status.ts";
import { findRangeOverlaps } from "./id-space-conflicts.ts";
import { FLEET_FINALIZER, fleetObjectNames } from "./fleet-naming.ts";

/** What one reconcile needs from the outside world. */
export interface ReconcileContext {
  caches: FleetCaches;
  writer: ObjectWriter;
  leaseSync: LeaseSync;
  /** Generator image for fleets that name none. */
  defaultImage: string;
  now: () => Date;
  log: (message: string) => void;
}

/** What the work queue does with the key afterwards. */
export interface ReconcileResult {
  /** Reconcile again after this long even if nothing changes (lease observation, fences). */
  requeueAfterMs?: number;
}

/**
 * Reconciles one fleet, top to bottom. Level-based: it reads the fleet and everything it
 * owns from the informer caches, computes the desired state and writes only what differs.
 * Throws on failures the queue should retry with backoff (after recording them in status).
 */
export async function reconcileFleet(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
  // 1. Read the fleet. Gone: garbage collection removes what it owned.
  const fleet = readFleet(key, ctx);
  if (!fleet) return {};

  // 2. Deleting: hold the finalizer until no worker id of this fleet can be reused too early.
  if (fleet.metadata.deletionTimestamp) return finalizeDeletion(fleet, ctx);

  // 3. Make sure deletion will come back to us.
  await ensureFinalizer(fleet, ctx);

  // 4. Worker ids: plan and apply lease assignments for the pods that exist; the plan also
  //    says how many pods can run (never more than the worker ids the fleet can hold).
  const pods = podsOf(fleet, ctx);
  const problems = [...layoutProblems(fleet, ctx.now()), ...timingProblems(fleet)];
  let leases: LeaseSyncResult | undefined;
  try {
    leases = await ctx.leaseSync.sync(fleet, pods);
    for (const line of leases.applied) ctx.log(`fleet ${key}: ${line}`);
    if (leases.applied.length) {
      await event(fleet, ctx, "Normal", "WorkerIdsUpdated", leases.applied.join("; ").slice(0, 1000));
    }
    if (leases.interrupted) problems.push(`worker-id leases: ${leases.interrupted}`);
  } catch (err) {
    problems.push(`worker-id leases: ${describeError(err)}`);
  }
  const plan = leases?.plan;
  // Without a plan, keep what runs: never grow the fleet past ids nobody has checked.
  const liveStatefulSet = ctx.caches.statefulSets.get(
    fleetObjectNames(fleet.metadata.name).statefulSet,
    fleet.metadata.namespace,
  );
  const runnableReplicas =
    plan?.allocatableReplicas ?? Math.min(fleet.spec.replicas, liveStatefulSet?.spec?.replicas ?? 0);
  const rangeConflicts = idSpaceConflicts(fleet, ctx);

  // 5. Apply the owned objects, each from its pure desired-state function.
  const step = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (err) {
      problems.push(`${what}: ${describeError(err)}`);
    }
  };
  await step("applying generator RBAC", () => applyGeneratorRbac(fleet, pods, ctx));
  await step("applying Services", () => applyServices(fleet, ctx));
  await step("applying PodDisruptionBudget", () => applyPdb(fleet, ctx));
  await step("applying HorizontalPodAutoscaler", () => applyOrDeleteHpa(fleet, ctx));
  await step("applying StatefulSet", () => applyStatefulSet(fleet, runnableReplicas, ctx));

  // 6. Report: status through the status subresource, events for transitions users should see.
  const statefulSet = ctx.caches.statefulSets.get(
    fleetObjectNames(fleet.metadata.name).statefulSet,
    fleet.metadata.namespace,
  );
  const status = computeFleetStatus(
    fleet,
    {
      pods: pods.length,
      readyPods: pods.filter(isPodReady).length,
      runnableReplicas,
      workerIdShortage: plan?.exhausted
        ? { free: plan.allocatableReplicas, overlappingFleets: rangeConflicts }
        : null,
      leasedWorkers: plan?.leasedWorkers ?? 0,
      leases: leases?.leases ?? [],
      rollingOut: isRollingOut(statefulSet, runnableReplicas),
      conflicts: [
        ...rangeConflicts.map((other) => `worker-id range overlaps fleet ${other} in the same id space`),
        ...(plan?.conflicts.map((c) => c.message) ?? []),
      ],
      waiting: plan?.waitingPods.map((w) => `${w.pod}: ${w.message}`) ?? [],
      podProblems: pods.flatMap(podProblem).slice(0, 5),
      problems,
      ledger: leases?.ledger ?? null,
    },
    ctx.now(),
  );
  await writeStatus(fleet, status, ctx);
  await recordTransitions(fleet, fleet.status?.conditions, status.conditions, ctx);

  if (problems.length) throw new Error(problems.join("; "));
  // Lease liveness is judged over time on the operator's own clock: look again within a renew interval.
  const renewMs = fleet.spec.leases.renewIntervalSeconds * 1000;
  const leaseWork = pods.length > 0 || (leases?.leases.length ?? 0) > 0;
  const requeue = [leaseWork ? renewMs : undefined, plan?.requeueAfterMs ?? undefined].filter(
    (v): v is number => v !== undefined,
  );
  return requeue.length ? { requeueAfterMs: Math.min(...requeue) } : {};
}

function readFleet(key: string, ctx: ReconcileContext): IdGeneratorFleet | undefined {
  const [namespace, name] = key.split("/") as [string, string];
  const raw = ctx.caches.fleets.get(name, namespace) as RawFleet | undefined;
  if (!raw?.metadata?.name) return undefined;
  // The API server validated and defaulted the spec; parsing again gives types and catches old objects.
  return { ...(raw as unknown as IdGeneratorFleet), spec: parseFleetSpec(raw.spec) };
}

async function ensureFinalizer(fleet: IdGeneratorFleet, ctx: ReconcileContext): Promise<void> {
  if (fleet.metadata.finalizers?.includes(FLEET_FINALIZER)) return;
  await ctx.writer.applyFleetFinalizers(fleet, [FLEET_FINALIZER]);
}

function podsOf(fleet: IdGeneratorFleet, ctx: ReconcileContext): V1Pod[] {
  return ctx.caches.pods
    .list(fleet.metadata.namespace)
    .filter(
      (p) => p.metadata?.labels?.[LeaseLabel.fleet] === fleet.metadata.name && isOwnedByStatefulSet(p, fleet),
    );
}

function isOwnedByStatefulSet(pod: V1Pod, fleet: IdGeneratorFleet): boolean {
  return (
    pod.metadata?.ownerReferences?.some(
      (r) => r.kind === "StatefulSet" && r.name === fleetObjectNames(fleet.metadata.name).statefulSet,
    ) ?? false
  );
}

/** Fleets of the same namespace and id space whose worker-id ranges overlap this one's. */
function idSpaceConflicts(fleet: IdGeneratorFleet, ctx: ReconcileContext): string[] {
  const inNamespace = ctx.caches.fleets.list(fleet.metadata.namespace).flatMap((raw) => {
    try {
      return [{ name: raw.metadata!.name!, spec: parseFleetSpec(raw.spec) }];
    } catch {
      return [];
    }
  });
  return findRangeOverlaps({ name: fleet.metadata.name, spec: fleet.spec }, inNamespace);
}

function timingProblems(fleet: IdGeneratorFleet): string[] {
  const l = fleet.spec.leases;
  return leaseTimingProblems({
    leaseDurationMs: l.durationSeconds * 1000,
    renewIntervalMs: l.renewIntervalSeconds * 1000,
    safetyMarginMs: l.safetyMarginSeconds * 1000,
    reclaimGraceMs: l.reclaimGraceSeconds * 1000,
  }).map((p) => `spec.leases: ${p}`);
}

function layoutProblems(fleet: IdGeneratorFleet, now: Date): string[] {
  const epochMs = Date.parse(fleet.spec.layout.epoch);
  if (!Number.isFinite(epochMs)) return [`spec.layout.epoch ${fleet.spec.layout.epoch} is not a date`];
  if (epochMs > now.getTime()) {
    return [
      `spec.layout.epoch ${fleet.spec.layout.epoch} is in the future; generators cannot issue IDs before it (recreate the fleet with a past epoch)`,
    ];
  }
  const expired = layoutExpiryProblem(layoutMath(fleet.spec.layout), now.getTime());
  return expired ? [`spec.layout: ${expired} (the layout is immutable: create a new fleet)`] : [];
}

async function applyGeneratorRbac(
  fleet: IdGeneratorFleet,
  pods: V1Pod[],
  ctx: ReconcileContext,
): Promise<void> {
  const { namespace } = fleet.metadata;
  const names = fleetObjectNames(fleet.metadata.name);
  const ordinals = pods
    .map((p) => Number(/-(\d+)$/.exec(p.metadata?.name ?? "")?.[1] ?? -1))
    .filter((n) => n >= 0);
  await ctx.writer.apply(
    desiredServiceAccount(fleet),
    ctx.caches.serviceAccounts.get(names.serviceAccount, namespace),
  );
  await ctx.writer.apply(
    desiredRole(fleet, ordinalsToCover(fleet, ordinals)),
    ctx.caches.roles.get(names.role, namespace),
  );
  await ctx.writer.apply(
    desiredRoleBinding(fleet),
    ctx.caches.roleBindings.get(names.roleBinding, namespace),
  );
}

async function applyServices(fleet: IdGeneratorFleet, ctx: ReconcileContext): Promise<void> {
  const { namespace } = fleet.metadata;
  const names = fleetObjectNames(fleet.metadata.name);
  await ctx.writer.apply(
    desiredHeadlessService(fleet),
    ctx.caches.services.get(names.headlessService, namespace),
  );
  await ctx.writer.apply(
    desiredClientService(fleet),
    ctx.caches.services.get(names.clientService, namespace),
  );
}

async function applyPdb(fleet: IdGeneratorFleet, ctx: ReconcileContext): Promise<void> {
  const names = fleetObjectNames(fleet.metadata.name);
  await ctx.writer.apply(desiredPdb(fleet), ctx.caches.pdbs.get(names.pdb, fleet.metadata.namespace));
}

async function applyOrDeleteHpa(fleet: IdGeneratorFleet, ctx: ReconcileContext): Promise<void> {
  const live = ctx.caches.hpas.get(fleetObjectNames(fleet.metadata.name).hpa, fleet.metadata.namespace);
  const desired = desiredHpa(fleet);
  if (desired) {
    await ctx.writer.apply(desired, live);
  } else if (live && isOwnedBy(live, fleet)) {
    await ctx.writer.delete({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: live.metadata,
    });
  }
}

async function applyStatefulSet(
  fleet: IdGeneratorFleet,
  replicas: number,
  ctx: ReconcileContext,
): Promise<void> {
  const live = ctx.caches.statefulSets.get(
    fleetObjectNames(fleet.metadata.name).statefulSet,
    fleet.metadata.namespace,
  );
  const desired = desiredStatefulSet(fleet, { defaultImage: ctx.defaultImage, replicas });
  const wrote = await ctx.writer.apply(desired, live);
  if (!wrote) return;
  const before = live?.spec?.replicas;
  if (!live)
    await event(
      fleet,
      ctx,
      "Normal",
      "Created",
      `created StatefulSet ${desired.metadata!.name} with ${replicas} pods`,
    );
  else if (before !== replicas)
    await event(fleet, ctx, "Normal", "Scaled", `scaled from ${before} to ${replicas} pods`);
}

function isOwnedBy(obj: KubernetesObject, fleet: IdGeneratorFleet): boolean {
  return obj.metadata?.ownerReferences?.some((r) => r.uid === fleet.metadata.uid) ?? false;
}

/** Why a pod is not ready, from its status, in a few words (empty when nothing says). */
function podProblem(pod: V1Pod): string[] {
  if (isPodReady(pod)) return [];
  const name = pod.metadata?.name ?? "?";
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && waiting.reason !== "ContainerCreating") return [`${name}: ${waiting.reason}`];
  }
  const unschedulable = pod.status?.conditions?.find(
    (c) => c.type === "PodScheduled" && c.status === "False",
  );
  return unschedulable?.message ? [`${name}: not scheduled: ${unschedulable.message}`] : [];
}

function isPodReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)
  );
}

function isRollingOut(
  sts:
    | {
        metadata?: { generation?: number };
        status?: { observedGeneration?: number; updatedReplicas?: number; replicas?: number };
      }
    | undefined,
  replicas: number,
): boolean {
  if (!sts) return true;
  const s = sts.status;
  return (
    (s?.observedGeneration ?? 0) < (sts.metadata?.generation ?? 0) ||
    (s?.replicas ?? 0) !== replicas ||
    (s?.updatedReplicas ?? 0) < replicas
  );
}

async function writeStatus(
  fleet: IdGeneratorFleet,
  status: FleetStatus,
  ctx: ReconcileContext,
): Promise<void> {
  if (fleet.status && desiredHash(fleet.status) === desiredHash(status)) return;
  await ctx.writer.applyFleetStatus(fleet, status);
}

// Conditions whose turning True a user should hear about, and whether that is bad news.
const ANNOUNCED: Partial<Record<string, "Normal" | "Warning">> = {
  [FleetConditionType.Ready]: "Normal",
  [FleetConditionType.WorkerIdsExhausted]: "Warning",
  [FleetConditionType.WorkerIdConflict]: "Warning",
  [FleetConditionType.ClockDrift]: "Warning",
  [FleetConditionType.Degraded]: "Warning",
};

async function recordTransitions(
  fleet: IdGeneratorFleet,
  before: readonly FleetCondition[] | undefined,
  after: readonly FleetCondition[] | undefined,
  ctx: ReconcileContext,
): Promise<void> {
  for (const c of after ?? []) {
    const type = ANNOUNCED[c.type];
    const was = before?.find((b) => b.type === c.type);
    if (type && c.status === "True" && was?.status !== "True")
      await event(fleet, ctx, type, c.reason, c.message);
    // The all-clear after a warning, so the event stream tells the whole story.
    else if (type === "Warning" && c.status === "False" && was?.status === "True")
      await event(fleet, ctx, "Normal", c.reason, c.message);
  }
}

async function event(
  fleet: IdGeneratorFleet,
  ctx: ReconcileContext,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
) {
  try {
    await ctx.writer.recordEvent(fleet, type, reason, message);
  } catch (err) {
    ctx.log(`event ${reason} on ${fleet.metadata.namespace}/${fleet.metadata.name}: ${describeError(err)}`);
  }
}

/**
 * Deletion (lease-protocol.md "Deletion"): stop the pods, then keep the fleet until the
 * current tick is past every reservedUntil of its leases plus the allowed clock drift, so
 * a fleet recreated with the same id space cannot issue an ID the old one already did.
 */
async function finalizeDeletion(fleet: IdGeneratorFleet, ctx: ReconcileContext): Promise<ReconcileResult> {
  if (!fleet.metadata.finalizers?.includes(FLEET_FINALIZER)) return {};
  const pods = podsOf(fleet, ctx);
  if (pods.length) {
    await applyStatefulSet(fleet, 0, ctx);
    return { requeueAfterMs: 1000 };
  }
  const waitMs = await ctx.leaseSync.releaseFleet(fleet, ctx.now().getTime());
  if (waitMs > 0) return { requeueAfterMs: Math.max(100, waitMs) };
  await ctx.writer.applyFleetFinalizers(fleet, []);
  return {};
}
