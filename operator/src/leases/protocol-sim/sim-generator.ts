import { layoutMath, parseIdLayout, tickAt } from "../../../../contract/id-layout.ts";
import {
  parseLeaseData,
  parseLedgerData,
  serializeLeaseData,
  type LeaseData,
} from "../../../../contract/lease-record.ts";
import {
  classifyRenewalConflict,
  RenewalConflict,
  type HeldAssignment,
} from "../../../../contract/lease-rules.ts";
import type { IssueFence } from "../../../../generator/src/issuing/issue-fence.ts";
import { Issuer } from "../../../../generator/src/issuing/issuer.ts";
import {
  decideAcquire,
  fenceAfterWrite,
  releaseWrite,
  renewalWrite,
  type HolderReport,
  type HolderSettings,
} from "../../../../generator/src/lease/lease-holding.ts";
import type { LinkState, SimApiServer, SimResponse, StoredObject } from "./sim-api-server.ts";
import type { InvariantTracker, IssuerView } from "./sim-invariants.ts";
import type { Random, SimProcess } from "./sim-kernel.ts";

/** The layout every simulated fleet uses (1 ms ticks). */
export const SIM_MATH = layoutMath(parseIdLayout({}, new Date("2030-01-01T00:00:00Z")));

/** Deliberate protocol breaks, to prove the checks can fail. */
export interface GeneratorMutation {
  ignoreHandoverFloor?: boolean;
  neverSelfFence?: boolean;
}

/** Timings shared by the simulated holders. */
export interface SimHolderTiming {
  leaseDurationMs: number;
  renewIntervalMs: number;
  safetyMarginMs: number;
  reserveAheadTicks: number;
  acquirePollMs: number;
}

const REPORT: HolderReport = {
  clockOffsetMs: 0,
  clockHealthy: true,
  sequenceUtilization: 0,
  sequenceExhaustions: 0,
  message: null,
};

/**
 * One generator container: the lease keeper's loop (acquire, confirm, renew, handle
 * conflicts, release) around the real pure holder functions and the real Issuer, plus a
 * client that asks it for IDs at random moments.
 */
export class SimGenerator implements IssuerView {
  readonly id: string;
  private readonly issuer = new Issuer({ math: SIM_MATH, workerId: null, maxBackwardWaitMs: 5 });
  private lease: { resourceVersion: string; data: LeaseData } | null = null;
  private held: HeldAssignment | null = null;
  private floorTick = 0;
  private lastAckedSendMono: number | null = null;
  private mode: "acquiring" | "holding" | "stopped" | "releasing" = "acquiring";
  private readonly settings: HolderSettings;
  readonly proc: SimProcess;
  readonly link: LinkState;
  private readonly api: SimApiServer;
  private readonly tracker: InvariantTracker;
  private readonly random: Random;
  private readonly timing: SimHolderTiming;
  private readonly ledgerName: string;
  private readonly mutation: GeneratorMutation;
  /** True time of the last successful issue, for liveness checks. */
  lastIssuedAt = -Infinity;
  private stopReason = "";

  constructor(
    proc: SimProcess,
    link: LinkState,
    api: SimApiServer,
    tracker: InvariantTracker,
    random: Random,
    timing: SimHolderTiming,
    pod: { fleet: string; name: string; uid: string; ledgerName: string },
    mutation: GeneratorMutation,
  ) {
    this.proc = proc;
    this.link = link;
    this.api = api;
    this.tracker = tracker;
    this.random = random;
    this.timing = timing;
    this.mutation = mutation;
    this.ledgerName = pod.ledgerName;
    this.id = `${pod.name}/${pod.uid}/${proc.name}`;
    this.settings = {
      fleet: pod.fleet,
      podName: pod.name,
      podUid: pod.uid,
      leaseName: `${pod.name}-lease`,
      leaseDurationMs: timing.leaseDurationMs,
      safetyMarginMs: timing.safetyMarginMs,
      reserveAheadTicks: timing.reserveAheadTicks,
    };
    tracker.register(this);
  }

