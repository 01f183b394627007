import { leaseNameForPod } from "../../../contract/lease-record.ts";
import { k } from "../../../cluster/client/cluster-access.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import {
  generatorPid,
  killProcess,
  leaseOfPod,
  pickPodToKill,
  type Fault,
  waitServingAgain,
} from "./chaos-fault.ts";

/**
 * A pod's lease ConfigMap deleted by hand (`kubectl delete cm`, or garbage collection after
 * someone removed a finalizer), and its container killed about then, so the process that comes
 * back knows nothing of what the old one reserved (issue 16). The operator re-issues the pod's
 * claim with a floor past the reservation the ledger recorded and past its own clock; the
 * audit shows no ID twice.
 */
export const leaseLoss: Fault = {
  name: "delete a pod's lease by hand, kill -9 its container",
  inject: async (ctx, round) => {
    const pod = pickPodToKill(ctx, round);
    const before = await leaseOfPod(ctx, pod.uid);
    if (!before) throw new Error(`${pod.name} holds no lease to delete`);
    const pid = generatorPid(pod);
    await k(["delete", "configmap", "-n", ctx.namespace, leaseNameForPod(pod.name)]);
    killProcess(ctx, pod, pid);
    const after = await waitFor(
      `${pod.name}'s lease re-issued`,
      async () => {
        const lease = await leaseOfPod(ctx, pod.uid);
        return lease && lease.state === "Active" ? lease : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await waitServingAgain(ctx, pod, pid);
    const raisedBy = after.handoverAfter - before.reservedUntil;
    return {
      detail:
        `${pod.name}'s lease (worker id ${before.workerId}, reserved until tick ${before.reservedUntil}) deleted and its ` +
        `container killed; re-issued on worker id ${after.workerId} issuing only after tick ${after.handoverAfter} ` +
        `(${raisedBy >= 0 ? `${raisedBy} ticks past` : `${-raisedBy} ticks below`} the lost reservation)`,
      notes: { workerId: after.workerId, floorPastLostReservationTicks: raisedBy },
    };
  },
};
