import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { performance } from "node:perf_hooks";
import type { NtpServer } from "../../../contract/generator-env.ts";
import { buildSntpRequest, parseSntpReply, sntpSample, type SntpSample } from "./sntp-packet.ts";

export interface SntpQueryOptions {
  timeoutMs?: number;
  /** Local wall clock (Unix ms); injectable so tests can skew it. */
  wallNow?: () => number;
}

/**
 * Asks one server for the time over UDP (one request, one reply) and returns the
 * measured offset and round trip. The reply time is the send time plus the elapsed
 * monotonic time, so a wall-clock step during the exchange cannot distort it.
 * Rejects on timeout, socket errors and unusable replies, with the reason.
 */
export function querySntp(server: NtpServer, options: SntpQueryOptions = {}): Promise<SntpSample> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const wallNow = options.wallNow ?? Date.now;
  const where = `${server.host}:${server.port}`;
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    let t1 = 0;
    let sentMono = 0;
    let request: Buffer | undefined;
    let done = false;
    const finish = (error: Error | null, sample?: SntpSample) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(new Error(`NTP ${where}: ${error.message}`));
      else resolve(sample as SntpSample);
    };
    const timer = setTimeout(() => finish(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (error) => finish(error));
    socket.on("message", (reply) => {
      const t4 = t1 + (performance.now() - sentMono);
      if (!request) return;
      try {
        finish(null, sntpSample(t1, parseSntpReply(reply, request), t4));
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.connect(server.port, server.host, () => {
      t1 = wallNow();
      sentMono = performance.now();
      request = buildSntpRequest(t1);
      socket.send(request, (error) => {
        if (error) finish(error);
      });
    });
  });
}
