// Why a call to next() took long: what the client could change (an empty buffer, its own
// work) as opposed to what no client design avoids (a GC pause, this process descheduled).
import { PerformanceObserver } from "node:perf_hooks";

/** One slow call, and what was seen around it. */
export interface SlowCall {
  /** performance.now() when the call started, and how long it took (ms). */
  startMs: number;
  durationMs: number;
  /** The client counted a call that found its buffer empty meanwhile. */
  missed: boolean;
  /** Milliseconds the main thread waited for a CPU during the stretch of calls around it (-1: unknown). */
  runqueueWaitMs: number;
}

/** A main-thread GC pause as performance.now() times. */
export interface GcPause {
  startMs: number;
  durationMs: number;
}

export const SlowCallCause = {
  /** The buffer was empty: refills did not stay ahead (the client's doing). */
  Miss: "buffer miss",
  /** A GC pause covered at least half of it. */
  Gc: "GC pause",
  /** The main thread waited for a CPU for at least half of it (other processes' doing). */
  Descheduled: "descheduled",
  /** None of the above: the client's or the consumer's own work. */
  Other: "other",
} as const;
export type SlowCallCause = (typeof SlowCallCause)[keyof typeof SlowCallCause];

/** The cause of one slow call, in the order above (a miss counts first: the client could avoid it). */
export function causeOf(call: SlowCall, pauses: readonly GcPause[]): SlowCallCause {
  if (call.missed) return SlowCallCause.Miss;
  const end = call.startMs + call.durationMs;
  let paused = 0;
  for (const p of pauses) {
    paused += Math.max(0, Math.min(end, p.startMs + p.durationMs) - Math.max(call.startMs, p.startMs));
  }
  if (paused >= call.durationMs / 2) return SlowCallCause.Gc;
  if (call.runqueueWaitMs >= call.durationMs / 2) return SlowCallCause.Descheduled;
  return SlowCallCause.Other;
}

/** How many slow calls had each cause. */
export function countCauses(calls: readonly SlowCall[], pauses: readonly GcPause[]) {
  const counts: Record<SlowCallCause, number> = { "buffer miss": 0, "GC pause": 0, descheduled: 0, other: 0 };
  for (const call of calls) counts[causeOf(call, pauses)]++;
  return counts;
}

/** Records the main thread's GC pauses until stopped. */
export function recordGcPauses(): { pauses: GcPause[]; stop: () => void } {
  const pauses: GcPause[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ startMs: e.startTime, durationMs: e.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  return { pauses, stop: () => observer.disconnect() };
}
