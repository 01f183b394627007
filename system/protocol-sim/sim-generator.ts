import type { V1ConfigMap } from "@kubernetes/client-node";
import { fleetKey } from "../../contract/lease-record.ts";
import { ClockHealth } from "../../generator/src/clock/clock-health.ts";
import { JUMP_CHECK_EVERY_MS, JUMP_THRESHOLD_MS } from "../../generator/src/clock/clock-monitor.ts";
import { WallJumpDetector } from "../../generator/src/clock/wall-jump-detector.ts";
import { ReadinessGate } from "../../generator/src/health/readiness-gate.ts";
import type { IssueFence } from "../../generator/src/issuing/issue-fence.ts";
import { Issuer } from "../../generator/src/issuing/issuer.ts";
import {
  ConfigMapConflict,
  ConfigMapMissing,
  ConfigMapTimeout,
  type ConfigMapStore,
  type StoredConfigMap,
} from "../../generator/src/lease/configmap-store.ts";
import { renewalRetryTiming, type HolderReport } from "../../generator/src/lease/lease-holding.ts";
import { LeaseKeeper } from "../../generator/src/lease/lease-keeper.ts";
import type { ReservationMemory } from "../../generator/src/lease/reservation-memory.ts";
import type { LinkState, SimApiServer, SimRequest, SimResponse, StoredObject } from "./sim-api-server.ts";
import type { InvariantTracker, IssuerView } from "./sim-invariants.ts";
import type { Random, SimProcess } from "./sim-kernel.ts";
import type { SimLayout } from "./sim-layouts.ts";

/** Deliberate protocol breaks, to prove the checks can fail. */
export interface GeneratorMutation {
  ignoreHandoverFloor?: boolean;
  neverSelfFence?: boolean;
  /** Trust the monotonic clock across a suspend (no wall-clock anchor on the fence, no fence on a forward jump). */
  ignoreSuspend?: boolean;
  /** Issue whatever the API server's clock says about this one (no clock check without NTP). */
  ignoreClockCheck?: boolean;
  /** Serve a claim whatever layout the id space's ledger records. */
  ignoreLayout?: boolean;
  /** A new container of a pod knows nothing of what its predecessor reserved (no emptyDir memory). */
  forgetAcrossRestarts?: boolean;
}

/** Timings shared by the simulated holders. */
export interface SimHolderTiming {
  leaseDurationMs: number;
  renewIntervalMs: number;
  safetyMarginMs: number;
  reserveAheadTicks: number;
  acquirePollMs: number;
  /** spec.clock.maxDriftMs; the fleet names no NTP servers, so the API server's clock is the reference. */
  maxDriftMs: number;
}

const REPORT: HolderReport = {
  clockOffsetMs: 0,
  clockHealthy: true,
  sequenceUtilization: 0,
  sequenceExhaustions: 0,
  message: null,
};

/**
 * One generator container: the real LeaseKeeper and the real Issuer, with the simulated
 * network as their ConfigMap store and the process's simulated clocks and timers, plus a
 * client that asks for IDs at random moments.
 */
export class SimGenerator implements IssuerView {
  readonly id: string;
  readonly layout: SimLayout;
  private readonly issuer: Issuer;
  private readonly keeper: LeaseKeeper;
  /** Send time (own monotonic clock) of the last lease write the server applied and this process heard back about. */
  private lastAckedSendMono: number | null = null;
  readonly proc: SimProcess;
  readonly link: LinkState;
  private readonly api: SimApiServer;
  private readonly tracker: InvariantTracker;
  private readonly random: Random;
  /** True time of the last successful issue, for liveness checks. */
  lastIssuedAt = -Infinity;
  /** Client requests refused after this process first issued an ID (lease not confirmed, ceiling reached...). */
  refusedAfterServing = 0;
  private readonly requestTimeoutMs: number;
  /** The real clock health, fed as main.ts feeds it: every API answer's Date, and wall-clock jumps. */
  private readonly clock: ClockHealth;
  private readonly mutation: GeneratorMutation;

