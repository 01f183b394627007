import { setTimeout as sleep } from "node:timers/promises";
import { ApiException, type CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { LeaderElector } from "./leader-election.ts";

/*
 * Timing of the elector's own requests, against a scripted Lease API (the rules are
 * tested in leader-election-rules.test.ts, two real operators in operator/test/fleet-operator.int.test.ts).
 */

interface ScriptedApi {
  read: () => Promise<V1Lease>;
  write: (body: V1Lease) => Promise<V1Lease>;
}

function leaseApi(script: ScriptedApi): CoordinationV1Api {
  const api = {
    readNamespacedLease: () => script.read(),
    createNamespacedLease: ({ body }: { body: V1Lease }) => script.write(body),
    replaceNamespacedLease: ({ body }: { body: V1Lease }) => script.write(body),
  };
  return api as unknown as CoordinationV1Api;
}

const notFound = () => Promise.reject(new ApiException(404, "not found", {}, {}));
const never = () => new Promise<never>(() => undefined);
const stored = (body: V1Lease): V1Lease => ({
  ...body,
  metadata: { ...body.metadata, resourceVersion: "1" },
});

function elector(api: CoordinationV1Api, renewDeadlineMs: number, retryPeriodMs: number) {
  const events: string[] = [];
  const e = new LeaderElector(
    api,
    { namespace: "ns", name: "op", identity: "me", leaseDurationSeconds: 15, renewDeadlineMs, retryPeriodMs },
    {
      onStartedLeading: () => events.push("started"),
      onStoppedLeading: () => events.push("stopped"),
    },
  );
  return { e, events };
}

describe("LeaderElector timing", () => {
  it("counts its renew deadline from when the renewal was sent, not from a slow answer", async () => {
    let sentAt = 0;
    const { e, events } = elector(
      leaseApi({
        read: notFound,
        write: async (body) => {
          sentAt = performance.now();
          await sleep(450);
          return stored(body);
        },
      }),
      2_000,
      60_000,
    );
    const stop = new AbortController();
    const running = e.run(stop.signal);
    while (!events.includes("started")) await sleep(10);
    expect(e.isLeader).toBe(true);
    // Past the deadline from the send, though not from the answer (which came 450 ms later).
    await sleep(sentAt + 2_100 - performance.now());
    expect(e.isLeader).toBe(false);
    stop.abort();
    await running;
  });

  it("gives up leadership at the renew deadline while the API server hangs", async () => {
    let reads = 0;
    const { e, events } = elector(
      leaseApi({
        read: () => (++reads === 1 ? notFound() : never()),
        write: async (body) => stored(body),
      }),
      800,
      100,
    );
    const stop = new AbortController();
    const running = e.run(stop.signal);
    const started = performance.now();
    while (!events.includes("stopped") && performance.now() - started < 5_000) await sleep(20);
    expect(events).toEqual(["started", "stopped"]);
    // Each hanging read was abandoned after a quarter of the deadline, so it kept trying.
    expect(reads).toBeGreaterThan(2);
    stop.abort();
    await running;
  });
});
