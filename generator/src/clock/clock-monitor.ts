import { performance } from "node:perf_hooks";
import type { NtpServer } from "../../../contract/generator-env.ts";
import type { ClockHealth } from "./clock-health.ts";
import { querySntp } from "./sntp-client.ts";
import type { SntpSample } from "./sntp-packet.ts";
import { readClocksTogether, WallJumpDetector } from "./wall-jump-detector.ts";

/** A wall-clock step larger than this (against the monotonic clock) counts as a jump. */
export const JUMP_THRESHOLD_MS = 10;
/** How often wall and monotonic clocks are compared. */
export const JUMP_CHECK_EVERY_MS = 500;
const QUERY_TIMEOUT_MS = 1000;

/** Server name as used in logs, metrics labels and messages. */
export function ntpServerName(server: NtpServer): string {
  return server.host.includes(":") ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

export interface ClockMonitorOptions {
  servers: readonly NtpServer[];
  pollSeconds: number;
  health: ClockHealth;
  onSample?: (server: string, sample: SntpSample) => void;
  onFailure?: (server: string, error: Error) => void;
  onJump?: (stepMs: number) => void;
}

/**
 * Polls the NTP servers every pollSeconds and watches for wall-clock jumps; feeds both
 * into ClockHealth. A jump triggers an immediate poll, so health recovers as soon as
 * the servers confirm the new time. Returns a stop function.
 */
export function startClockMonitor(options: ClockMonitorOptions): {
  stop: () => void;
  pollNow: () => Promise<void>;
} {
  const { servers, health } = options;
  let polling: Promise<void> | null = null;
  const pollNow = () => {
    polling ??= Promise.all(
      servers.map(async (server) => {
        const name = ntpServerName(server);
        try {
          const sample = await querySntp(server, { timeoutMs: QUERY_TIMEOUT_MS });
          health.recordSample(name, sample, performance.now());
          options.onSample?.(name, sample);
        } catch (error) {
          health.recordFailure(name, (error as Error).message);
          options.onFailure?.(name, error as Error);
        }
      }),
    ).then(() => {
      polling = null;
    });
    return polling;
  };
  const detector = new WallJumpDetector(JUMP_THRESHOLD_MS);
  const read = () => readClocksTogether(Date.now, () => performance.now());
  const first = read();
  if (first) detector.observe(first.wallMs, first.monoMs);
  const jumpTimer = setInterval(() => {
    const clocks = read();
    if (!clocks) return; // preempted between the reads: no evidence either way
    const step = detector.observe(clocks.wallMs, clocks.monoMs);
    if (step === 0) return;
    health.recordJump(step, performance.now());
    options.onJump?.(step);
    if (servers.length) void pollNow();
  }, JUMP_CHECK_EVERY_MS);
  jumpTimer.unref();
  let pollTimer: NodeJS.Timeout | undefined;
  if (servers.length) {
    void pollNow();
    pollTimer = setInterval(() => void pollNow(), options.pollSeconds * 1000);
    pollTimer.unref();
  }
  return {
    stop: () => {
      clearInterval(jumpTimer);
      clearInterval(pollTimer);
    },
    pollNow,
  };
}
