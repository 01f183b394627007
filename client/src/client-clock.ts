/** A timer handle as the clock hands it out (Node's Timeout, or a fake's number). */
export type TimerHandle = unknown;

/**
 * Time as the client sees it: wall-clock milliseconds and one-shot timers. A port, so
 * property tests drive the real client with a fake clock through any interleaving.
 */
export interface ClientClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Timers are unref'd: a client never keeps a process alive on its own. */
export const systemClock: ClientClock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