  constructor(
    proc: SimProcess,
    link: LinkState,
    api: SimApiServer,
    tracker: InvariantTracker,
    random: Random,
    timing: SimHolderTiming,
    pod: {
      namespace: string;
      fleet: string;
      name: string;
      uid: string;
      ledgerName: string;
      layout: SimLayout;
      /** The pod's emptyDir: what its containers remember across restarts. */
      memory: ReservationMemory;
    },
    mutation: GeneratorMutation,
  ) {
    this.layout = pod.layout;
    const math = pod.layout.math;
    this.issuer = new Issuer({ math, workerId: null, maxBackwardWaitMs: 5 });
    this.proc = proc;
    this.link = link;
    this.api = api;
    this.tracker = tracker;
    this.random = random;
    this.id = `${pod.name}/${pod.uid}/${proc.name}`;
    this.mutation = mutation;
    // generator-runtime.ts's staleness rule, with the real generator's default NTP poll.
    this.clock = new ClockHealth({
      servers: [],
      maxDriftMs: timing.maxDriftMs,
      staleAfterMs: 3 * 16_000 + 2000,
    });
    // The same request timeout the real generator derives from its settings (main.ts).
    this.requestTimeoutMs = renewalRetryTiming(
      timing.renewIntervalMs,
      timing.reserveAheadTicks * math.layout.timeUnitMs,
    ).requestTimeoutMs;
    const issuer = this.issuer;
    this.keeper = new LeaseKeeper({
      store: this.store(pod.namespace, pod.ledgerName, mutation.ignoreLayout === true),
      issuer: {
        setFence: (fence) => {
          if (fence && mutation.neverSelfFence) fence = { ...fence, validUntilMonoMs: Infinity };
          if (fence && mutation.ignoreSuspend) fence = { ...fence, anchor: undefined };
          if (fence && mutation.ignoreHandoverFloor) fence = { ...fence, floorTick: -1 };
          issuer.setFence(fence);
        },
        setWorkerId: (w) => issuer.setWorkerId(w),
        getWorkerId: () => issuer.getWorkerId(),
      },
      readiness: new ReadinessGate(),
      report: () => REPORT,
      math,
      settings: {
        // As main.ts: the ledger names fleets as namespace/name.
        fleet: fleetKey(pod.namespace, pod.fleet),
        podName: pod.name,
        podUid: pod.uid,
        leaseName: `${pod.name}-lease`,
        leaseDurationMs: timing.leaseDurationMs,
        safetyMarginMs: timing.safetyMarginMs,
        reserveAheadTicks: timing.reserveAheadTicks,
        layout: pod.layout.space,
      },
      ledgerName: pod.ledgerName,
      renewIntervalMs: timing.renewIntervalMs,
      acquirePollMs: timing.acquirePollMs,
      clock: { wallMs: () => proc.wallMs(), monoMs: () => proc.monoMs() },
      sleep: (ms, signal) => this.sleep(ms, signal),
      reservationMemory: mutation.forgetAcrossRestarts ? undefined : pod.memory,
    });
    tracker.register(this);
  }

  get alive(): boolean {
    return this.proc.alive;
  }

  monoMs(): number {
    return this.proc.monoMs();
  }

  wallMs(): number {
    return this.proc.wallMs();
  }

  fence(): { workerId: number; fence: IssueFence } | null {
    const fence = this.issuer.getFence();
    const workerId = this.issuer.getWorkerId();
    return fence && workerId !== null ? { workerId, fence } : null;
  }

  /** True when the clock check refuses: the API server's clock proves this one too far ahead. */
  clockRefuses(): boolean {
    return !this.mutation.ignoreClockCheck && !this.clock.evaluate(this.proc.monoMs()).healthy;
  }

  /** One line for failure reports. */
  describe(): string {
    const f = this.fence();
    const fence = f
      ? `w${f.workerId} (${f.fence.floorTick}, ${f.fence.ceilingTick}] until mono ${Math.round(f.fence.validUntilMonoMs)}`
      : "none";
    const s = this.keeper.state();
    return `${this.id} mode=${s.mode} alive=${this.alive} paused=${this.proc.paused} fence=${fence} mono=${Math.round(this.monoMs())} lastIssuedAt=${this.lastIssuedAt}`;
  }

  start(): void {
    this.proc.deliver(() => this.keeper.start());
    this.clientLoop();
    this.watchWallClock(new WallJumpDetector(JUMP_THRESHOLD_MS));
  }

