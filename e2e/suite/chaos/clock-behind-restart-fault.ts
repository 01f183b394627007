import {
  generatorPid,
  killProcess,
  leaseOfPod,
  pickPodToKill,
  refusalsSince,
  type Fault,
  waitServingAgain,
} from "./chaos-fault.ts";
import { setClockOffset } from "./faketime-setup.ts";

/**
 * kill -9 a generator and let the kubelet restart it at once with its wall clock set back (by
 * half the reserve-ahead window, or by the window + 3 s): the same pod instance re-leases its
 * own worker id, and must not issue until its clock passes what its previous process reserved
 * (the lease's reservedUntil), however far behind it comes back.
 */
export function clockBehindOnRestart(where: "inside" | "past"): Fault {
  return {
    name: `kill -9, restart with the clock set back ${where === "inside" ? "less" : "more"} than the reserve-ahead window`,
    inject: async (ctx, round) => {
      const behindS = where === "inside" ? ctx.reserveAheadMs / 2000 : ctx.reserveAheadMs / 1000 + 3;
      const pod = pickPodToKill(ctx, round);
      const lease = await leaseOfPod(ctx, pod.uid);
      if (!lease) throw new Error(`no lease names ${pod.name} (${pod.uid})`);
      const before = { ...ctx.pullers.totals.refusals };
      const pid = generatorPid(pod);
      killProcess(ctx, pod, pid);
      // Before the kubelet starts the container again (that takes well over this).
      setClockOffset(ctx.faketimeDir, pod.uid, `-${behindS}`);
      const killedAt = Date.now();
      try {
        await waitServingAgain(ctx, pod, pid);
      } finally {
        setClockOffset(ctx.faketimeDir, pod.uid, "+0");
      }
      const servedAgainS = (Date.now() - killedAt) / 1000;
      const after = await leaseOfPod(ctx, pod.uid);
      if (after?.assignment !== lease.assignment || after.workerId !== lease.workerId)
        throw new Error(
          `${pod.name} came back on assignment ${after?.assignment} / worker ${after?.workerId}, not its own ${lease.assignment} / ${lease.workerId}`,
        );
      const behindFloor = refusalsSince(ctx, before, ["CLOCK_BEHIND_FLOOR"]);
      return {
        detail:
          `${pod.name} (worker ${lease.workerId}) killed, back with its clock -${behindS}s; ` +
          `re-leased its own assignment, served again after ${servedAgainS.toFixed(1)}s (${behindFloor} CLOCK_BEHIND_FLOOR by pod IP)`,
        notes: { behindS, servedAgainS, clockBehindFloor: behindFloor },
      };
    },
  };
}
