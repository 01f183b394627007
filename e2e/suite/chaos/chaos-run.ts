import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { parseFleetSpec } from "../../../contract/fleet-spec.ts";
import { layoutMath, tickStartMs } from "../../../contract/id-layout-math.ts";
import {
  LEASE_COMPONENT,
  LeaseLabel,
  ledgerNameForIdSpace,
  parseLeaseData,
  parseLedgerData,
} from "../../../contract/lease-record.ts";
import { IDFLEET_TMP } from "../../../cluster/paths.ts";
import { k, kJson } from "../../../cluster/client/cluster-access.ts";
import { OPERATOR_DEPLOYMENT, OPERATOR_NAMESPACE } from "../../../cluster/client/operator-install.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import type { FleetObserver, FleetPod } from "./fleet-observer.ts";
import {
  FAKETIME_LIB_DIR,
  findPodProcess,
  freezeProcess,
  processMaps,
  restartApiServer,
} from "./host-faults.ts";
import type { IdCollector } from "./id-audit.ts";
import type { IdPullers } from "./id-pullers.ts";

/** One fault of the run, as printed in the timeline. */
export type FaultRecord = {
  fault: string;
  detail: string;
  startS: number;
  faultS: number;
  recoveredS: number;
  ids: number;
  refusals: Record<string, number>;
  failures: Record<string, number>;
};

/** What a chaos run needs from the test: where the fleet is and the running clients. */
export type ChaosContext = {
  namespace: string;
  fleet: string;
  replicas: number;
  leaseDurationSeconds: number;
  observer: FleetObserver;
  pullers: IdPullers;
  collector: IdCollector;
  faketimeDir: string;
  /** Every step is logged here as it happens. */
  log: (line: string) => void;
};

const GENERATOR_PROCESS = "main.js";
const CLOCK_SKEW = "-30s";

/** Host directory holding one libfaketime offset file per pod name (mounted into the pods). */
export function faketimeDirFor(namespace: string): string {
  const dir = join(IDFLEET_TMP, "chaos", namespace, "faketime");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return dir;
}

/** Writes a pod's libfaketime offset ("+0", "-30s"); the pod re-reads it within a second. */
export function setClockOffset(dir: string, podName: string, offset: string): void {
  const file = join(dir, podName);
  writeFileSync(file, `${offset}\n`);
  chmodSync(file, 0o644);
}

/**
 * Adds libfaketime to the fleet's generator container (a server-side apply under our own field
 * manager, beside the operator's fields; the entries it adds to env, volumeMounts and volumes are
 * ours, and the operator leaves them alone instead of re-applying its StatefulSet): LD_PRELOAD from the host's Debian package, the wall
 * clock offset read from a per-pod file every second, the monotonic clock left alone (the
 * lease fence runs on it; only the wall clock is skewed).
 */
export function faketimeStatefulSetPatch(namespace: string, fleet: string): object {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: fleet, namespace },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "generator",
              env: [
                { name: "CHAOS_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "LD_PRELOAD", value: "/chaos-faketime-lib/libfaketime.so.1" },
                { name: "FAKETIME_TIMESTAMP_FILE", value: "/chaos-faketime/$(CHAOS_POD_NAME)" },
                { name: "FAKETIME_CACHE_DURATION", value: "1" },
                { name: "FAKETIME_DONT_FAKE_MONOTONIC", value: "1" },
              ],
              volumeMounts: [
                { name: "chaos-faketime-lib", mountPath: "/chaos-faketime-lib", readOnly: true },
                { name: "chaos-faketime", mountPath: "/chaos-faketime", readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "chaos-faketime-lib", hostPath: { path: FAKETIME_LIB_DIR, type: "Directory" } },
            { name: "chaos-faketime", hostPath: { path: faketimeDirFor(namespace), type: "Directory" } },
          ],
        },
      },
    },
  };
}

/** Waits until the fleet has `replicas` ready pods (as the observer last saw them). */
export async function waitFleetReady(ctx: ChaosContext, timeoutMs = 240_000): Promise<void> {
  await waitFor(
    `${ctx.replicas} ready pods of ${ctx.namespace}/${ctx.fleet}`,
    async () =>
      ctx.observer.pods.filter((p) => p.ready && !p.terminating).length === ctx.replicas &&
      ctx.observer.pods.length === ctx.replicas,
    { timeoutMs, intervalMs: 500 },
  );
}