  /** As clock-monitor.ts and main.ts: a step counts against the clock; one forward fences until renewed. */
  private watchWallClock(detector: WallJumpDetector): void {
    detector.observe(this.proc.wallMs(), this.proc.monoMs());
    const check = () =>
      this.proc.timer(JUMP_CHECK_EVERY_MS, () => {
        const stepMs = detector.observe(this.proc.wallMs(), this.proc.monoMs());
        if (stepMs !== 0) {
          this.clock.recordJump(stepMs, this.proc.monoMs());
          if (stepMs > 0 && !this.mutation.ignoreSuspend)
            this.keeper.fenceUntilRenewed(`the wall clock jumped ${Math.round(stepMs)} ms ahead`);
        }
        check();
      });
    check();
  }

  /** SIGTERM: stop issuing, then release; `exited` runs when the process would exit. */
  terminate(exited: () => void): void {
    this.proc.deliver(() => {
      this.issuer.setFence(null);
      void this.keeper.release().then(exited);
    });
  }

  // --- the simulated edges of the keeper ------------------------------------------------

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.proc.kernel.settleAfterEvent = true;
        resolve();
      };
      this.proc.timer(ms, done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private request(req: SimRequest): Promise<SimResponse> {
    return new Promise((resolve) => {
      const sentWallMs = this.proc.wallMs();
      this.api.send(
        this.proc,
        this.link,
        req,
        (res) => {
          this.proc.kernel.settleAfterEvent = true;
          // As the generator's ConfigMap store: every answer's Date checks the clock.
          if (res.serverDateMs !== undefined)
            this.clock.recordServerTime(
              { sentWallMs, receivedWallMs: this.proc.wallMs(), serverDateMs: res.serverDateMs },
              this.proc.monoMs(),
            );
          resolve(res);
        },
        this.requestTimeoutMs,
      );
    });
  }

  private store(namespace: string, ledgerName: string, ignoreLayout: boolean): ConfigMapStore {
    const objectName = (name: string) =>
      name === ledgerName ? `ledger/${name}` : `lease/${namespace}/${name}`;
    // The mutation: the ledger read back as if it recorded no layout.
    const seen = (name: string, data: Record<string, string>) => {
      if (!ignoreLayout || name !== ledgerName) return data;
      const { layout: _ignored, ...rest } = data;
      return rest;
    };
    const toStored = (name: string, obj: StoredObject): StoredConfigMap => ({
      resourceVersion: obj.resourceVersion,
      data: seen(name, obj.data),
      object: {
        metadata: { name, resourceVersion: obj.resourceVersion },
        data: seen(name, obj.data),
      } satisfies V1ConfigMap,
    });
    const fail = (res: SimResponse & { ok: false }, name: string): Error => {
      if (res.status === 409) return new ConfigMapConflict(`${name}: conflict`);
      if (res.status === 404) return new ConfigMapMissing(`${name}: not found`);
      if (res.status === "timeout") return new ConfigMapTimeout(`${name}: timeout`);
      return new Error(`${name}: HTTP ${res.status}`);
    };
    return {
      read: async (name) => {
        const res = await this.request({ op: "get", name: objectName(name) });
        if (res.ok) return res.object ? toStored(name, res.object) : null;
        if (res.status === 404) return null;
        throw fail(res, name);
      },
      replace: async (previous, data) => {
        const name = previous.object.metadata?.name ?? "";
        const sent = this.proc.monoMs();
        const res = await this.request({
          op: "replace",
          name: objectName(name),
          resourceVersion: previous.resourceVersion,
          data,
        });
        if (!res.ok || !res.object) throw fail(res as SimResponse & { ok: false }, name);
        this.lastAckedSendMono = sent;
        return toStored(name, res.object);
      },
    };
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
    // As generator-app.ts: the clock is checked before the issuer is asked.
    if (this.clockRefuses()) {
      if (this.lastIssuedAt > -Infinity) this.refusedAfterServing++;
      return;
    }
    const decision = this.issuer.next(1, this.proc.wallMs(), this.proc.monoMs());
    if (decision.kind !== "issued") {
      if (decision.kind === "refused" && this.lastIssuedAt > -Infinity) this.refusedAfterServing++;
      return;
    }
    this.lastIssuedAt = this.proc.kernel.now;
    const assignment = this.keeper.state().assignment ?? -1;
    this.tracker.issued(
      this,
      assignment,
      decision.workerId,
      decision.tick,
      this.lastAckedSendMono,
      decision.firstSequence,
    );
  }
}
