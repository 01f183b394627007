import { setTimeout as sleep } from "node:timers/promises";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { parseFleetSpec } from "../../../contract/fleet-spec.ts";
import { layoutMath, tickStartMs } from "../../../contract/id-layout-math.ts";
import { ledgerNameForIdSpace, parseLedgerData } from "../../../contract/lease-record.ts";
import { k, kJson } from "../../../cluster/client/cluster-access.ts";
import { OPERATOR_DEPLOYMENT, OPERATOR_NAMESPACE } from "../../../cluster/client/operator-install.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import { apiPartition, apiPartitionPodReplaced } from "./api-partition-faults.ts";
import {
  delta,
  fleetLeases,
  generatorPid,
  pickPod,
  type ChaosContext,
  type Fault,
  type FaultOutcome,
  type FaultVariants,
} from "./chaos-fault.ts";
import { clockAhead } from "./clock-ahead-fault.ts";
import { clockBehindOnRestart } from "./clock-behind-restart-fault.ts";
import { clockRate } from "./clock-rate-faults.ts";
import { etcdRestore } from "./etcd-restore-fault.ts";
import { setClockOffset } from "./faketime-setup.ts";
import { freezeProcess, processMaps, restartApiServer } from "./host-faults.ts";
import type { PullTotals } from "./id-pullers.ts";
import { overloadThenKill } from "./overload-restart-fault.ts";
import { leaseLoss } from "./lease-loss-fault.ts";

export type { ChaosContext } from "./chaos-fault.ts";

/** What one path of the clients (by pod IP, through the Service) saw during one fault. */
export type PathRecord = {
  requests: number;
  /** Share of requests answered with IDs. */
  availability: number;
  refusals: Record<string, number>;
  failures: Record<string, number>;
};

/** One fault of the run, as printed in the timeline. */
export type FaultRecord = {
  fault: string;
  detail: string;
  startS: number;
  /** How long the injection took (it may include the fault's own waiting). */
  faultS: number;
  /** From the end of the injection until every pod was ready again. */
  recoveredS: number;
  ids: number;
  /** By pod IP, as podIp.refusals and podIp.failures (kept for readers of older reports). */
  refusals: Record<string, number>;
  failures: Record<string, number>;
  podIp: PathRecord;
  service: PathRecord;
  /** The fault's own measurements (drift, exhaustions, outage...). */
  notes: Record<string, number | string>;
};

const CLOCK_SKEW = "-30s";

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
  const copy = (t: PullTotals): PullTotals => ({
    ...t,
    refusals: { ...t.refusals },
    failures: { ...t.failures },
  });
  return {
    ids: ctx.collector.size,
    podIp: copy(ctx.pullers.totals),
    service: copy(ctx.pullers.serviceTotals),
  };
}

function pathRecord(after: PullTotals, before: PullTotals): PathRecord {
  const requests = after.requests - before.requests;
  const ok = after.okBatches - before.okBatches;
  return {
    requests,
    availability: requests === 0 ? 1 : ok / requests,
    refusals: delta(after.refusals, before.refusals),
    failures: delta(after.failures, before.failures),
  };
}

/** Assignment of each of the fleet's lease ConfigMaps, by name. */
async function leaseAssignments(ctx: ChaosContext): Promise<Map<string, number>> {
  return new Map([...(await fleetLeases(ctx))].map(([name, lease]) => [name, lease.assignment]));
}

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

