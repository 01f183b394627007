import type { V1ConfigMap } from "@kubernetes/client-node";
import { tickStartMs, type LayoutMath } from "../../../contract/id-layout-math.ts";
import {
  LEASE_COMPONENT,
  LeaseLabel,
  parseLeaseData,
  type LeaseData,
} from "../../../contract/lease-record.ts";
import { kJson } from "../../../cluster/client/cluster-access.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import type { FleetObserver, FleetPod } from "./fleet-observer.ts";
import { findPodProcess } from "./host-faults.ts";
import type { IdCollector } from "./id-audit.ts";
import type { IdPullers } from "./id-pullers.ts";

/** What a chaos run needs from the test: where the fleet is and the running clients. */
export type ChaosContext = {
  namespace: string;
  fleet: string;
  replicas: number;
  leaseDurationSeconds: number;
  reserveAheadMs: number;
  /** The fleet's ID layout (the run decodes ticks of received IDs). */
  math: LayoutMath;
  observer: FleetObserver;
  pullers: IdPullers;
  collector: IdCollector;
  faketimeDir: string;
  /** kill -9s so far, by pod UID: the kubelet backs off a container's restarts (10 s, 20 s, ...). */
  kills: Map<string, number>;
  /** Every step is logged here as it happens. */
  log: (line: string) => void;
};

/** What a fault reports: a description, and measurements of its own for the timeline. */
export type FaultOutcome = string | { detail: string; notes: Record<string, number | string> };

/** A fault: does its damage, returns a description; the run then waits for the fleet to recover. */
export type Fault = { name: string; inject: (ctx: ChaosContext, round: number) => Promise<FaultOutcome> };

/**
 * Variants of one fault, one per cycle of the run in turn: the short form (one cycle) runs the
 * first, the long form all of them many times.
 */
export type FaultVariants = { variants: readonly Fault[] };

/** The ready pods, by name, the `round`-th of them (so faults rotate their victims). */
export function pickPod(ctx: ChaosContext, round: number): FleetPod {
  const ready = readyPods(ctx);
  const pod = ready[round % Math.max(ready.length, 1)];
  if (!pod) throw new Error(`no ready pod in ${ctx.namespace}/${ctx.fleet} to inject a fault into`);
  return pod;
}

/** The ready pod whose container was killed least often (the kubelet restarts it soonest). */
export function pickPodToKill(ctx: ChaosContext, round: number): FleetPod {
  const ready = readyPods(ctx);
  const fewest = Math.min(...ready.map((p) => ctx.kills.get(p.uid) ?? 0));
  const candidates = ready.filter((p) => (ctx.kills.get(p.uid) ?? 0) === fewest);
  const pod = candidates[round % Math.max(candidates.length, 1)];
  if (!pod) throw new Error(`no ready pod in ${ctx.namespace}/${ctx.fleet} to kill`);
  return pod;
}

/** The generator's command line contains this (node dist/generator/main.js). */
const GENERATOR_PROCESS = "main.js";

/** Host pid of the generator process of pod instance `pod` (this node runs every pod). */
export function generatorPid(pod: FleetPod): number {
  const pid = findPodProcess(pod.uid, GENERATOR_PROCESS);
  if (pid === undefined) throw new Error(`no generator process of ${pod.name} (${pod.uid}) on this host`);
  return pid;
}

