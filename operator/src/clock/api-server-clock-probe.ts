import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ServerTimeSample } from "../../../contract/server-time.ts";
import type { OperatorLog } from "../log/operator-log.ts";
import type { ApiServerClock } from "./api-server-clock.ts";

/** How often the operator compares its clock with the API server's. */
export const CLOCK_PROBE_EVERY_MS = 10_000;
const PROBE_TIMEOUT_MS = 2000;
/** A proven offset beyond this is logged: floors absorb it, but the node's time sync is broken. */
const WARN_OFFSET_MS = 1000;

/**
 * Feeds `clock` from `GET /version` (readable by every identity, `system:public-info-viewer`)
 * now and every CLOCK_PROBE_EVERY_MS; the `Date` header is what counts. A failed probe keeps
 * the last answer. Returns a stop function.
 */
export function startApiServerClockProbe(
  kubeConfig: KubeConfig,
  clock: ApiServerClock,
  log: OperatorLog,
  onOffset: (offsetMs: number) => void = () => {},
): () => void {
  const probe = async () => {
    try {
      const sample = await serverTimeOf(kubeConfig);
      if (!sample || !clock.record(sample)) return;
      const offsetMs = clock.provenOffsetMs() ?? 0;
      onOffset(offsetMs);
      if (Math.abs(offsetMs) > WARN_OFFSET_MS)
        log("warn", "the operator's clock is off the API server's; lost-state floors are moved to cover it", {
          provenOffsetMs: offsetMs,
        });
    } catch (error) {
      log("warn", "clock probe of the API server failed", { err: (error as Error).message });
    }
  };
  void probe();
  const timer = setInterval(() => void probe(), CLOCK_PROBE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** One `GET /version` with the kubeconfig's credentials; its Date header and local send/receive times. */
async function serverTimeOf(kubeConfig: KubeConfig): Promise<ServerTimeSample | null> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) return null;
  const url = new URL("/version", server);
  const options: RequestOptions = {
    method: "GET",
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port,
    path: url.pathname,
    timeout: PROBE_TIMEOUT_MS,
  };
  await kubeConfig.applyToHTTPSOptions(options);
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const sentWallMs = Date.now();
    const req = send(options, (res) => {
      const receivedWallMs = Date.now();
      const serverDateMs = res.headers.date ? Date.parse(res.headers.date) : NaN;
      res.resume();
      res.on("end", () =>
        resolve(Number.isNaN(serverDateMs) ? null : { sentWallMs, receivedWallMs, serverDateMs }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url.origin} in ${PROBE_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}
