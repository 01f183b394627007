import { describe, expect, it } from "vitest";
import type { GetOutcome } from "./generator-transport.ts";
import { IdFleetUnavailableError } from "./client-errors.ts";
import { createIdClient } from "./id-client.ts";
import { advanceUntil, FakeClock } from "./test-support/fake-clock.ts";
import { FakeBehaviour, FakeFleet } from "./test-support/fake-fleet.ts";

/** A fake fleet whose requests are logged as [time, url]. */
function setup(addresses: string[], options: { maxAgeMs?: number; maxBatch?: number } = {}) {
  const clock = new FakeClock();
  const fleet = new FakeFleet(clock);
  addresses.forEach((a, k) => fleet.add(`http://${a}:8080`, k + 1));
  const requests: [number, string][] = [];
  const get = fleet.get.bind(fleet);
  fleet.get = (url: string, timeoutMs: number): Promise<GetOutcome> => {
    requests.push([clock.now(), url]);
    return get(url, timeoutMs);
  };
  let resolvable = [...addresses];
  const client = createIdClient({
    endpoints: ["http://ids.test:8080"],
    clock,
    transport: fleet,
    lookup: async () => resolvable,
    resolveEveryMs: 1000,
    failAfterMs: 2000,
    ...options,
  });
  return { clock, fleet, requests, client, setAddresses: (a: string[]) => (resolvable = a) };
}

const hosts = (requests: [number, string][]) => new Set(requests.map(([, url]) => new URL(url).hostname));

