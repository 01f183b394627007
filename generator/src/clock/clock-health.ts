import type { ConditionStatus } from "../health/readiness-gate.ts";
import { OK } from "../health/readiness-gate.ts";
import type { SntpSample } from "./sntp-packet.ts";

/** Reason codes of the clock readiness condition. */
export const ClockReason = {
  Unsynced: "CLOCK_UNSYNCED",
  Drift: "CLOCK_DRIFT",
  Jump: "CLOCK_JUMP",
} as const;

export interface ClockHealthOptions {
  /** Server names (host:port), in configuration order. Empty: no NTP, offset unknown. */
  servers: readonly string[];
  maxDriftMs: number;
  /** A sample older than this (monotonic ms) no longer counts. */
  staleAfterMs: number;
}

/** The clock's state as the lease and /readyz see it. */
export interface ClockState {
  /** Local minus reference, ms (median of fresh samples); null when no NTP is configured or none answered. */
  offsetMs: number | null;
  healthy: boolean;
  status: ConditionStatus;
}

interface ServerRecord {
  sample: SntpSample | null;
  sampleMonoMs: number;
  lastError: string | null;
}

/**
 * Turns NTP samples and wall-clock jumps into clock health. With servers configured the
 * clock is healthy only when fresh samples exist, their median offset is within
 * maxDrift, and no jump happened since the newest sample. Without servers the offset
 * is unknown and only jumps are reported (as counts, not unreadiness: there is nothing
 * to say which clock was right, and the issuer already refuses to go back in time).
 */
export class ClockHealth {
  private readonly options: ClockHealthOptions;
  private readonly records = new Map<string, ServerRecord>();
  private lastJump: { monoMs: number; stepMs: number } | null = null;
  jumps = 0;

  constructor(options: ClockHealthOptions) {
    this.options = options;
    for (const server of options.servers)
      this.records.set(server, { sample: null, sampleMonoMs: -Infinity, lastError: null });
  }

  recordSample(server: string, sample: SntpSample, monoMs: number): void {
    this.records.set(server, { sample, sampleMonoMs: monoMs, lastError: null });
  }

  recordFailure(server: string, error: string): void {
    const record = this.records.get(server);
    if (record) record.lastError = error;
  }

  recordJump(stepMs: number, monoMs: number): void {
    this.jumps += 1;
    this.lastJump = { monoMs, stepMs };
  }

  evaluate(monoMs: number): ClockState {
    if (this.options.servers.length === 0) return { offsetMs: null, healthy: true, status: OK };
    const fresh = [...this.records.values()].filter(
      (r) => r.sample && monoMs - r.sampleMonoMs <= this.options.staleAfterMs,
    );
    if (fresh.length === 0) {
      const errors = [...this.records.entries()]
        .filter(([, r]) => r.lastError)
        .map(([server, r]) => `${server}: ${r.lastError}`);
      return unhealthy(
        null,
        ClockReason.Unsynced,
        `no recent NTP reply from ${this.options.servers.join(", ")}${errors.length ? ` (${errors.join("; ")})` : ""}`,
      );
    }
    const offsetMs = median(fresh.map((r) => (r.sample as SntpSample).offsetMs));
    const newest = Math.max(...fresh.map((r) => r.sampleMonoMs));
    if (this.lastJump && this.lastJump.monoMs >= newest) {
      return unhealthy(
        offsetMs,
        ClockReason.Jump,
        `the wall clock stepped ${this.lastJump.stepMs.toFixed(0)} ms against the monotonic clock; waiting for a fresh NTP sample`,
      );
    }
    if (Math.abs(offsetMs) > this.options.maxDriftMs) {
      return unhealthy(
        offsetMs,
        ClockReason.Drift,
        `clock offset ${offsetMs.toFixed(1)} ms exceeds the ${this.options.maxDriftMs} ms max drift`,
      );
    }
    return { offsetMs, healthy: true, status: OK };
  }
}

function unhealthy(offsetMs: number | null, reason: string, message: string): ClockState {
  return { offsetMs, healthy: false, status: { ok: false, reason, message } };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
