import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { IDFLEET_TMP } from "../../../cluster/paths.ts";
import { fleetLeases, type Fault } from "./chaos-fault.ts";
import { restoreEtcdSnapshot, saveEtcdSnapshot } from "./etcd-restore.ts";

/** Beyond the reserve-ahead window, so every holder's renewals have reserved past the snapshot. */
const RUN_PAST_RESERVATION_MS = 5_000;

/**
 * The registry rolled back: a snapshot of etcd, a while of normal running (longer than the
 * reserve-ahead window, so every holder has reserved past what the snapshot says), then
 * kube-apiserver and etcd stopped, the snapshot restored and both started again. The ledger
 * and every lease go back in time while the generators run ahead. The protocol's rollback
 * detection (holders fence when their lease goes backwards; the operator waits after a ledger
 * rollback) is what keeps this fault inside the guarantee.
 */
export const etcdRestore: Fault = {
  name: "etcd restored from a snapshot (ledger and leases go back in time)",
  inject: async (ctx) => {
    const dir = join(IDFLEET_TMP, "chaos", ctx.namespace);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "etcd-snapshot.db");
    await saveEtcdSnapshot(file);
    const atSnapshot = await fleetLeases(ctx);
    await sleep(ctx.reserveAheadMs + RUN_PAST_RESERVATION_MS);
    const beforeRestore = await fleetLeases(ctx);
    const stoppedAt = Date.now();
    await restoreEtcdSnapshot(file);
    const outageS = (Date.now() - stoppedAt) / 1000;
    const afterRestore = await fleetLeases(ctx);
    // Leases whose renewal counter went back: what the holders find on their next renewal.
    const wentBack = [...beforeRestore].filter(
      ([name, lease]) => (afterRestore.get(name)?.renewCount ?? Infinity) < lease.renewCount,
    ).length;
    return {
      detail:
        `snapshot of ${atSnapshot.size} leases, ${(ctx.reserveAheadMs + RUN_PAST_RESERVATION_MS) / 1000}s later restored ` +
        `(--bump-revision --mark-compacted); API down ${outageS.toFixed(1)}s; ${wentBack} leases went back`,
      notes: { outageS, leasesWentBack: wentBack },
    };
  },
};
