import { performance } from "node:perf_hooks";
import { tickAt, type LayoutMath } from "../../../contract/id-layout-math.ts";
import {
  parseLeaseData,
  parseLedgerData,
  serializeLeaseData,
  type LeaseData,
} from "../../../contract/lease-record.ts";
import type { ReservationMemory } from "./reservation-memory.ts";
import {
  classifyRenewalConflict,
  RenewalConflict,
  resourceVersionWentBack,
  rollbackHoldOffMs,
  type HeldAssignment,
} from "../../../contract/lease-rules.ts";
import { OK, type ConditionStatus, type ReadinessGate } from "../health/readiness-gate.ts";
import type { IssueFence } from "../issuing/issue-fence.ts";
import type { Issuer } from "../issuing/issuer.ts";
import {
  ConfigMapConflict,
  ConfigMapMissing,
  type ConfigMapStore,
  type StoredConfigMap,
} from "./configmap-store.ts";
import {
  decideAcquire,
  fenceAfterWrite,
  releaseWrite,
  renewalRetryTiming,
  renewalWrite,
  retryBackoffMs,
  type HolderReport,
  type HolderSettings,
  type RenewalRetryTiming,
} from "./lease-holding.ts";

/** Name of the readiness condition the keeper owns. */
export const LEASE_CONDITION = "lease";

/** Why a renewal did not confirm the lease (the `reason` label of `idgen_lease_renew_failures_total`). */
export const RenewFailureReason = {
  /** The write failed or timed out (API server down, network): the fence runs out on its own. */
  ApiError: "api_error",
  /** 409 from our own earlier write or another writer; retried on the new version. */
  Conflict: "conflict",
  /** The operator gave this pod another assignment. */
  Reassigned: "reassigned",
  /** The lease names another holder, was released, or is gone. */
  Lost: "lost",
  /** The lease went back in time (etcd restored from a snapshot). */
  RolledBack: "rolled_back",
} as const;
export type RenewFailureReason = (typeof RenewFailureReason)[keyof typeof RenewFailureReason];

const FAILURE_REASON_OF: Record<RenewalConflict, RenewFailureReason> = {
  [RenewalConflict.Retry]: RenewFailureReason.Conflict,
  [RenewalConflict.Reassigned]: RenewFailureReason.Reassigned,
  [RenewalConflict.Lost]: RenewFailureReason.Lost,
  [RenewalConflict.RolledBack]: RenewFailureReason.RolledBack,
};

/** Clocks the keeper reads: wall for ticks, monotonic for fencing. */
export interface KeeperClock {
  wallMs(): number;
  monoMs(): number;
}

const systemClock: KeeperClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

function timerSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Everything the keeper needs. */
export interface LeaseKeeperOptions {
  /** The pod's lease ConfigMap lives here (the fleet's namespace). */
  store: ConfigMapStore;
  /** The id space's ledger lives here (the operator's namespace); `store` when not given. */
  ledgerStore?: ConfigMapStore;
  issuer: Pick<Issuer, "setFence" | "setWorkerId" | "getWorkerId">;
  readiness: ReadinessGate;
  /** The holder's current report (telemetry + why it is not serving), written on every renewal. */
  report: () => HolderReport;
  math: LayoutMath;
  settings: HolderSettings;
  /** Name of the id space's ledger ConfigMap. */
  ledgerName: string;
  renewIntervalMs: number;
  /** How often to look again while waiting for a lease. */
  acquirePollMs?: number;
  clock?: KeeperClock;
  /** Waits `ms` on the monotonic clock or until `signal` aborts (injectable for simulation). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: (level: "info" | "warn", message: string, fields?: Record<string, unknown>) => void;
  /** Called once per renewal that did not confirm the lease (metrics). */
  onRenewFailure?: (reason: RenewFailureReason) => void;
  /** The pod's memory of reservations sent, across container restarts (none: this process only). */
  reservationMemory?: ReservationMemory;
}