/** Waits for the generator of `pod` to run as a process other than `oldPid` (the kubelet restarted it). */
export async function waitRestarted(pod: FleetPod, oldPid: number, timeoutMs = 120_000): Promise<number> {
  return waitFor(
    `${pod.name}'s generator restarted`,
    async () => {
      const pid = findPodProcess(pod.uid, GENERATOR_PROCESS);
      return pid !== undefined && pid !== oldPid ? pid : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/**
 * After a kill -9: waits for the kubelet's new container (returns its generator's pid), for the
 * pod to go unready (missed when the restart beats the observer's poll) and to be ready again.
 */
export async function waitServingAgain(ctx: ChaosContext, pod: FleetPod, oldPid: number): Promise<number> {
  const pid = await waitRestarted(pod, oldPid);
  await waitFor(
    `${pod.name} unready after its restart`,
    async () => ctx.observer.pods.some((p) => p.uid === pod.uid && !p.ready),
    { timeoutMs: 10_000, intervalMs: 100 },
  ).catch(() => undefined);
  await waitPodReady(ctx, pod.uid, 180_000);
  return pid;
}

/** SIGKILL, as `kill -9` would, counted for pickPodToKill. */
export function killProcess(ctx: ChaosContext, pod: FleetPod, pid: number): void {
  process.kill(pid, "SIGKILL");
  ctx.kills.set(pod.uid, (ctx.kills.get(pod.uid) ?? 0) + 1);
}

function readyPods(ctx: ChaosContext): FleetPod[] {
  return ctx.observer.pods
    .filter((p) => p.ready && !p.terminating)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The fleet's lease ConfigMaps, parsed, by ConfigMap name. */
export async function fleetLeases(ctx: ChaosContext): Promise<Map<string, LeaseData>> {
  const list = await kJson<{ items: V1ConfigMap[] }>([
    "get",
    "configmap",
    "-n",
    ctx.namespace,
    "-l",
    `${LeaseLabel.fleet}=${ctx.fleet},${LeaseLabel.component}=${LEASE_COMPONENT}`,
  ]);
  return new Map(list.items.map((cm) => [cm.metadata?.name ?? "", parseLeaseData(cm.data)]));
}

/** The lease naming pod instance `podUid`, if any. */
export async function leaseOfPod(ctx: ChaosContext, podUid: string): Promise<LeaseData | undefined> {
  return [...(await fleetLeases(ctx)).values()].find((l) => l.holderUid === podUid);
}

/** Waits until the pod instance `podUid` is ready again (as the observer sees it). */
export async function waitPodReady(ctx: ChaosContext, podUid: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `pod ${podUid} ready again`,
    async () => ctx.observer.pods.some((p) => p.uid === podUid && p.ready && !p.terminating),
    { timeoutMs, intervalMs: 250 },
  );
}

/** Per key, how much `after` grew over `before` (keys that did not grow are left out). */
export function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [key, v] of Object.entries(after))
    if (v - (before[key] ?? 0) > 0) d[key] = v - (before[key] ?? 0);
  return d;
}

/** Refusals with one of `codes` (by pod IP) since `before` was taken from the pullers' totals. */
export function refusalsSince(ctx: ChaosContext, before: Record<string, number>, codes: string[]): number {
  const d = delta(ctx.pullers.totals.refusals, before);
  return codes.reduce((sum, code) => sum + (d[code] ?? 0), 0);
}

/** Pod IP batches of pod instance `podUid` received in [fromMs, toMs). */
function batchesOf(ctx: ChaosContext, podUid: string, fromMs: number, toMs: number) {
  return ctx.collector.batches.filter(
    (b) => b.podUid === podUid && b.receivedAtMs >= fromMs && b.receivedAtMs < toMs,
  );
}

/**
 * How far ahead of the receive time (ms, negative: behind) the newest tick of each batch of
 * `podUid` received in [fromMs, toMs) was: the pod's clock against the run's, plus the time
 * the answer took. Returns the median and the largest, or undefined without batches.
 */
export function tickLead(
  ctx: ChaosContext,
  podUid: string,
  fromMs: number,
  toMs: number,
): { medianMs: number; maxMs: number } | undefined {
  const leads = batchesOf(ctx, podUid, fromMs, toMs)
    .map((b) => tickStartMs(ctx.math, b.maxTick) - b.receivedAtMs)
    .sort((a, b) => a - b);
  if (leads.length === 0) return undefined;
  return { medianMs: leads[Math.floor(leads.length / 2)]!, maxMs: leads.at(-1)! };
}
