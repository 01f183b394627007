import { performance } from "node:perf_hooks";
import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import { callWithTimeout } from "../kube/api-call-timeout.ts";
import { decide, observe, type ObservedLease } from "./leader-election-rules.ts";
import { describeError, isConflict, isNotFound } from "../kube/api-errors.ts";
import { microTime } from "../kube/micro-time.ts";
import type { OperatorLog } from "../log/operator-log.ts";

/** Timing of leader election (client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry). */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Callbacks of a leader election run. */
export interface LeaderCallbacks {
  onStartedLeading: () => void;
  /** Called once when leadership is lost (renewal failed past the deadline) or released. */
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
  log?: OperatorLog;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Runs leader election on a coordination.k8s.io/v1 Lease until `signal` aborts. Every
 * write is a create or a replace with the read resourceVersion, so two candidates can
 * never both believe they renewed the same record.
 */
export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #options: LeaderElectionOptions;
  readonly #callbacks: LeaderCallbacks;
  #observed: ObservedLease | undefined;
  #leading = false;
  #lastRenewMono = 0;
  #lastLeader = "";

  constructor(api: CoordinationV1Api, options: LeaderElectionOptions, callbacks: LeaderCallbacks) {
    this.#api = api;
    this.#options = options;
    this.#callbacks = callbacks;
  }

  /** True while this process holds the lease and renewed within the renew deadline. */
  get isLeader(): boolean {
    return this.#leading && performance.now() - this.#lastRenewMono < this.#options.renewDeadlineMs;
  }

  /** Campaigns, then renews, until aborted; releases the lease on the way out if it holds it. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const outcome = await this.#tryAcquireOrRenew();
      if (typeof outcome === "number") {
        // From when the renewal was sent, not answered: the others time the lease from
        // when they see it change, which can be long before a slow answer arrives.
        this.#lastRenewMono = outcome;
        if (!this.#leading) {
          this.#leading = true;
          this.#callbacks.log?.("info", "became leader", { identity: this.#options.identity });
          this.#callbacks.onStartedLeading();
        }
      } else if (
        this.#leading &&
        (outcome === "held-by-other" ||
          performance.now() - this.#lastRenewMono >= this.#options.renewDeadlineMs)
      ) {
        this.#leading = false;
        this.#callbacks.log?.(
          "warn",
          outcome === "held-by-other"
            ? `lost leadership: ${this.#lastLeader} holds the lease`
            : "lost leadership: could not renew within the renew deadline",
        );
        this.#callbacks.onStoppedLeading();
      }
      await sleep(this.#options.retryPeriodMs, signal);
    }
    if (this.#leading) {
      this.#leading = false;
      await this.#release();
      this.#callbacks.onStoppedLeading();
    }
  }

  /** One attempt; a renewal's send time (monotonic ms) when it succeeded. */
  async #tryAcquireOrRenew(): Promise<number | "held-by-other" | "failed"> {
    const { namespace, name, identity, leaseDurationSeconds } = this.#options;
    let lease: V1Lease | undefined;
    try {
      lease = await this.#call((options) => this.#api.readNamespacedLease({ name, namespace }, options));
    } catch (err) {
      if (!isNotFound(err)) {
        this.#callbacks.log?.(
          "warn",
          `leader election: reading lease ${namespace}/${name}: ${describeError(err)}`,
        );
        return "failed";
      }
    }
    const nowMono = performance.now();
    const current = lease
      ? {
          holderIdentity: lease.spec?.holderIdentity ?? "",
          leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? leaseDurationSeconds,
          acquireTime: new Date(lease.spec?.acquireTime ?? 0),
          renewTime: new Date(lease.spec?.renewTime ?? 0),
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
          resourceVersion: lease.metadata?.resourceVersion ?? "",
        }
      : undefined;
    if (current) {
      this.#observed = observe(
        this.#observed,
        {
          resourceVersion: current.resourceVersion,
          holderIdentity: current.holderIdentity,
          renewTimeMs: current.renewTime.getTime(),
        },
        nowMono,
      );
      if (current.holderIdentity !== this.#lastLeader) {
        this.#lastLeader = current.holderIdentity;
        if (current.holderIdentity) this.#callbacks.onNewLeader?.(current.holderIdentity);
      }
    }
    const decision = decide({
      identity,
      leaseDurationSeconds,
      current,
      observed: this.#observed,
      nowMono,
      nowWall: new Date(),
    });
    if (decision.action === "wait") return "held-by-other";
    const body: V1Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name,
        namespace,
        ...(decision.action === "update" ? { resourceVersion: decision.resourceVersion } : {}),
      },
      spec: {
        holderIdentity: decision.record.holderIdentity,
        leaseDurationSeconds: decision.record.leaseDurationSeconds,
        acquireTime: microTime(decision.record.acquireTime),
        renewTime: microTime(decision.record.renewTime),
        leaseTransitions: decision.record.leaseTransitions,
      },
    };
    const sentMono = performance.now();
    try {
      const written = await this.#call((options) =>
        decision.action === "create"
          ? this.#api.createNamespacedLease({ namespace, body }, options)
          : this.#api.replaceNamespacedLease({ name, namespace, body }, options),
      );
      this.#observed = observe(
        undefined,
        {
          resourceVersion: written.metadata?.resourceVersion ?? "",
          holderIdentity: identity,
          renewTimeMs: decision.record.renewTime.getTime(),
        },
        nowMono,
      );
      return sentMono;
    } catch (err) {
      if (!isConflict(err))
        this.#callbacks.log?.("warn", `leader election: writing lease: ${describeError(err)}`);
      return "failed";
    }
  }

  // Bounded, so a hanging API server cannot hold the loop past the renew deadline (a quarter of
  // it per request leaves room for the read, the write and a retry).
  #call<T>(call: Parameters<typeof callWithTimeout<T>>[0]): Promise<T> {
    const timeoutMs = this.#options.renewDeadlineMs / 4;
    return callWithTimeout(call, timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
  }

  // Handing the lease back lets a standby take over at once instead of after leaseDuration.
  async #release(): Promise<void> {
    const { namespace, name, identity } = this.#options;
    try {
      const lease = await this.#call((options) =>
        this.#api.readNamespacedLease({ name, namespace }, options),
      );
      if (lease.spec?.holderIdentity !== identity) return;
      lease.spec.holderIdentity = "";
      lease.spec.renewTime = microTime(new Date());
      if (lease.spec.acquireTime) lease.spec.acquireTime = microTime(new Date(lease.spec.acquireTime));
      await this.#call((options) =>
        this.#api.replaceNamespacedLease({ name, namespace, body: lease }, options),
      );
    } catch (err) {
      this.#callbacks.log?.("warn", `leader election: releasing lease: ${describeError(err)}`);
    }
  }
}