describe("IdClient", () => {
  it("spreads refills over every address of the name and follows the fleet as it scales", async () => {
    const { clock, fleet, client, requests, setAddresses } = setup(["10.0.0.1", "10.0.0.2"]);
    await advanceUntil(clock, client.take(50));
    await clock.advance(10);
    for (let k = 0; k < 2000; k++) await advanceUntil(clock, client.next());
    expect(hosts(requests)).toEqual(new Set(["ids.test", "10.0.0.1", "10.0.0.2"]));
    // Scale: 10.0.0.1 goes away, 10.0.0.3 comes; the next resolution (every 1000 ms) follows.
    fleet.add("http://10.0.0.3:8080", 3);
    setAddresses(["10.0.0.2", "10.0.0.3"]);
    await clock.advance(1500);
    const since = requests.length;
    for (let k = 0; k < 50; k++) {
      await advanceUntil(clock, client.take(500));
      await clock.advance(2);
    }
    expect(hosts(requests.slice(since))).toEqual(new Set(["10.0.0.2", "10.0.0.3"]));
    await client.close();
  });

  it("moves on from a FENCED endpoint and leaves it alone for its Retry-After", async () => {
    const { clock, fleet, client, requests } = setup(["10.0.0.1", "10.0.0.2"], {});
    await advanceUntil(clock, client.take(10));
    await clock.advance(10);
    fleet.generators.get("http://10.0.0.1:8080")!.behaviour = FakeBehaviour.Fenced;
    const fencedAt = clock.now();
    for (let k = 0; k < 200; k++) {
      await advanceUntil(clock, client.take(100));
      await clock.advance(5);
    }
    const toFenced = requests.filter(
      ([at, url]) => at > fencedAt && url.includes("10.0.0.1") && url.includes("/v1/ids"),
    );
    // At most the refill that got the 503, then probes one Retry-After (1 s) apart.
    expect(toFenced.length).toBeLessThanOrEqual(2);
    expect(client.stats().failovers).toBeGreaterThan(0);
    await client.close();
  });

  /** Three pods at 100 ms round trips (batches of four round trips of consumption), consumed steadily. */
  async function steadyConsumer() {
    const s = setup(["10.0.0.1", "10.0.0.2", "10.0.0.3"], {});
    for (const g of s.fleet.generators.values()) g.latencyMs = 100;
    let longestWaitMs = 0;
    /** 8 to 12 next() calls a millisecond for `ms`; returns the longest any call waited. */
    const consume = async (ms: number) => {
      longestWaitMs = 0;
      for (let t = 0; t < ms; t++) {
        const calledAt = s.clock.now();
        for (let n = 0; n < 10; n++)
          void s.client
            .next()
            .then(() => (longestWaitMs = Math.max(longestWaitMs, s.clock.now() - calledAt)));
        await s.clock.advance(1);
      }
      return longestWaitMs;
    };
    await consume(3000); // the cold start waits a round trip or two
    return { ...s, consume };
  }

  it("keeps a steady consumer's buffer from running dry while a pod refuses", async () => {
    const { client, fleet, consume } = await steadyConsumer();
    // Each refusal plans a refill out of turn, with the rate measured then.
    fleet.generators.get("http://10.0.0.3:8080")!.behaviour = FakeBehaviour.Fenced;
    expect(await consume(10_000)).toBe(0);
    await client.close();
  });

  it("asks another endpoint when refills hang, before the buffer runs dry", async () => {
    const { client, fleet, consume } = await steadyConsumer();
    // Scaled down: two pods gone without a reset while still in DNS; refills to them hang
    // until requestTimeoutMs (1000 ms), longer than the buffer's cover.
    for (const a of ["10.0.0.2", "10.0.0.3"])
      fleet.generators.get(`http://${a}:8080`)!.behaviour = FakeBehaviour.Hang;
    expect(await consume(5000)).toBe(0);
    expect(client.stats().failovers).toBeGreaterThan(0);
    await client.close();
  });

  it("rejects only after no endpoint served for failAfterMs, saying what it tried", async () => {
    const { clock, fleet, client } = setup(["10.0.0.1"]);
    await advanceUntil(clock, client.next());
    fleet.generators.get("http://10.0.0.1:8080")!.behaviour = FakeBehaviour.Down;
    await clock.advance(6000); // the buffer goes stale
    let outcome: unknown;
    client.next().then(
      (id) => (outcome = id),
      (error: unknown) => (outcome = error),
    );
    await clock.advance(1900);
    expect(outcome).toBeUndefined();
    await clock.advance(200);
    expect(outcome).toBeInstanceOf(IdFleetUnavailableError);
    expect((outcome as Error).message).toMatch(
      /no idfleet endpoint served IDs for 2000 ms \(configured: http:\/\/ids.test:8080\); tried: http:\/\/10.0.0.1:8080 \(open.*last: unreachable: ECONNREFUSED\)/,
    );
    await client.close();
  });

  it("learns the layout from the fleet and refuses an endpoint of another id space", async () => {
    const { clock, fleet, client } = setup(["10.0.0.1", "10.0.0.2"]);
    fleet.idSpaceOf = (url) => (url.includes("10.0.0.2") ? "other" : "default");
    expect(await advanceUntil(clock, client.layout())).toMatchObject({ layout: { sequenceBits: 7 } });
    const id = await advanceUntil(clock, client.nextBigInt());
    expect(client.decode(id)).toMatchObject({ workerId: 1 });
    for (let k = 0; k < 50; k++) {
      await advanceUntil(clock, client.take(200));
      await clock.advance(20);
    }
    const stats = client.stats();
    // 10.0.0.2 serves another id space: never used. (ids.test stood for both until resolved.)
    expect(stats.usableEndpoints).toBe(1);
    expect(stats.endpoints).toBe(2);
    const { min, max } = client.bounds(
      Date.parse("2026-01-01T00:00:00Z"),
      Date.parse("2026-01-01T00:00:00.001Z"),
    );
    expect(max - min).toBe((1n << 22n) - 1n);
    await client.close();
  });

  it("serves a waiting take(n) before next() calls that came after it", async () => {
    // Batches of at most 500 land one by one: the take needs several while next() calls keep coming.
    const { clock, client } = setup(["10.0.0.1"], { maxBatch: 500 });
    await advanceUntil(clock, client.take(100));
    let taken: string[] | undefined;
    void client.take(4000).then((ids) => (taken = ids));
    const later: Promise<string>[] = [];
    for (let k = 0; k < 20 && !taken; k++) {
      for (let n = 0; n < 500; n++) later.push(client.next());
      await clock.advance(1);
    }
    expect(taken).toHaveLength(4000);
    const ids = [...taken!, ...(await advanceUntil(clock, Promise.all(later)))];
    expect(new Set(ids).size).toBe(ids.length);
    await client.close();
  });

  it("drops IDs older than maxAgeMs and reports them", async () => {
    const dropped: number[] = [];
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock);
    fleet.add("http://10.0.0.1:8080", 1);
    const client = createIdClient({
      endpoints: ["http://10.0.0.1:8080"],
      clock,
      transport: fleet,
      maxAgeMs: 100,
      events: { staleDrop: ({ ids }) => dropped.push(ids) },
    });
    await advanceUntil(clock, client.next());
    const buffered = client.stats().buffered;
    expect(buffered).toBeGreaterThan(0);
    await clock.advance(100);
    expect(dropped).toEqual([buffered]);
    expect(client.stats()).toMatchObject({ buffered: 0, droppedStale: buffered });
    await client.close();
    await expect(client.next()).rejects.toThrow(/closed/);
  });

  it("keeps refills ahead of a steady consumer whose rate wobbles: no call finds the buffer empty", async () => {
    const { clock, client, requests } = setup(["10.0.0.1"]);
    await advanceUntil(clock, client.next());
    const calls: Promise<string>[] = [];
    const consume = async (ms: number) => {
      for (let t = 0; t < ms; t++) {
        // 40 to 160 IDs a millisecond, so the rate estimate and the low watermark move.
        const n = 100 + Math.round(60 * Math.sin(t / 7));
        for (let k = 0; k < n; k++) calls.push(client.next());
        await clock.advance(1);
      }
    };
    await consume(500); // the ramp-up from a cold buffer may wait
    const { waited } = client.stats();
    const since = requests.length;
    await consume(1500);
    expect(client.stats().waited).toBe(waited);
    expect(requests.length).toBeGreaterThan(since);
    const ids = await advanceUntil(clock, Promise.all(calls));
    expect(new Set(ids).size).toBe(ids.length);
    await client.close();
  });
});