/** What the keeper is doing, for logs, tests and metrics. */
export interface KeeperState {
  mode: "acquiring" | "holding" | "stopped";
  workerId: number | null;
  assignment: number | null;
  fence: IssueFence | null;
  renewals: number;
  renewalFailures: number;
}

/**
 * The generator's side of the worker-id lease (docs/lease-protocol.md, "Generator"):
 * acquires this pod's lease, sets the issuer's fence from what it durably wrote, renews on
 * schedule, handles conflicts by the shared rules and releases on shutdown. Every decision
 * is one of the pure functions in lease-holding.ts; this class only does the I/O and timing.
 */
export class LeaseKeeper {
  private readonly o: Required<
    Omit<LeaseKeeperOptions, "log" | "onRenewFailure" | "ledgerStore" | "reservationMemory">
  > &
    Pick<LeaseKeeperOptions, "log" | "onRenewFailure">;
  private readonly ledgerStore: ConfigMapStore;
  /** The highest reservedUntil this process made durable, per worker id (the issuer forgets a worker id it leaves). */
  private readonly ownReservations = new Map<number, number>();
  private readonly memory: ReservationMemory | undefined;
  /** After a rollback: no acquisition before this monotonic time. */
  private holdOffUntilMono = 0;
  /** The last resourceVersion this process read or wrote of its lease ConfigMap. */
  private lastLeaseVersion: string | undefined;
  private mode: KeeperState["mode"] = "acquiring";
  private lease: { stored: StoredConfigMap; data: LeaseData } | null = null;
  private held: HeldAssignment | null = null;
  private floorTick = 0;
  private fence: IssueFence | null = null;
  private nextRenewMono = 0;
  private waiting: ConditionStatus = {
    ok: false,
    reason: "Acquiring",
    message: "looking for this pod's worker-id lease",
  };
  private stopping = false;
  private readonly wake = new AbortController();
  /** Interrupts the current wait (fenceUntilRenewed), not the whole loop. */
  private nap: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private renewals = 0;
  private renewalFailures = 0;
  /** Renewal attempts that failed in a row (API errors and timeouts), for the retry backoff. */
  private failuresInRow = 0;
  private readonly retry: RenewalRetryTiming;

  constructor(options: LeaseKeeperOptions) {
    this.o = { acquirePollMs: 1000, clock: systemClock, sleep: timerSleep, ...options };
    this.ledgerStore = options.ledgerStore ?? options.store;
    this.memory = options.reservationMemory;
    this.retry = renewalRetryTiming(
      options.renewIntervalMs,
      options.settings.reserveAheadTicks * options.math.layout.timeUnitMs,
    );
  }

  /** Registers the readiness condition and starts acquiring. */
  start(): void {
    // An earlier container of this pod may have issued up to what it sent: start above it.
    for (const [workerId, tick] of this.memory?.load() ?? []) this.noteReservation(workerId, tick);
    this.o.readiness.define(LEASE_CONDITION, () => this.condition());
    this.loop = this.run();
  }

  state(): KeeperState {
    return {
      mode: this.mode,
      workerId: this.held?.workerId ?? null,
      assignment: this.held?.assignment ?? null,
      fence: this.fence,
      renewals: this.renewals,
      renewalFailures: this.renewalFailures,
    };
  }

