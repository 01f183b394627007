import { setTimeout as sleep } from "node:timers/promises";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { LedgerEntryState, ledgerNameForIdSpace, parseLedgerData } from "../../../contract/lease-record.ts";
import { k, kJson } from "../../../cluster/client/cluster-access.ts";
import { OPERATOR_NAMESPACE } from "../../../cluster/client/operator-install.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import {
  fleetLeases,
  generatorPid,
  leaseOfPod,
  pickPod,
  refusalsSince,
  waitPodReady,
  type ChaosContext,
  type Fault,
} from "./chaos-fault.ts";
import { cutOffFromApiServer } from "./pod-network.ts";

/**
 * A holder cut off from the API server (its pod's packets to it dropped inside the pod's network
 * namespace) for longer than its lease, while the clients keep pulling from it by pod IP: it must
 * fence itself (FENCED) on its own monotonic clock and serve again once it renews after the heal,
 * on the same assignment (its pod lives on, so the operator never takes its id).
 */
export const apiPartition: Fault = {
  name: "holder cut off from the API server past its lease (clients still reach it)",
  inject: async (ctx, round) => {
    const pod = pickPod(ctx, round);
    const lease = await leaseOfPod(ctx, pod.uid);
    const before = { ...ctx.pullers.totals.refusals };
    const cutMs = (ctx.leaseDurationSeconds + 3) * 1000;
    const heal = cutOffFromApiServer(generatorPid(pod));
    try {
      await sleep(cutMs);
    } finally {
      heal();
    }
    const fenced = refusalsSince(ctx, before, ["FENCED"]);
    if (fenced === 0)
      throw new Error(
        `${pod.name} answered no FENCED by pod IP while cut off from the API server ${cutMs / 1000}s`,
      );
    const healedAt = Date.now();
    await waitPodReady(ctx, pod.uid);
    const after = await leaseOfPod(ctx, pod.uid);
    if (after?.assignment !== lease?.assignment)
      throw new Error(
        `${pod.name} lost its assignment ${lease?.assignment} while cut off (now ${after?.assignment})`,
      );
    return {
      detail: `${pod.name} (worker ${lease?.workerId}) cut off ${cutMs / 1000}s: ${fenced} FENCED by pod IP; same assignment after the heal`,
      notes: { fenced, readyAfterHealS: (Date.now() - healedAt) / 1000 },
    };
  },
};

/**
 * The same cut, but the pod is deleted meanwhile (its SIGTERM release cannot reach the API
 * server) and its worker id goes to another pod instance: the operator may reuse the id only
 * after the lease duration + grace, and the new holder starts above the old one's reservation.
 * Replacements claim the lowest free id, so once the ledger frees the old id, the run deletes the
 * pod holding the highest id until a new instance holds it (at most a few times).
 */
export const apiPartitionPodReplaced: Fault = {
  name: "holder cut off from the API server, its pod deleted, its worker id reassigned",
  inject: async (ctx, round) => {
    const pod = pickPod(ctx, round);
    const lease = await leaseOfPod(ctx, pod.uid);
    if (!lease) throw new Error(`no lease names ${pod.name} (${pod.uid})`);
    const workerId = lease.workerId;
    const heal = cutOffFromApiServer(generatorPid(pod));
    const start = Date.now();
    let nudges = 0;
    let lastNudge = 0;
    try {
      await sleep(3_000); // cut off, still inside its lease
      await k(["delete", "pod", "-n", ctx.namespace, pod.name, "--wait=false"]);
      const holder = await waitFor(
        `worker id ${workerId} held by another pod instance`,
        async () => {
          const leases = [...(await fleetLeases(ctx)).values()];
          const taker = leases.find((l) => l.workerId === workerId && l.holderUid !== pod.uid);
          if (taker) return taker;
          if (nudges < 4 && Date.now() - lastNudge > 10_000 && (await idIsFree(ctx, workerId))) {
            const highest = leases
              .filter((l) =>
                ctx.observer.pods.some((p) => p.uid === l.holderUid && p.ready && !p.terminating),
              )
              .sort((a, b) => b.workerId - a.workerId)[0];
            if (highest && highest.workerId > workerId) {
              await k(["delete", "pod", "-n", ctx.namespace, highest.holderPod, "--wait=false"]);
              nudges++;
              lastNudge = Date.now();
            }
          }
          return undefined;
        },
        { timeoutMs: 240_000, intervalMs: 1_000 },
      );
      return {
        detail:
          `${pod.name} (worker ${workerId}) cut off 3s, then deleted; worker ${workerId} went to ` +
          `${holder.holderPod} (${holder.holderUid.slice(0, 8)}) after ${((Date.now() - start) / 1000).toFixed(1)}s` +
          (nudges > 0 ? ` (${nudges} more pod(s) replaced to free lower ids)` : ""),
        notes: { reassignedAfterS: (Date.now() - start) / 1000, nudges },
      };
    } finally {
      heal(); // nothing left to heal when the pod's network namespace went with it
    }
  },
};

async function idIsFree(ctx: ChaosContext, workerId: number): Promise<boolean> {
  // The fleet's id space is its own name (the chaos fleet sets no spec.idSpace); its ledger
  // lives in the operator's namespace.
  const ledger = await kJson<V1ConfigMap>([
    "get",
    "configmap",
    "-n",
    OPERATOR_NAMESPACE,
    ledgerNameForIdSpace(ctx.fleet),
  ]);
  const entry = parseLedgerData(ledger.data).entries.get(workerId);
  return !entry || entry.state === LedgerEntryState.Free;
}
