import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { querySntp } from "./sntp-client.ts";
import { SntpTestResponder } from "../../test-support/sntp-test-responder.ts";

// Loopback UDP against an in-process responder that can lie; the real-server test
// (chronyd) is sntp-chrony.int.test.ts.
describe("querySntp against a lying responder", () => {
  let responder: SntpTestResponder;
  beforeAll(async () => {
    responder = await SntpTestResponder.start();
  });
  afterAll(() => responder.close());
  const server = () => ({ host: "127.0.0.1", port: responder.port });

  it("measures an honest server as about zero offset", async () => {
    responder.behaviour = {};
    const sample = await querySntp(server());
    expect(Math.abs(sample.offsetMs)).toBeLessThan(20);
    expect(sample.roundTripMs).toBeGreaterThanOrEqual(0);
    expect(sample.roundTripMs).toBeLessThan(100);
  });

  it("sees a server 5 s ahead as the local clock 5 s behind", async () => {
    responder.behaviour = { lieMs: 5000 };
    expect((await querySntp(server())).offsetMs).toBeCloseTo(-5000, -2);
  });

  it("sees a skewed local clock", async () => {
    responder.behaviour = {};
    const sample = await querySntp(server(), { wallNow: () => Date.now() + 250 });
    expect(sample.offsetMs).toBeCloseTo(250, -2);
  });

  it.each([
    [{ unsynchronized: true }, /not synchronized/],
    [{ kissCode: "DENY" }, /kiss-o'-death from server: DENY/],
    [{ wrongOriginate: true }, /originate timestamp does not match/],
    [{ silent: true }, /no reply within 200 ms/],
  ])("rejects %o", async (behaviour, message) => {
    responder.behaviour = behaviour;
    await expect(querySntp(server(), { timeoutMs: 200 })).rejects.toThrow(message);
  });
});