  /**
   * Stops renewing and unfences the issuer: from here on nothing raises the fence again.
   * Safe to call more than once.
   */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.setFence(null);
      this.wake.abort();
    }
    return this.loop ?? Promise.resolve();
  }

  /**
   * Stops issuing until the next renewal succeeds, and renews at once. For a wall clock that
   * jumped forward with no monotonic progress: a suspended VM resumes like that, and its
   * monotonic clock (performance.now()) did not count the suspension, so its fence would still
   * look valid long after the operator may have handed its worker id to another pod.
   */
  fenceUntilRenewed(why: string): void {
    if (this.mode !== "holding" || this.stopping) return;
    this.setFence(null);
    this.waiting = {
      ok: false,
      reason: "ClockJumped",
      message: `${why}; not issuing until the lease is renewed`,
    };
    this.nextRenewMono = this.o.clock.monoMs();
    this.nap?.abort();
    this.log("warn", `issuing paused until the lease is renewed: ${why}`, { workerId: this.held?.workerId });
  }

  /**
   * Marks the lease Released if this process holds it, after stop(). Call it only after
   * the last response went out (main.ts does), since a released id may be handed over.
   */
  async release(): Promise<void> {
    await this.stop();
    if (this.mode === "holding") await this.writeRelease();
    this.mode = "stopped";
  }

  private condition(): ConditionStatus {
    if (this.mode === "holding" && this.fence) {
      if (this.o.clock.monoMs() < this.fence.validUntilMonoMs) return OK;
      return {
        ok: false,
        reason: "LeaseNotConfirmed",
        message: `the worker-id lease was not renewed within lease duration minus safety margin; not issuing until a renewal succeeds`,
      };
    }
    if (this.mode === "stopped")
      return { ok: false, reason: "Stopped", message: "shutting down; the lease is released" };
    return this.waiting;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.mode === "acquiring") {
          if (!(await this.acquire())) await this.sleep(this.o.acquirePollMs);
        } else {
          await this.sleep(this.nextRenewMono - this.o.clock.monoMs());
          if (!this.stopping) await this.renew();
        }
      } catch (error) {
        // Timeouts and API errors: the fence expires on its own if this goes on.
        this.log("warn", `lease ${this.mode === "holding" ? "renewal" : "acquisition"} failed`, {
          err: (error as Error).message,
        });
        if (this.mode === "holding") {
          this.renewFailed(RenewFailureReason.ApiError);
          // Soon, not at the next interval: the reservation left is short (lease-holding.ts,
          // renewalRetryTiming). If the lost write did land, the retry's 409 finds it.
          this.failuresInRow++;
          this.nextRenewMono = this.o.clock.monoMs() + retryBackoffMs(this.retry, this.failuresInRow);
        } else {
          this.waiting = { ok: false, reason: "ApiError", message: (error as Error).message };
          await this.sleep(this.o.acquirePollMs);
        }
      }
    }
  }

  private nowTick(): number {
    return tickAt(this.o.math, this.o.clock.wallMs());
  }

  private nowWall(): string {
    return new Date(this.o.clock.wallMs()).toISOString();
  }

  /** One acquisition attempt; true when the lease is now held. */
  private async acquire(): Promise<boolean> {
    const { settings, store } = this.o;
    const holdOffMs = this.holdOffUntilMono - this.o.clock.monoMs();
    if (holdOffMs > 0) {
      this.waiting = {
        ok: false,
        reason: "RolledBack",
        message: `the lease went back in time (etcd restored?); not acquiring for another ${Math.ceil(holdOffMs / 1000)} s, until every holder the lost records knew of has fenced itself`,
      };
      return false;
    }
    const stored = await store.read(settings.leaseName);
    const lease = stored ? parseLeaseData(stored.data) : null;
    if (stored && this.leaseWentBack(stored.resourceVersion)) {
      // An etcd restore brought back a lease this process had moved past, perhaps naming an
      // assignment it held while another pod now holds the worker id: that pod fences itself
      // within its lease duration, so wait that long before serving from it (found by the
      // simulation: the old holder took its restored lease back at once, beside the new one).
      this.holdOffUntilMono =
        this.o.clock.monoMs() +
        rollbackHoldOffMs(
          Math.max(settings.leaseDurationMs, (lease?.leaseDurationSeconds ?? 0) * 1000),
          settings.safetyMarginMs,
        );
      return false;
    }
    let entry;
    let ledgerLayout;
    if (lease && lease.holderUid === settings.podUid) {
      const ledgerMap = await this.ledgerStore.read(this.o.ledgerName);
      const ledger = ledgerMap ? parseLedgerData(ledgerMap.data) : undefined;
      entry = ledger?.entries.get(lease.workerId);
      ledgerLayout = ledger?.layout;
    }
    const decision = decideAcquire(
      settings,
      lease,
      entry,
      ledgerLayout,
      lease ? (this.ownReservations.get(lease.workerId) ?? -1) : -1,
      this.nowTick(),
      this.o.report(),
      this.nowWall(),
    );
    if (decision.kind === "wait" || !stored) {
      if (decision.kind === "wait")
        this.waiting = { ok: false, reason: decision.reason, message: decision.message };
      return false;
    }
    this.memory?.save(decision.write.workerId, decision.write.reservedUntil);
    const sent = this.sentAt();
    let written: StoredConfigMap;
    try {
      written = await store.replace(stored, serializeLeaseData(decision.write));
    } catch (error) {
      if (error instanceof ConfigMapConflict || error instanceof ConfigMapMissing) return false;
      throw error;
    }
    this.held = decision.held;
    this.floorTick = decision.floorTick;
    this.mode = "holding";
    this.confirmed(written, decision.write, sent);
    this.log("info", "worker-id lease acquired", {
      workerId: decision.held.workerId,
      assignment: decision.held.assignment,
      floorTick: decision.floorTick,
      reservedUntil: decision.write.reservedUntil,
    });
    return true;
  }

  /** Both clocks as a write is sent: the fence runs from here. */
  private sentAt(): { monoMs: number; wallMs: number } {
    return { monoMs: this.o.clock.monoMs(), wallMs: this.o.clock.wallMs() };
  }

  private noteReservation(workerId: number, tick: number): void {
    this.ownReservations.set(workerId, Math.max(this.ownReservations.get(workerId) ?? -1, tick));
  }

  /**
   * Notes a version of the lease ConfigMap; true when it is older than the last one seen (a
   * restore: reads go to etcd, so nothing else takes a version back). The older one is then
   * the one remembered, so one restore is noticed once.
   */
  private leaseWentBack(resourceVersion: string): boolean {
    const wentBack = resourceVersionWentBack(this.lastLeaseVersion, resourceVersion);
    this.lastLeaseVersion = resourceVersion;
    return wentBack;
  }

  private confirmed(
    stored: StoredConfigMap,
    written: LeaseData,
    sent: { monoMs: number; wallMs: number },
  ): void {
    this.leaseWentBack(stored.resourceVersion);
    this.noteReservation(written.workerId, written.reservedUntil);
    this.lease = { stored, data: written };
    if (this.held) this.held = { ...this.held, renewCount: written.renewCount };
    this.renewals++;
    this.failuresInRow = 0;
    // A write that lands during shutdown keeps the lease current for the release, nothing more.
    if (this.stopping) return;
    this.setFence(fenceAfterWrite(this.o.settings, this.floorTick, written, sent), written.workerId);
    this.nextRenewMono = sent.monoMs + this.o.renewIntervalMs;
  }

  private async renew(): Promise<void> {
    const current = this.lease;
    if (!current) return;
    const data = renewalWrite(this.o.settings, current.data, this.nowTick(), this.o.report(), this.nowWall());
    this.memory?.save(data.workerId, data.reservedUntil);
    const sent = this.sentAt();
    try {
      const stored = await this.o.store.replace(current.stored, serializeLeaseData(data));
      if (this.mode === "holding") this.confirmed(stored, data, sent);
    } catch (error) {
      if (error instanceof ConfigMapMissing) {
        this.renewFailed(RenewFailureReason.Lost);
        return this.lost("the lease ConfigMap was deleted");
      }
      if (!(error instanceof ConfigMapConflict)) throw error;
      const verdict = await this.resolveConflict();
      this.renewFailed(FAILURE_REASON_OF[verdict]);
      if (verdict === RenewalConflict.Retry) this.nextRenewMono = this.o.clock.monoMs();
    }
  }

  /** After a 409: re-read and apply the shared rule. */
  private async resolveConflict(): Promise<RenewalConflict> {
    const stored = await this.o.store.read(this.o.settings.leaseName);
    const current = stored ? parseLeaseData(stored.data) : null;
    const verdict = this.held ? classifyRenewalConflict(this.held, current) : RenewalConflict.Lost;
    if (verdict === RenewalConflict.Retry && stored && current) {
      this.lease = { stored, data: current };
      return verdict;
    }
    if (verdict === RenewalConflict.RolledBack) {
      const leaseDurationMs = Math.max(
        this.o.settings.leaseDurationMs,
        (current?.leaseDurationSeconds ?? 0) * 1000,
      );
      this.holdOffUntilMono =
        this.o.clock.monoMs() + rollbackHoldOffMs(leaseDurationMs, this.o.settings.safetyMarginMs);
      this.lost(
        `the lease went back in time (assignment ${current?.assignment}, renewCount ${current?.renewCount}; this process wrote assignment ${this.held?.assignment}, renewCount ${this.held?.renewCount}): etcd restored from a snapshot?`,
      );
      return verdict;
    }
    this.lost(
      verdict === RenewalConflict.Reassigned
        ? `the operator reassigned this pod (assignment ${current?.assignment}, worker id ${current?.workerId})`
        : `the lease was taken (${current ? `holder ${current.holderUid}, state ${current.state}` : "deleted"})`,
    );
    return verdict;
  }

  /** The assignment is over: stop issuing at once, then look for a new one. */
  private lost(why: string): void {
    this.setFence(null);
    this.log("warn", `worker-id lease lost: ${why}`, { workerId: this.held?.workerId });
    this.held = null;
    this.lease = null;
    this.mode = "acquiring";
    this.waiting = { ok: false, reason: "LeaseLost", message: why };
  }

  private renewFailed(reason: RenewFailureReason): void {
    this.renewalFailures++;
    this.o.onRenewFailure?.(reason);
  }

  private async writeRelease(): Promise<void> {
    for (let attempt = 0; attempt < 3 && this.lease; attempt++) {
      try {
        await this.o.store.replace(
          this.lease.stored,
          serializeLeaseData(releaseWrite(this.lease.data, this.nowWall())),
        );
        this.log("info", "worker-id lease released", { workerId: this.held?.workerId });
        return;
      } catch (error) {
        if (!(error instanceof ConfigMapConflict)) {
          this.log(
            "warn",
            "could not release the worker-id lease; the operator will reclaim it after it expires",
            {
              err: (error as Error).message,
            },
          );
          return;
        }
        const stored = await this.o.store.read(this.o.settings.leaseName).catch(() => null);
        const current = stored ? parseLeaseData(stored.data) : null;
        if (
          !this.held ||
          !stored ||
          !current ||
          classifyRenewalConflict(this.held, current) !== RenewalConflict.Retry
        ) {
          return;
        }
        this.lease = { stored, data: current };
      }
    }
  }

  private setFence(fence: IssueFence | null, workerId?: number): void {
    this.fence = fence;
    if (fence === null) {
      this.o.issuer.setFence(null);
      return;
    }
    if (workerId !== undefined && this.o.issuer.getWorkerId() !== workerId) {
      this.o.issuer.setFence(null);
      this.o.issuer.setWorkerId(workerId);
    }
    this.o.issuer.setFence(fence);
  }

  private async sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return;
    this.nap = new AbortController();
    try {
      await this.o.sleep(ms, AbortSignal.any([this.wake.signal, this.nap.signal]));
    } finally {
      this.nap = null;
    }
  }

  private log(level: "info" | "warn", message: string, fields: Record<string, unknown> = {}): void {
    this.o.log?.(level, message, fields);
  }
}
