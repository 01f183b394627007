/** A timer handle as the clock hands it out (Node's Timeout, or a fake's number). */
export type TimerHandle = unknown;

/**
 * Time as the client sees it: wall-clock milliseconds and one-shot timers. A port, so
 * property tests drive the real client with a fake clock through any interleaving.
 */
export interface ClientClock {
  now(): number;
  /** `keepAlive`: the timer keeps the process running (a call is waiting on it). */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Timers are unref'd unless `keepAlive`: an idle client never keeps a
 * process alive, but one with calls waiting does, until they settle.
 */
export const systemClock: ClientClock = {
  now: () => Date.now(),
  setTimeout(callback, ms, keepAlive = false) {
    const timer = setTimeout(callback, ms);
    if (!keepAlive) timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
