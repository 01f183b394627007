import { SERVER_TIME_UNCERTAINTY_MS } from "../../../contract/server-time.ts";
import { describe, expect, it } from "vitest";
import { userKubeConfig } from "../../../e2e/control-plane/test-namespace.ts";
import { silentLog } from "../log/operator-log.ts";
import { ApiServerClock } from "./api-server-clock.ts";
import { startApiServerClockProbe } from "./api-server-clock-probe.ts";

describe("the operator's clock probe against a real API server", () => {
  it("reads the Date header with an identity that has no RBAC grants, and finds one host clock in sync", async () => {
    const clock = new ApiServerClock();
    const offsets: number[] = [];
    const stop = startApiServerClockProbe(
      await userKubeConfig("clock-prober"),
      clock,
      silentLog,
      (offsetMs) => offsets.push(offsetMs),
    );
    try {
      await expect.poll(() => offsets.length, { timeout: 10_000 }).toBeGreaterThan(0);
    } finally {
      stop();
    }
    // The API server runs on this host: the proven offset is zero, and the correction is only
    // what the header's whole seconds leave open.
    expect(clock.provenOffsetMs()).toBe(0);
    const before = Date.now();
    expect(clock.notBehindMs()).toBeGreaterThanOrEqual(before);
    expect(clock.notBehindMs() - Date.now()).toBeLessThanOrEqual(SERVER_TIME_UNCERTAINTY_MS);
  });
});
