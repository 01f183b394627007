import type { FastifyInstance } from "fastify";
import type { ReadinessGate } from "../health/readiness-gate.ts";
import {
  closesConnections,
  INITIAL_SHUTDOWN_STATE,
  ShutdownEffect,
  shutdownStep,
  type ShutdownEvent,
  type ShutdownState,
} from "./shutdown-sequence.ts";

/** The I/O the shutdown sequence drives (main.ts wires the real server, issuer and lease). */
export interface ShutdownPorts {
  /** Fail readiness with a reason (/readyz 503). */
  markUnready(): void;
  /** Stop accepting; `onClosed` once every connection is gone. */
  stopAccepting(onClosed: () => void): void;
  forceCloseConnections(): void;
  /** Unfence the issuer and stop lease renewals, synchronously. */
  stopIssuing(): void;
  /** Write Released (lease mode); resolves when done or given up. */
  release(): Promise<void>;
  exit(): void;
  setTimer(ms: number, fire: () => void): void;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface ShutdownTiming {
  /** How long to keep answering after turning unready (endpoint removal reaching every proxy). */
  drainMs: number;
  /** How long open connections may take to finish their requests once listening stopped. */
  inFlightBudgetMs: number;
}

/**
 * Runs the shutdown sequence (shutdown-sequence.ts) against real ports. Feed it signals and
 * request starts/finishes; `closesConnections()` says whether a response must carry
 * `Connection: close`.
 */
export class GracefulShutdown {
  private current: ShutdownState = INITIAL_SHUTDOWN_STATE;
  private readonly timing: ShutdownTiming;
  private readonly ports: ShutdownPorts;

  constructor(timing: ShutdownTiming, ports: ShutdownPorts) {
    this.timing = timing;
    this.ports = ports;
  }

  get state(): ShutdownState {
    return this.current;
  }

  closesConnections(): boolean {
    return closesConnections(this.current);
  }

  /** A termination signal; `drain: false` skips the drain period (e.g. Ctrl-C in a terminal). */
  signal(signal: string, drain = true): void {
    if (this.current.signal !== null)
      this.ports.log("already shutting down; the signal changes nothing", {
        signal,
        phase: this.current.phase,
      });
    this.dispatch({ type: "signal", signal, drain: drain && this.timing.drainMs > 0 });
  }

  requestStarted(): void {
    this.dispatch({ type: "requestStarted" });
  }

  requestFinished(): void {
    this.dispatch({ type: "requestFinished" });
  }

  private dispatch(event: ShutdownEvent): void {
    const before = this.current.phase;
    const step = shutdownStep(this.current, event);
    this.current = step.state;
    if (step.state.phase !== before)
      this.ports.log(`shutdown: ${step.state.phase}`, {
        signal: step.state.signal,
        inFlight: step.state.inFlight,
      });
    for (const effect of step.effects) this.run(effect);
  }

  private run(effect: ShutdownEffect): void {
    const { ports, timing } = this;
    switch (effect) {
      case ShutdownEffect.MarkUnready:
        return ports.markUnready();
      case ShutdownEffect.StartDrainTimer:
        return ports.setTimer(timing.drainMs, () => this.dispatch({ type: "drainElapsed" }));
      case ShutdownEffect.StopAccepting:
        return ports.stopAccepting(() => this.dispatch({ type: "listenerClosed" }));
      case ShutdownEffect.StartInFlightDeadline:
        return ports.setTimer(timing.inFlightBudgetMs, () => this.dispatch({ type: "deadline" }));
      case ShutdownEffect.ForceCloseConnections:
        return ports.forceCloseConnections();
      case ShutdownEffect.StopIssuing:
        return ports.stopIssuing();
      case ShutdownEffect.Release:
        void ports.release().finally(() => this.dispatch({ type: "released" }));
        return;
      case ShutdownEffect.Exit:
        return ports.exit();
    }
  }
}

/**
 * Counts a fastify app's requests into `shutdown` and adds `Connection: close` to responses
 * once it is shutting down, so keep-alive clients reconnect (through the Service, to another
 * pod). Call before the app starts listening.
 */
export function trackRequests(app: FastifyInstance, shutdown: GracefulShutdown): void {
  app.addHook("onRequest", (request, reply, done) => {
    shutdown.requestStarted();
    // 'close' fires once per response: sent, or the client went away.
    reply.raw.once("close", () => shutdown.requestFinished());
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (shutdown.closesConnections()) reply.header("connection", "close");
    done(null, payload);
  });
}

/** Name of the readiness condition that fails from the first signal on. */
export const SHUTDOWN_CONDITION = "shutdown";

/** What `gracefulShutdownOf` needs beside the app. */
export interface GracefulShutdownOptions {
  timing: ShutdownTiming;
  readiness: ReadinessGate;
  /** Unfence the issuer and stop renewing, synchronously. */
  stopIssuing(): void;
  release(): Promise<void>;
  exit(): void;
}

/**
 * The shutdown sequence wired to a fastify app's HTTP server: readiness, request tracking,
 * `Connection: close`, listener close. Call before the app starts listening.
 */
export function gracefulShutdownOf(app: FastifyInstance, o: GracefulShutdownOptions): GracefulShutdown {
  const shutdown: GracefulShutdown = new GracefulShutdown(o.timing, {
    markUnready: () =>
      o.readiness.set(SHUTDOWN_CONDITION, {
        ok: false,
        reason: "ShuttingDown",
        message: `received ${shutdown.state.signal}: still answering while endpoints drop this pod, then finishing in-flight requests and releasing the worker id`,
      }),
    // Since Node 19 close() also closes idle keep-alive connections; busy ones end after their
    // response, which carries Connection: close. The callback fires when none is left.
    stopAccepting: (onClosed) => {
      if (app.server.listening) app.server.close(() => onClosed());
      else onClosed();
    },
    forceCloseConnections: () => app.server.closeAllConnections(),
    stopIssuing: o.stopIssuing,
    release: o.release,
    exit: o.exit,
    setTimer: (ms, fire) => void setTimeout(fire, ms),
    log: (message, fields) => app.log.info(fields ?? {}, message),
  });
  trackRequests(app, shutdown);
  return shutdown;
}
