import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChronyServer, type ChronyServer } from "../../test-support/chrony-server.ts";
import { querySntp } from "./sntp-client.ts";

// A real NTP server (Debian's chronyd) on loopback, started by this test.
describe("querySntp against chronyd", () => {
  let chrony: ChronyServer;
  beforeAll(async () => {
    chrony = await startChronyServer();
  }, 30_000);
  afterAll(() => chrony?.stop());

  it("measures the shared clock as about zero offset with a small round trip", async () => {
    const sample = await querySntp({ host: "127.0.0.1", port: chrony.port });
    expect(sample.stratum).toBe(8);
    expect(Math.abs(sample.offsetMs)).toBeLessThan(10);
    expect(sample.roundTripMs).toBeLessThan(50);
  });

  it("measures a skewed local clock by the skew", async () => {
    const sample = await querySntp(
      { host: "127.0.0.1", port: chrony.port },
      { wallNow: () => Date.now() - 400 },
    );
    expect(sample.offsetMs).toBeGreaterThan(-410);
    expect(sample.offsetMs).toBeLessThan(-390);
  });
});
