import {
  ClockReference,
  offsetBoundsOf,
  offsetExceeds,
  provenOffsetMs,
  type OffsetBounds,
  type ServerTimeSample,
} from "../../../contract/server-time.ts";
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
  /** Server names (host:port), in configuration order. Empty: no NTP, the API server's clock is the reference. */
  servers: readonly string[];
  maxDriftMs: number;
  /** A sample older than this (monotonic ms) no longer counts. */
  staleAfterMs: number;
}

/** The clock's state as the lease and /readyz see it. */
export interface ClockState {
  /**
   * Local minus reference, ms: the median of fresh NTP samples; without NTP the offset nearest
   * zero that the API server's `Date` allows; null when no fresh sample exists.
   */
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
 * maxDrift, and no jump happened since the newest sample. Without servers the API
 * server's `Date` headers are the reference (contract/server-time.ts): the clock is
 * unhealthy when the newest answer proves it more than maxDrift ahead; with no fresh
 * answer the offset is unknown and the clock counts as healthy, since a holder that
 * cannot reach the API server stops issuing when its lease runs out anyway.
 */
export class ClockHealth {
  private readonly options: ClockHealthOptions;
  private readonly records = new Map<string, ServerRecord>();
  private lastJump: { monoMs: number; stepMs: number } | null = null;
  private serverTime: { bounds: OffsetBounds; monoMs: number } | null = null;
  jumps = 0;
  /** Bumped by every sample, failure and jump, so cached evaluations know they are stale. */
  revision = 0;

  constructor(options: ClockHealthOptions) {
    this.options = options;
    for (const server of options.servers)
      this.records.set(server, { sample: null, sampleMonoMs: -Infinity, lastError: null });
  }

  recordSample(server: string, sample: SntpSample, monoMs: number): void {
    this.revision++;
    this.records.set(server, { sample, sampleMonoMs: monoMs, lastError: null });
  }

  recordFailure(server: string, error: string): void {
    this.revision++;
    const record = this.records.get(server);
    if (record) record.lastError = error;
  }

  /** An API server answer's `Date`; answers too slow to say much are ignored. */
  recordServerTime(sample: ServerTimeSample, monoMs: number): void {
    const bounds = offsetBoundsOf(sample);
    if (!bounds) return;
    this.serverTime = { bounds, monoMs };
    this.revision++;
  }

  recordJump(stepMs: number, monoMs: number): void {
    this.jumps += 1;
    this.revision++;
    this.lastJump = { monoMs, stepMs };
  }

  evaluate(monoMs: number): ClockState {
    if (this.options.servers.length === 0) return this.evaluateAgainstServerTime(monoMs);
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

  private evaluateAgainstServerTime(monoMs: number): ClockState {
    const reference = this.serverTime;
    const fresh =
      reference !== null &&
      monoMs - reference.monoMs <= this.options.staleAfterMs &&
      !(this.lastJump && this.lastJump.monoMs >= reference.monoMs);
    if (!fresh) return { offsetMs: null, healthy: true, status: OK };
    const offsetMs = provenOffsetMs(reference.bounds);
    if (offsetExceeds(offsetMs, this.options.maxDriftMs, ClockReference.ApiServer)) {
      return unhealthy(
        offsetMs,
        ClockReason.Drift,
        `clock is at least ${offsetMs.toFixed(0)} ms ahead of the API server's (max drift ${this.options.maxDriftMs} ms; no NTP servers configured): fix time sync on this node (chrony/ntpd), or name NTP servers in spec.clock.ntpServers`,
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
