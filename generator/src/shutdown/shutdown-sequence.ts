/**
 * The order in which a generator stops (docs/serving.md, "Graceful termination"). Pure:
 * events in, the next state and the effects to perform out; graceful-shutdown.ts runs the
 * effects. The order is what keeps both guarantees:
 *
 * serving -> draining (unready at once, still answering, every response `Connection: close`)
 *         -> closing  (no new connections; requests on open connections are still answered)
 *         -> closed   (no connection and no request left: issuing stops)
 *         -> released (the lease says Released; the process exits)
 *
 * Issuing stops only once nothing is in flight (a batch waiting for its next tick finishes),
 * and the lease is released only after issuing stopped, in the same step, in that order.
 */

export const ShutdownPhase = {
  Serving: "serving",
  Draining: "draining",
  Closing: "closing",
  Closed: "closed",
  Released: "released",
} as const;
export type ShutdownPhase = (typeof ShutdownPhase)[keyof typeof ShutdownPhase];

export const ShutdownEffect = {
  /** Fail readiness (endpoints drop the pod) and add `Connection: close` to every response. */
  MarkUnready: "markUnready",
  /** Call back with `drainElapsed` after the drain period. */
  StartDrainTimer: "startDrainTimer",
  /** Stop accepting connections; close idle ones; call back with `listenerClosed` when none is left. */
  StopAccepting: "stopAccepting",
  /** Call back with `deadline` when the in-flight budget is spent. */
  StartInFlightDeadline: "startInFlightDeadline",
  /** Past the deadline: drop the connections still open (their requests are lost, never duplicated). */
  ForceCloseConnections: "forceCloseConnections",
  /** Unfence the issuer and stop renewing the lease: nothing issues from here on. */
  StopIssuing: "stopIssuing",
  /** Write `Released` (lease mode); call back with `released` when done or given up. */
  Release: "release",
  Exit: "exit",
} as const;
export type ShutdownEffect = (typeof ShutdownEffect)[keyof typeof ShutdownEffect];

export type ShutdownEvent =
  | { type: "signal"; signal: string; drain: boolean }
  | { type: "drainElapsed" }
  | { type: "requestStarted" }
  | { type: "requestFinished" }
  | { type: "listenerClosed" }
  | { type: "deadline" }
  | { type: "released" };

export interface ShutdownState {
  phase: ShutdownPhase;
  /** Requests received and not yet answered (or abandoned by their client). */
  inFlight: number;
  listenerClosed: boolean;
  /** The signal that started the shutdown; later signals change nothing. */
  signal: string | null;
}

export const INITIAL_SHUTDOWN_STATE: ShutdownState = Object.freeze({
  phase: ShutdownPhase.Serving,
  inFlight: 0,
  listenerClosed: false,
  signal: null,
});

export interface ShutdownStep {
  state: ShutdownState;
  effects: ShutdownEffect[];
}

const E = ShutdownEffect;
const P = ShutdownPhase;

/** closing -> closed once no connection and no request is left. */
function closeIfIdle(state: ShutdownState): ShutdownStep {
  if (state.phase === P.Closing && state.listenerClosed && state.inFlight === 0)
    return { state: { ...state, phase: P.Closed }, effects: [E.StopIssuing, E.Release] };
  return { state, effects: [] };
}

function startClosing(state: ShutdownState): ShutdownStep {
  return {
    state: { ...state, phase: P.Closing },
    effects: [E.StopAccepting, E.StartInFlightDeadline],
  };
}

/** The next state and the effects to run, in order. */
export function shutdownStep(state: ShutdownState, event: ShutdownEvent): ShutdownStep {
  switch (event.type) {
    case "signal": {
      // A second signal (kubelet, an impatient operator) must not skip a step.
      if (state.phase !== P.Serving) return { state, effects: [] };
      const draining = { ...state, phase: P.Draining, signal: event.signal };
      if (!event.drain) {
        const closing = startClosing(draining);
        return { state: closing.state, effects: [E.MarkUnready, ...closing.effects] };
      }
      return { state: draining, effects: [E.MarkUnready, E.StartDrainTimer] };
    }
    case "drainElapsed":
      return state.phase === P.Draining ? startClosing(state) : { state, effects: [] };
    case "requestStarted":
      return { state: { ...state, inFlight: state.inFlight + 1 }, effects: [] };
    case "requestFinished":
      return closeIfIdle({ ...state, inFlight: Math.max(0, state.inFlight - 1) });
    case "listenerClosed":
      return closeIfIdle({ ...state, listenerClosed: true });
    case "deadline":
      if (state.phase !== P.Closing) return { state, effects: [] };
      // Whatever is still open is cut; nothing can be in flight once the connections are gone.
      return {
        state: { ...state, phase: P.Closed, inFlight: 0, listenerClosed: true },
        effects: [E.ForceCloseConnections, E.StopIssuing, E.Release],
      };
    case "released":
      return state.phase === P.Closed
        ? { state: { ...state, phase: P.Released }, effects: [E.Exit] }
        : { state, effects: [] };
  }
}

/** True while responses should end their connection (draining and after). */
export function closesConnections(state: ShutdownState): boolean {
  return state.phase !== P.Serving;
}
