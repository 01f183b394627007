import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { IDFLEET_TMP } from "../../../cluster/paths.ts";
import { k } from "../../../cluster/client/cluster-access.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";
import { fleetLeases, pickPod, type Fault } from "./chaos-fault.ts";
import { restoreEtcdSnapshot, saveEtcdSnapshot } from "./etcd-restore.ts";

/** The fleet's renew interval (the default). */
const RENEW_INTERVAL_MS = 5_000;

/** Beyond the reserve-ahead window, so every holder's renewals have reserved past the snapshot. */
const RUN_PAST_RESERVATION_MS = 5_000;

/**
 * The registry rolled back: a snapshot of etcd, a while of normal running (longer than the
 * reserve-ahead window, so every holder has reserved past what the snapshot says), then
 * kube-apiserver and etcd stopped, the snapshot restored and both started again. The ledger
 * and every lease go back in time while the generators run ahead. Variant: a pod is replaced
 * between snapshot and restore, so the restore also forgets a hand-over (the new pod instance's
 * lease and claim vanish, the old one's come back). The protocol's rollback detection (holders
 * fence when their lease goes backwards; the operator waits after a ledger rollback) is what
 * keeps this fault inside the guarantee.
 */
export function etcdRestore({ replacePodMeanwhile }: { replacePodMeanwhile: boolean }): Fault {
  return {
    name: `etcd restored from a snapshot${replacePodMeanwhile ? " taken before a pod was replaced" : ""} (ledger and leases go back in time)`,
    inject: async (ctx, round) => {
      const dir = join(IDFLEET_TMP, "chaos", ctx.namespace);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, "etcd-snapshot.db");
      await saveEtcdSnapshot(file);
      const snapshotAt = Date.now();
      const atSnapshot = await fleetLeases(ctx);
      let replaced = "";
      if (replacePodMeanwhile) {
        const pod = pickPod(ctx, round);
        await k(["delete", "pod", "-n", ctx.namespace, pod.name, "--wait=false"]);
        await waitFor(
          `${pod.name} replaced and ready`,
          async () => ctx.observer.pods.some((p) => p.name === pod.name && p.uid !== pod.uid && p.ready),
          { timeoutMs: 120_000, intervalMs: 250 },
        );
        replaced = `; ${pod.name} replaced meanwhile`;
      }
      await sleep(Math.max(0, snapshotAt + ctx.reserveAheadMs + RUN_PAST_RESERVATION_MS - Date.now()));
      const beforeRestore = await fleetLeases(ctx);
      const stoppedAt = Date.now();
      try {
        await restoreEtcdSnapshot(file);
      } finally {
        rmSync(file, { force: true });
      }
      const outageS = (Date.now() - stoppedAt) / 1000;
      const afterRestore = await fleetLeases(ctx);
      // Leases whose renewal counter went back (or that vanished): what the holders find next.
      const wentBack = [...beforeRestore].filter(
        ([name, lease]) => (afterRestore.get(name)?.renewCount ?? -1) < lease.renewCount,
      ).length;
      // Holders find out on their next renewal and go unready (RolledBack) for a while; wait until
      // each has renewed once, so the recovery the run measures next includes that.
      await sleep(RENEW_INTERVAL_MS + 2_000);
      const seconds = ((stoppedAt - snapshotAt) / 1000).toFixed(0);
      return {
        detail:
          `snapshot of ${atSnapshot.size} leases, ${seconds}s later restored (--bump-revision --mark-compacted)${replaced}; ` +
          `API down ${outageS.toFixed(1)}s; ${wentBack} leases went back`,
        notes: { outageS, leasesWentBack: wentBack },
      };
    },
  };
}