  get alive(): boolean {
    return this.proc.alive;
  }

  monoMs(): number {
    return this.proc.monoMs();
  }

  fence(): { workerId: number; fence: IssueFence } | null {
    const fence = this.issuer.getFence();
    const workerId = this.issuer.getWorkerId();
    return fence && workerId !== null ? { workerId, fence } : null;
  }

  /** One line for failure reports. */
  describe(): string {
    const f = this.fence();
    const fence = f
      ? `w${f.workerId} (${f.fence.floorTick}, ${f.fence.ceilingTick}] until mono ${Math.round(f.fence.validUntilMonoMs)}`
      : "none";
    return `${this.id} mode=${this.mode}${this.stopReason ? ` (${this.stopReason})` : ""} alive=${this.alive} paused=${this.proc.paused} fence=${fence} mono=${Math.round(this.monoMs())} tick=${this.nowTick()} lastIssuedAt=${this.lastIssuedAt}`;
  }

  start(): void {
    this.acquireSoon(0);
    this.clientLoop();
  }

  private nowTick(): number {
    return tickAt(SIM_MATH, this.proc.wallMs());
  }

  private send(req: Parameters<SimApiServer["send"]>[2], done: (res: SimResponse) => void): void {
    this.api.send(this.proc, this.link, req, done);
  }

  private setFence(fence: IssueFence | null, workerId?: number): void {
    if (fence === null) {
      this.issuer.setFence(null);
      return;
    }
    if (this.mutation.neverSelfFence) fence = { ...fence, validUntilMonoMs: Infinity };
    if (this.mutation.ignoreHandoverFloor) fence = { ...fence, floorTick: -1 };
    if (workerId !== undefined && this.issuer.getWorkerId() !== workerId) {
      this.issuer.setFence(null);
      this.issuer.setWorkerId(workerId);
    }
    this.issuer.setFence(fence);
  }

  // --- acquire -----------------------------------------------------------------------

  private acquireSoon(delay: number): void {
    this.proc.timer(delay, () => this.acquire());
  }

  private acquire(): void {
    if (this.mode !== "acquiring") return;
    this.send({ op: "get", name: `lease/${this.settings.leaseName}` }, (res) => {
      if (this.mode !== "acquiring") return;
      if (!res.ok || !res.object) return this.acquireSoon(this.timing.acquirePollMs);
      const leaseObj = res.object;
      this.send({ op: "get", name: this.ledgerName }, (ledgerRes) => {
        if (this.mode !== "acquiring") return;
        if (!ledgerRes.ok || !ledgerRes.object) return this.acquireSoon(this.timing.acquirePollMs);
        const lease = parseLeaseData(leaseObj.data);
        const ledger = parseLedgerData(ledgerRes.object.data);
        const entry = ledger.entries.get(lease.workerId);
        const decision = decideAcquire(this.settings, lease, entry, this.nowTick(), REPORT, "");
        if (decision.kind === "wait") return this.acquireSoon(this.timing.acquirePollMs);
        const sent = this.proc.monoMs();
        this.write(leaseObj.resourceVersion, decision.write, (outcome, stored) => {
          if (this.mode !== "acquiring") return;
          if (outcome !== "ok" || !stored) return this.acquireSoon(this.timing.acquirePollMs);
          this.held = decision.held;
          this.floorTick = decision.floorTick;
          this.mode = "holding";
          this.confirmed(stored, decision.write, sent);
        });
      });
    });
  }

  private write(
    resourceVersion: string,
    data: LeaseData,
    done: (outcome: "ok" | "conflict" | "gone" | "failed", stored: StoredObject | null) => void,
  ): void {
    this.send(
      {
        op: "replace",
        name: `lease/${this.settings.leaseName}`,
        resourceVersion,
        data: serializeLeaseData(data),
      },
      (res) => {
        if (res.ok) return done("ok", res.object);
        done(res.status === 409 ? "conflict" : res.status === 404 ? "gone" : "failed", null);
      },
    );
  }