function snapshot(ctx: ChaosContext) {
  const t = ctx.pullers.totals;
  return { ids: ctx.collector.size, refusals: { ...t.refusals }, failures: { ...t.failures } };
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [key, v] of Object.entries(after))
    if (v - (before[key] ?? 0) > 0) d[key] = v - (before[key] ?? 0);
  return d;
}

/** Assignment of each of the fleet's lease ConfigMaps, by name. */
async function leaseAssignments(ctx: ChaosContext): Promise<Map<string, number>> {
  const list = await kJson<{ items: V1ConfigMap[] }>([
    "get",
    "configmap",
    "-n",
    ctx.namespace,
    "-l",
    `${LeaseLabel.fleet}=${ctx.fleet},${LeaseLabel.component}=${LEASE_COMPONENT}`,
  ]);
  return new Map(list.items.map((cm) => [cm.metadata?.name ?? "", parseLeaseData(cm.data).assignment]));
}

function pickPod(ctx: ChaosContext, round: number): FleetPod {
  const ready = ctx.observer.pods
    .filter((p) => p.ready && !p.terminating)
    .sort((a, b) => a.name.localeCompare(b.name));
  const pod = ready[round % Math.max(ready.length, 1)];
  if (!pod) throw new Error(`no ready pod in ${ctx.namespace}/${ctx.fleet} to inject a fault into`);
  return pod;
}

/** A fault: does its damage, returns a description; the run then waits for the fleet to recover. */
type Fault = { name: string; inject: (ctx: ChaosContext, round: number) => Promise<string> };

const deletePod = (force: boolean): Fault => ({
  name: force ? "force-delete pod" : "delete pod",
  inject: async (ctx, round) => {
    const pod = pickPod(ctx, round);
    await k([
      "delete",
      "pod",
      "-n",
      ctx.namespace,
      pod.name,
      "--wait=false",
      ...(force ? ["--force", "--grace-period=0"] : []),
    ]);
    return `${pod.name} (${pod.uid.slice(0, 8)})`;
  },
});