const FAULTS: (Fault | FaultVariants)[] = [
  deletePod(false),
  deletePod(true),
  {
    name: "freeze generator (SIGSTOP past its lease)",
    inject: async (ctx, round) => {
      const pod = pickPod(ctx, round);
      const pid = generatorPid(pod);
      const ms = (ctx.leaseDurationSeconds + 5) * 1000;
      await freezeProcess(pid, ms);
      return `${pod.name} pid ${pid} stopped ${ms / 1000}s, then SIGCONT`;
    },
  },
  {
    name: `clock skew (libfaketime ${CLOCK_SKEW})`,
    inject: async (ctx, round) => {
      const pod = pickPod(ctx, round);
      if (!processMaps(generatorPid(pod), "libfaketime"))
        throw new Error(`the generator of ${pod.name} does not have libfaketime loaded`);
      const before = { ...ctx.pullers.totals.refusals };
      setClockOffset(ctx.faketimeDir, pod.uid, CLOCK_SKEW);
      await sleep(20_000);
      const clockRefusals = Object.entries(delta(ctx.pullers.totals.refusals, before))
        .filter(([code]) => code.startsWith("CLOCK_"))
        .reduce((sum, [, n]) => sum + n, 0);
      setClockOffset(ctx.faketimeDir, pod.uid, "+0");
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
      // The ledger lives in the operator's namespace (one per id space, cluster-wide).
      await k(["delete", "configmap", "-n", OPERATOR_NAMESPACE, ledger]);
      const baseFloor = await waitFor(
        `${ledger} recreated`,
        async () =>
          parseLedgerData(
            (await kJson<V1ConfigMap>(["get", "configmap", "-n", OPERATOR_NAMESPACE, ledger])).data,
          ).baseFloor,
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
  leaseLoss,
  { variants: [apiPartition, apiPartitionPodReplaced] },
  { variants: [clockRate({ monotonicToo: true }), clockRate({ monotonicToo: false })] },
  { variants: [clockBehindOnRestart("past"), clockBehindOnRestart("inside")] },
  clockAhead,
  overloadThenKill,
  { variants: [etcdRestore({ replacePodMeanwhile: false }), etcdRestore({ replacePodMeanwhile: true })] },
];

/**
 * Injects the faults one after another while the clients pull IDs, waiting for the fleet to be
 * whole again after each; repeats the cycle until `durationMs` has passed (at least one cycle).
 */
export async function runFaults(
  ctx: ChaosContext,
  durationMs: number,
  only?: readonly string[],
): Promise<FaultRecord[]> {
  const every = FAULTS.flatMap((f) => ("variants" in f ? f.variants : [f]));
  // With a selection, every variant it names runs in each cycle.
  const selected = only?.length ? every.filter((f) => only.some((part) => f.name.includes(part))) : undefined;
  if (selected?.length === 0)
    throw new Error(`no fault matches ${only?.join(", ")}; faults: ${every.map((f) => f.name).join("; ")}`);
  const cycle = (round: number): Fault[] =>
    selected ?? FAULTS.map((f) => ("variants" in f ? f.variants[round % f.variants.length]! : f));
  const t0 = Date.now();
  const s = () => (Date.now() - t0) / 1000;
  const timeline: FaultRecord[] = [];
  for (let round = 0; round === 0 || Date.now() - t0 < durationMs; round++) {
    const faults = cycle(round);
    for (const [index, fault] of faults.entries()) {
      const before = snapshot(ctx);
      const startS = s();
      ctx.log(`[${startS.toFixed(0)}s] ${fault.name} ...`);
      // Rotate the victim pod across faults and rounds.
      const outcome: FaultOutcome = await fault.inject(ctx, round * faults.length + index);
      const { detail, notes } = typeof outcome === "string" ? { detail: outcome, notes: {} } : outcome;
      const faultS = s();
      await sleep(2_000); // let the observer see the damage before waiting for recovery
      await waitFleetReady(ctx);
      const after = snapshot(ctx);
      const podIp = pathRecord(after.podIp, before.podIp);
      const record: FaultRecord = {
        fault: fault.name,
        detail,
        startS,
        faultS: faultS - startS,
        recoveredS: s() - faultS,
        ids: after.ids - before.ids,
        refusals: podIp.refusals,
        failures: podIp.failures,
        podIp,
        service: pathRecord(after.service, before.service),
        notes,
      };
      timeline.push(record);
      ctx.log(`[${s().toFixed(0)}s] ${describeRecord(record)}`);
      await sleep(3_000); // some steady issuing between faults
    }
  }
  return timeline;
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** One timeline row in words. */
export function describeRecord(r: FaultRecord): string {
  const notes = Object.keys(r.notes).length > 0 ? `; ${JSON.stringify(r.notes)}` : "";
  return (
    `${r.fault}: ${r.detail}; injected in ${r.faultS.toFixed(1)}s, recovered in ${r.recoveredS.toFixed(1)}s; ` +
    `${r.ids.toLocaleString("en-US")} IDs; by pod IP ${percent(r.podIp.availability)} of ${r.podIp.requests} answered, ` +
    `refused ${JSON.stringify(r.podIp.refusals)}, failed ${JSON.stringify(r.podIp.failures)}; ` +
    `through the Service ${percent(r.service.availability)} of ${r.service.requests}, ` +
    `refused ${JSON.stringify(r.service.refusals)}, failed ${JSON.stringify(r.service.failures)}${notes}`
  );
}