  private confirmed(stored: StoredObject, written: LeaseData, sentMono: number): void {
    this.lease = { resourceVersion: stored.resourceVersion, data: written };
    this.lastAckedSendMono = sentMono;
    this.setFence(fenceAfterWrite(this.settings, this.floorTick, written, sentMono), written.workerId);
    const next = sentMono + this.timing.renewIntervalMs - this.proc.monoMs();
    this.proc.timer(next, () => this.renew());
  }

  // --- renew -------------------------------------------------------------------------

  private renew(): void {
    if (this.mode !== "holding" || !this.lease) return;
    const data = renewalWrite(this.settings, this.lease.data, this.nowTick(), REPORT, "");
    const sent = this.proc.monoMs();
    this.write(this.lease.resourceVersion, data, (outcome, stored) => {
      if (this.mode !== "holding") return;
      if (outcome === "ok" && stored) return this.confirmed(stored, data, sent);
      if (outcome === "gone") return this.lost("lease gone on renewal");
      if (outcome === "failed") return this.proc.timer(this.timing.renewIntervalMs / 4, () => this.renew());
      this.resolveConflict(() => this.renew());
    });
  }

  private resolveConflict(retry: () => void): void {
    this.send({ op: "get", name: `lease/${this.settings.leaseName}` }, (res) => {
      if (this.mode !== "holding" && this.mode !== "releasing") return;
      if (!res.ok && res.status !== 404)
        return this.proc.timer(this.timing.renewIntervalMs / 4, () => this.resolveConflict(retry));
      const current = res.ok && res.object ? parseLeaseData(res.object.data) : null;
      const verdict = this.held ? classifyRenewalConflict(this.held, current) : RenewalConflict.Lost;
      if (verdict === RenewalConflict.Retry && res.ok && res.object && current) {
        this.lease = { resourceVersion: res.object.resourceVersion, data: current };
        return retry();
      }
      const lease = current ? `${current.holderUid}/${current.assignment}/${current.state}` : "gone";
      this.lost(`conflict verdict ${verdict}, lease now ${lease}`);
    });
  }

  /** The assignment is over: stop issuing now, then look for a new one (releasing: just stop). */
  private lost(why: string): void {
    this.stopReason = why;
    this.setFence(null);
    this.held = null;
    this.lease = null;
    if (this.mode === "releasing") {
      this.mode = "stopped";
      return;
    }
    this.mode = "acquiring";
    this.acquireSoon(this.timing.acquirePollMs);
  }

  // --- release (SIGTERM) ---------------------------------------------------------------

  /** SIGTERM: stop issuing, then write Released; `exited` runs when the process would exit. */
  terminate(exited: () => void): void {
    this.proc.deliver(() => {
      this.setFence(null);
      if (this.mode !== "holding" || !this.lease) {
        this.mode = "stopped";
        return exited();
      }
      this.mode = "releasing";
      const release = () => {
        if (!this.lease) return exited();
        this.write(this.lease.resourceVersion, releaseWrite(this.lease.data, ""), (outcome) => {
          if (outcome === "conflict") return this.resolveConflict(release);
          this.mode = "stopped";
          exited();
        });
      };
      release();
    });
  }

  // --- clients -----------------------------------------------------------------------

  private clientLoop(): void {
    this.proc.timer(this.random.int(5, 40), () => {
      this.issueOne();
      this.clientLoop();
    });
  }

  /** A request that reached the process (also right after a SIGCONT, before any timer). */
  issueOne(): void {
    const decision = this.issuer.next(1, this.proc.wallMs(), this.proc.monoMs());
    if (decision.kind !== "issued") return;
    this.lastIssuedAt = this.proc.kernel.now;
    this.tracker.issued(
      this,
      this.held?.assignment ?? -1,
      decision.workerId,
      decision.tick,
      this.lastAckedSendMono,
    );
  }
}