const FAULTS: Fault[] = [
  deletePod(false),
  deletePod(true),
  {
    name: "freeze generator (SIGSTOP past its lease)",
    inject: async (ctx, round) => {
      const pod = pickPod(ctx, round);
      const pid = findPodProcess(pod.uid, GENERATOR_PROCESS);
      if (pid === undefined) throw new Error(`no generator process of ${pod.name} (${pod.uid}) on this host`);
      const ms = (ctx.leaseDurationSeconds + 5) * 1000;
      await freezeProcess(pid, ms);
      return `${pod.name} pid ${pid} stopped ${ms / 1000}s, then SIGCONT`;
    },
  },
  {
    name: `clock skew (libfaketime ${CLOCK_SKEW})`,
    inject: async (ctx, round) => {
      const pod = pickPod(ctx, round);
      const pid = findPodProcess(pod.uid, GENERATOR_PROCESS);
      if (pid === undefined || !processMaps(pid, "libfaketime"))
        throw new Error(`the generator of ${pod.name} does not have libfaketime loaded`);
      const before = snapshot(ctx).refusals;
      setClockOffset(ctx.faketimeDir, pod.name, CLOCK_SKEW);
      await sleep(20_000);
      const clockRefusals = Object.entries(delta(ctx.pullers.totals.refusals, before))
        .filter(([code]) => code.startsWith("CLOCK_"))
        .reduce((sum, [, n]) => sum + n, 0);
      setClockOffset(ctx.faketimeDir, pod.name, "+0");
      if (clockRefusals === 0)
        throw new Error(`${pod.name} answered no CLOCK_* refusal in 20 s with its clock set back 30 s`);
      return `${pod.name} wall clock ${CLOCK_SKEW} for 20 s (${clockRefusals} CLOCK_* refusals), then back`;
    },
  },
  {
    name: "restart operator (+ force-delete a pod meanwhile)",
    inject: async (ctx, round) => {
      await k([
        "delete",
        "pod",
        "-n",
        OPERATOR_NAMESPACE,
        "-l",
        `app.kubernetes.io/name=${OPERATOR_DEPLOYMENT}`,
        "--wait=false",
      ]);
      const forceDeleted = await deletePod(true).inject(ctx, round);
      await k(
        ["rollout", "status", "-n", OPERATOR_NAMESPACE, `deploy/${OPERATOR_DEPLOYMENT}`, "--timeout=180s"],
        {
          timeoutMs: 190_000,
        },
      );
      return `operator pods deleted; ${forceDeleted} force-deleted`;
    },
  },
  {
    name: "restart kube-apiserver",
    inject: async () => {
      const pid = await restartApiServer();
      await waitFor(
        "kube-apiserver /readyz",
        async () => (await k(["get", "--raw=/readyz"], { timeoutMs: 5_000 })).includes("ok"),
        { timeoutMs: 180_000, intervalMs: 1_000 },
      );
      return `new pid ${pid}`;
    },
  },
  {
    name: "scale to 0 and back",
    inject: async (ctx) => {
      const target = `idgeneratorfleet/${ctx.fleet}`;
      await k(["scale", "-n", ctx.namespace, target, "--replicas=0"]);
      await waitFor("no fleet pods", async () => ctx.observer.pods.length === 0, {
        timeoutMs: 180_000,
        intervalMs: 500,
      });
      await k(["scale", "-n", ctx.namespace, target, `--replicas=${ctx.replicas}`]);
      return `0 pods, then ${ctx.replicas}`;
    },
  },
  {
    name: "delete the worker-id ledger by hand",
    inject: async (ctx) => {
      // The fleet's id space is its own name (the chaos fleet sets no spec.idSpace).
      const ledger = ledgerNameForIdSpace(ctx.fleet);
      const before = await leaseAssignments(ctx);
      await k(["delete", "configmap", "-n", ctx.namespace, ledger]);
      const baseFloor = await waitFor(
        `${ledger} recreated`,
        async () =>
          parseLedgerData((await kJson<V1ConfigMap>(["get", "configmap", "-n", ctx.namespace, ledger])).data)
            .baseFloor,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // None of the old leases is backed by the new ledger: each pod gets a new assignment.
      await waitFor(
        "every lease reassigned",
        async () => {
          const now = await leaseAssignments(ctx);
          return [...before].every(([lease, assignment]) => (now.get(lease) ?? assignment) !== assignment);
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // No pod can serve before its clock passes the base floor: count that into the recovery.
      const fleet = await kJson<{ spec: unknown }>([
        "get",
        "idgeneratorfleet",
        "-n",
        ctx.namespace,
        ctx.fleet,
      ]);
      const math = layoutMath(parseFleetSpec(fleet.spec).layout);
      await sleep(Math.max(0, tickStartMs(math, baseFloor + 1) - Date.now()));
      return `${ledger} deleted; recreated with baseFloor tick ${baseFloor}; ${before.size} leases reassigned`;
    },
  },
];

/**
 * Injects the faults one after another while the clients pull IDs, waiting for the fleet to be
 * whole again after each; repeats the cycle until `durationMs` has passed (at least one cycle).
 */
export async function runFaults(ctx: ChaosContext, durationMs: number): Promise<FaultRecord[]> {
  const t0 = Date.now();
  const s = () => (Date.now() - t0) / 1000;
  const timeline: FaultRecord[] = [];
  for (let round = 0; round === 0 || Date.now() - t0 < durationMs; round++) {
    for (const [index, fault] of FAULTS.entries()) {
      const before = snapshot(ctx);
      const startS = s();
      ctx.log(`[${startS.toFixed(0)}s] ${fault.name} ...`);
      // Rotate the victim pod across faults and rounds.
      const detail = await fault.inject(ctx, round * FAULTS.length + index);
      const faultS = s();
      await sleep(2_000); // let the observer see the damage before waiting for recovery
      await waitFleetReady(ctx);
      const after = snapshot(ctx);
      const record: FaultRecord = {
        fault: fault.name,
        detail,
        startS,
        faultS: faultS - startS,
        recoveredS: s() - faultS,
        ids: after.ids - before.ids,
        refusals: delta(after.refusals, before.refusals),
        failures: delta(after.failures, before.failures),
      };
      timeline.push(record);
      ctx.log(
        `[${s().toFixed(0)}s] ${fault.name}: ${detail}; recovered in ${record.recoveredS.toFixed(1)}s; ` +
          `${record.ids.toLocaleString("en-US")} IDs; refused ${JSON.stringify(record.refusals)}; ` +
          `failed ${JSON.stringify(record.failures)}`,
      );
      await sleep(3_000); // some steady issuing between faults
    }
  }
  return timeline;
}
