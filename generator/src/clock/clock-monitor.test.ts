import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SntpTestResponder } from "../../test-support/sntp-test-responder.ts";
import { ClockHealth, ClockReason } from "./clock-health.ts";
import { ntpServerName, startClockMonitor } from "./clock-monitor.ts";

// The monitor polls a loopback responder whose lies drive the clock's readiness.
describe("startClockMonitor", () => {
  let responder: SntpTestResponder;
  beforeAll(async () => {
    responder = await SntpTestResponder.start();
  });
  afterAll(() => responder.close());

  it("turns a lying server into CLOCK_DRIFT and an honest one back into healthy", async () => {
    const server = { host: "127.0.0.1", port: responder.port };
    const name = ntpServerName(server);
    const health = new ClockHealth({ servers: [name], maxDriftMs: 100, staleAfterMs: 60_000 });
    const seen: number[] = [];
    responder.behaviour = { lieMs: 2000 };
    const monitor = startClockMonitor({
      servers: [server],
      pollSeconds: 3600,
      health,
      onSample: (_server, sample) => seen.push(sample.offsetMs),
    });
    try {
      await monitor.pollNow();
      expect(health.evaluate(performance.now()).status).toMatchObject({
        ok: false,
        reason: ClockReason.Drift,
      });
      expect(seen[0]).toBeCloseTo(-2000, -2);
      responder.behaviour = {};
      await monitor.pollNow();
      expect(health.evaluate(performance.now())).toMatchObject({ healthy: true });
      expect(Math.abs(health.evaluate(performance.now()).offsetMs as number)).toBeLessThan(50);
    } finally {
      monitor.stop();
    }
  });

  it("reports failures of a silent server as unsynced", async () => {
    const server = { host: "127.0.0.1", port: responder.port };
    const health = new ClockHealth({
      servers: [ntpServerName(server)],
      maxDriftMs: 100,
      staleAfterMs: 60_000,
    });
    const failures: string[] = [];
    responder.behaviour = { silent: true };
    const monitor = startClockMonitor({
      servers: [server],
      pollSeconds: 3600,
      health,
      onFailure: (_server, error) => failures.push(error.message),
    });
    try {
      await monitor.pollNow();
      expect(failures[0]).toMatch(/no reply within/);
      expect(health.evaluate(performance.now()).status).toMatchObject({
        ok: false,
        reason: ClockReason.Unsynced,
      });
    } finally {
      monitor.stop();
    }
  });

  it("names IPv6 servers with brackets", () => {
    expect(ntpServerName({ host: "::1", port: 123 })).toBe("[::1]:123");
    expect(ntpServerName({ host: "time.example", port: 123 })).toBe("time.example:123");
  });
});
