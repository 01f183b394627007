import { closeSync, openSync, readSync } from "node:fs";

/**
 * Milliseconds the calling thread has waited on a run queue for a CPU since it started, from
 * Linux's /proc/thread-self/schedstat (run ns, wait ns, timeslices), read with one pread
 * (under a microsecond). A wait is counted when the thread gets a CPU again, so a read by the
 * thread itself sees every wait before it. Undefined where the file does not exist. Open it
 * on the thread to be measured (the main thread).
 */
export function runqueueWaitClock(): { read: () => number; close: () => void } | undefined {
  let fd: number;
  try {
    fd = openSync("/proc/thread-self/schedstat", "r");
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(64);
  return {
    read() {
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      return Number(buffer.toString("latin1", 0, n).split(" ")[1]) / 1e6;
    },
    close: () => closeSync(fd),
  };
}
