import { describe, expect, it } from "vitest";
import {
  closesConnections,
  INITIAL_SHUTDOWN_STATE,
  ShutdownEffect as E,
  ShutdownPhase as P,
  shutdownStep,
  type ShutdownEvent,
  type ShutdownState,
} from "./shutdown-sequence.ts";

/** Runs events from the initial state; returns the final state and every effect in order. */
function run(...events: ShutdownEvent[]): { state: ShutdownState; effects: string[] } {
  let state = INITIAL_SHUTDOWN_STATE;
  const effects: string[] = [];
  for (const event of events) {
    const step = shutdownStep(state, event);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const sigterm: ShutdownEvent = { type: "signal", signal: "SIGTERM", drain: true };

describe("shutdownStep", () => {
  it("goes unready -> draining -> closing -> closed -> released, stopping issuing before releasing", () => {
    const { state, effects } = run(
      sigterm,
      { type: "drainElapsed" },
      { type: "listenerClosed" },
      { type: "released" },
    );
    expect(effects).toEqual([
      E.MarkUnready,
      E.StartDrainTimer,
      E.StopAccepting,
      E.StartInFlightDeadline,
      E.StopIssuing,
      E.Release,
      E.Exit,
    ]);
    expect(state.phase).toBe(P.Released);
  });

  it("keeps serving with Connection: close while draining, and only then stops accepting", () => {
    const draining = run(sigterm, { type: "requestStarted" }, { type: "requestFinished" });
    expect(draining.state.phase).toBe(P.Draining);
    expect(closesConnections(draining.state)).toBe(true);
    expect(closesConnections(INITIAL_SHUTDOWN_STATE)).toBe(false);
    expect(draining.effects).not.toContain(E.StopAccepting);
  });

  it("SIGTERM while a batch waits for the next tick: no release before that batch is answered", () => {
    const waiting = run(
      { type: "requestStarted" }, // the batch: its sequence ran out, it waits for the next tick
      sigterm,
      { type: "drainElapsed" },
      { type: "listenerClosed" }, // (a real listener only closes after the answer; the order is not trusted)
    );
    expect(waiting.state.phase).toBe(P.Closing);
    expect(waiting.effects).not.toContain(E.StopIssuing);
    expect(waiting.effects).not.toContain(E.Release);

    const answered = shutdownStep(waiting.state, { type: "requestFinished" });
    expect(answered.state.phase).toBe(P.Closed);
    expect(answered.effects).toEqual([E.StopIssuing, E.Release]);
  });

  it("counts requests that arrive on open connections while closing", () => {
    const { state, effects } = run(
      sigterm,
      { type: "drainElapsed" },
      { type: "requestStarted" },
      { type: "requestStarted" },
      { type: "requestFinished" },
      { type: "listenerClosed" },
    );
    expect(state).toMatchObject({ phase: P.Closing, inFlight: 1 });
    expect(effects).not.toContain(E.Release);
    expect(shutdownStep(state, { type: "requestFinished" }).effects).toEqual([E.StopIssuing, E.Release]);
  });

  it("a second SIGTERM (or SIGINT) changes nothing in any phase", () => {
    const events: ShutdownEvent[] = [
      sigterm,
      { type: "requestStarted" },
      { type: "drainElapsed" },
      { type: "listenerClosed" },
      { type: "requestFinished" },
      { type: "released" },
    ];
    for (let at = 1; at <= events.length; at++) {
      const before = run(...events.slice(0, at));
      for (const again of [sigterm, { type: "signal", signal: "SIGINT", drain: false } as const]) {
        const step = shutdownStep(before.state, again);
        expect(step.effects).toEqual([]);
        expect(step.state).toEqual(before.state);
      }
    }
    // And the whole run with a second SIGTERM in every gap releases exactly once, after stopping issuing.
    const interleaved = events.flatMap((e) => [e, sigterm]);
    const { effects } = run(...interleaved);
    expect(effects.filter((e) => e === E.Release)).toHaveLength(1);
    expect(effects.indexOf(E.StopIssuing)).toBeLessThan(effects.indexOf(E.Release));
  });

  it("without a drain (SIGINT) it stops accepting at once", () => {
    const { state, effects } = run({ type: "signal", signal: "SIGINT", drain: false });
    expect(state.phase).toBe(P.Closing);
    expect(effects).toEqual([E.MarkUnready, E.StopAccepting, E.StartInFlightDeadline]);
  });

  it("past the in-flight deadline it cuts the connections, then stops issuing, then releases", () => {
    const { state, effects } = run(
      sigterm,
      { type: "requestStarted" },
      { type: "drainElapsed" },
      { type: "deadline" },
    );
    expect(state.phase).toBe(P.Closed);
    expect(effects.slice(-3)).toEqual([E.ForceCloseConnections, E.StopIssuing, E.Release]);
    // The cut request's close event arrives later and must not release again.
    expect(shutdownStep(state, { type: "requestFinished" }).effects).toEqual([]);
  });

  it("ignores timers and callbacks that do not belong to the phase", () => {
    expect(run({ type: "drainElapsed" }).state).toEqual(INITIAL_SHUTDOWN_STATE);
    expect(run({ type: "deadline" }).state).toEqual(INITIAL_SHUTDOWN_STATE);
    expect(run({ type: "released" }).state).toEqual(INITIAL_SHUTDOWN_STATE);
    expect(run({ type: "listenerClosed" }).effects).toEqual([]);
    expect(run(sigterm, { type: "deadline" }).state.phase).toBe(P.Draining);
  });
});
