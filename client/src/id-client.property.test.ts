import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdFleetUnavailableError } from "./client-errors.ts";
import { createIdClient, type IdClient } from "./id-client.ts";
import { FakeClock } from "./test-support/fake-clock.ts";
import { FakeBehaviour, FakeFleet } from "./test-support/fake-fleet.ts";

/*
 * The real client driven by fast-check through interleavings of concurrent callers, clock
 * steps, generators failing in every way mid-batch and DNS changes, on a fake clock and
 * fake generators that record every ID they issue.
 */

const MAX_AGE_MS = 1000;
const FAIL_AFTER_MS = 3000;
const TIMEOUT_MS = 300;
const ADDRESSES = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
const BEHAVIOURS = Object.values(FakeBehaviour);

type Command =
  | { op: "next" | "bigint"; n: number }
  | { op: "take"; n: number }
  | { op: "burst"; n: number }
  | { op: "trickle"; n: number; ms: number }
  | { op: "advance"; ms: number }
  | { op: "behave"; g: number; b: FakeBehaviour }
  | { op: "latency"; g: number; ms: number }
  | { op: "dns"; addresses: number[] };

const commands = (faultyGenerators: number[]) =>
  fc.array(
    fc.oneof(
      fc.record({
        op: fc.constantFrom("next" as const, "bigint" as const),
        n: fc.integer({ min: 1, max: 30 }),
      }),
      fc.record({ op: fc.constant("take" as const), n: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ op: fc.constant("burst" as const), n: fc.integer({ min: 1, max: 5000 }) }),
      fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 2500 }) }),
      fc.record({
        op: fc.constant("trickle" as const),
        n: fc.integer({ min: 1, max: 200 }),
        ms: fc.integer({ min: 1, max: 100 }),
      }),
      fc.record({
        op: fc.constant("behave" as const),
        g: fc.constantFrom(...faultyGenerators),
        b: fc.constantFrom(...BEHAVIOURS),
      }),
      fc.record({
        op: fc.constant("latency" as const),
        g: fc.constantFrom(...faultyGenerators),
        ms: fc.integer({ min: 0, max: 500 }),
      }),
      fc.record({
        op: fc.constant("dns" as const),
        addresses: fc.subarray(faultyGenerators, { minLength: 0 }),
      }),
    ),
    { maxLength: 40 },
  );

interface Delivery {
  id: bigint;
  at: number;
}

/** Runs `script` against a fresh client; returns what every call got. */
async function run(script: Command[], alwaysHealthy: number | undefined) {
  const clock = new FakeClock();
  const fleet = new FakeFleet(clock);
  ADDRESSES.forEach((address, k) => fleet.add(`http://${address}:8080`, k + 1));
  let resolvable = ADDRESSES.map((_, k) => k);
  const client: IdClient = createIdClient({
    endpoints: ["http://ids.test:8080"],
    maxAgeMs: MAX_AGE_MS,
    failAfterMs: FAIL_AFTER_MS,
    requestTimeoutMs: TIMEOUT_MS,
    resolveEveryMs: 500,
    minBatch: 16,
    maxBatch: 5000,
    clock,
    transport: fleet,
    lookup: async () => resolvable.map((k) => ADDRESSES[k] as string),
  });
  const delivered: Delivery[] = [];
  const rejections: unknown[] = [];
  let pending = 0;
  const track = <T>(promise: Promise<T>, record: (value: T) => void) => {
    pending++;
    promise.then(
      (value) => {
        pending--;
        record(value);
      },
      (error: unknown) => {
        pending--;
        rejections.push(error);
      },
    );
  };
  const one = (id: bigint) => delivered.push({ id, at: clock.now() });
  for (const c of script) {
    switch (c.op) {
      case "next":
        for (let k = 0; k < c.n; k++) track(client.next(), (s) => one(BigInt(s)));
        break;
      case "bigint":
        for (let k = 0; k < c.n; k++) track(client.nextBigInt(), one);
        break;
      case "take":
        track(client.take(c.n), (ids) => {
          expect(ids).toHaveLength(c.n);
          const values = ids.map(BigInt);
          for (let k = 1; k < values.length; k++) expect(values[k]! > values[k - 1]!).toBe(true);
          values.forEach(one);
        });
        break;
      case "burst":
        // A hot loop: calls made back to back, each awaited, no time passing.
        track(
          (async () => {
            for (let k = 0; k < c.n; k++) one(BigInt(await client.next()));
          })(),
          () => {},
        );
        break;
      case "trickle":
        // A slow consumer: one call, then time passes.
        for (let k = 0; k < c.n; k++) {
          track(client.next(), (s) => one(BigInt(s)));
          await clock.advance(c.ms);
        }
        break;
      case "advance":
        await clock.advance(c.ms);
        break;
      case "behave":
        fleet.generators.get(`http://${ADDRESSES[c.g]}:8080`)!.behaviour = c.b;
        break;
      case "latency":
        fleet.generators.get(`http://${ADDRESSES[c.g]}:8080`)!.latencyMs = c.ms;
        break;
      case "dns":
        resolvable =
          alwaysHealthy === undefined ? c.addresses : [...new Set([alwaysHealthy, ...c.addresses])];
        break;
    }
  }
  // Every call settles within the failure bound, even with every generator broken now.
  for (let k = 0; k < 40 && pending > 0; k++) await clock.advance(FAIL_AFTER_MS / 4);
  const stats = client.stats();
  await client.close();
  return { fleet, delivered, rejections, pending, stats };
}

function checkNeverTwice(fleet: FakeFleet, delivered: Delivery[]) {
  const seen = new Set<bigint>();
  for (const { id, at } of delivered) {
    expect(seen.has(id), `ID ${id} handed out twice`).toBe(false);
    seen.add(id);
    const requestedAt = fleet.issued.get(id);
    expect(requestedAt, `ID ${id} was never issued`).toBeDefined();
    expect(at - requestedAt!, `ID ${id} handed out ${at - requestedAt!} ms after its request`).toBeLessThan(
      MAX_AGE_MS,
    );
  }
}

describe("IdClient with fake generators and a fake clock", () => {
  it("never hands out an ID twice, nor one it was not issued, nor one older than maxAgeMs; every call settles", async () => {
    await fc.assert(
      fc.asyncProperty(commands([0, 1, 2]), async (script) => {
        const { fleet, delivered, rejections, pending } = await run(script, undefined);
        checkNeverTwice(fleet, delivered);
        expect(pending).toBe(0);
        for (const error of rejections) {
          expect(error).toBeInstanceOf(IdFleetUnavailableError);
          expect((error as Error).message).toMatch(/no idfleet endpoint served IDs for 3000 ms.*tried: /);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it("rejects nothing while one generator stays healthy and resolvable, whatever the others do", async () => {
    await fc.assert(
      fc.asyncProperty(commands([1, 2]), async (script) => {
        const { fleet, delivered, rejections, pending } = await run(script, 0);
        checkNeverTwice(fleet, delivered);
        expect(pending).toBe(0);
        expect(rejections).toEqual([]);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
