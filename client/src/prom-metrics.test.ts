import * as prom from "prom-client";
import { describe, expect, it } from "vitest";
import { createIdClient } from "./id-client.ts";
import { registerPromMetrics } from "./prom-metrics.ts";
import { advanceUntil, FakeClock } from "./test-support/fake-clock.ts";
import { FakeFleet } from "./test-support/fake-fleet.ts";

describe("registerPromMetrics", () => {
  it("exports the client's stats through the application's own prom-client", async () => {
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock);
    fleet.add("http://10.0.0.1:8080", 1);
    const client = createIdClient({ endpoints: ["http://10.0.0.1:8080"], clock, transport: fleet });
    const registry = new prom.Registry();
    registerPromMetrics(client, prom, { registers: [registry] });
    await advanceUntil(clock, client.take(10));
    const text = await registry.metrics();
    expect(text).toMatch(
      /# TYPE idfleet_client_delivered_total counter\nidfleet_client_delivered_total 10\n/,
    );
    expect(text).toMatch(/idfleet_client_refills_total 1\n/);
    expect(text).toMatch(/# TYPE idfleet_client_buffered gauge\nidfleet_client_buffered \d+\n/);
    expect(text).toMatch(/idfleet_client_usable_endpoints 1\n/);
    await client.close();
  });
});
