import { afterEach, describe, expect, it } from "vitest";
import { layoutMath } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import { ClockHealth } from "../clock/clock-health.ts";
import { Issuer } from "../issuing/issuer.ts";
import { GeneratorTelemetry } from "./generator-telemetry.ts";

describe("GeneratorTelemetry", () => {
  let telemetry: GeneratorTelemetry | undefined;
  afterEach(() => telemetry?.stop());

  it("snapshots clock state, utilization and exhaustions for the lease", async () => {
    const math = layoutMath(
      parseIdLayout({ timestampBits: 51, workerIdBits: 4, sequenceBits: 8, timeUnitMs: 10 }),
    );
    const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
    issuer.setFence({ floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity });
    const clock = new ClockHealth({ servers: ["a:123"], maxDriftMs: 100, staleAfterMs: 60_000 });
    clock.recordSample("a:123", { offsetMs: 12.5, roundTripMs: 1, stratum: 2 }, performance.now());
    telemetry = new GeneratorTelemetry(issuer, clock, 10_000);
    telemetry.start();
    // Fill one whole tick (256 IDs) and run into its end once.
    const now = Date.now();
    issuer.next(256, now, performance.now());
    issuer.next(1, now, performance.now());
    await new Promise((r) => setTimeout(r, 50));
    telemetry.sample();
    const snapshot = telemetry.snapshot();
    expect(snapshot).toMatchObject({
      clockOffsetMs: 12.5,
      clockHealthy: true,
      sequenceUtilizationPeak: 1,
      sequenceExhaustions: 1,
    });
    expect(snapshot.sequenceUtilization).toBeGreaterThan(0);
    expect(snapshot.sequenceUtilization).toBeLessThanOrEqual(1);
  });
});
