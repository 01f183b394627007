import type { ClientClock, TimerHandle } from "../client-clock.ts";

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/** Lets every pending promise callback run (the client's async steps between timers). */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock that moves only when the test says so; timers fire in time order as it passes them. */
export class FakeClock implements ClientClock {
  private time: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(start = Date.parse("2026-06-01T00:00:00Z")) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms`, firing each timer due on the way and settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Advances `clock` 1 ms at a time until `promise` settles (at most `maxMs`); returns its value. */
export async function advanceUntil<T>(clock: FakeClock, promise: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => (done = true));
  watched.catch(() => {});
  for (let ms = 0; !done && ms < maxMs; ms++) await clock.advance(1);
  return watched;
}
