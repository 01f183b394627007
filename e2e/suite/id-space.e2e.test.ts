/**
 * One id space, one layout, on a real cluster (docs/design.md, invariant 8). The report this reproduces:
 * two fleets share an id space with disjoint worker-id ranges but different layouts, epochs chosen so
 * their bit patterns coincide right now; before the fix both became Ready and minted millions of the
 * same IDs. Here the second fleet, in another namespace, gets no worker id (LayoutConflict) and issues
 * nothing. Then a declared successor takes the space over under load, and every ID both layouts issued
 * is audited: unique, and every successor ID above every predecessor ID.
 */
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { FleetConditionType, FleetResource } from "../../contract/fleet-spec.ts";
import { parseIdString } from "../../contract/id-layout-math.ts";
import { k, kJson } from "../../cluster/client/cluster-access.ts";
import { fetchIdsThroughService } from "../../cluster/client/fleet-ids-client.ts";
import {
  applyFleet,
  getFleet,
  waitForFleetReady,
  type FleetObject,
} from "../../cluster/client/fleet-resources.ts";
import { installOperator } from "../../cluster/client/operator-install.ts";
import { waitFor } from "../../cluster/client/wait-for.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";

const east = useE2eNamespace("e2e-space-east");
const west = useE2eNamespace("e2e-space-west");
const idSpace = `orders-${randomBytes(3).toString("hex")}`;

// Short leases, so the old layout's reservations expire in seconds.
const LEASES = {
  durationSeconds: 6,
  renewIntervalSeconds: 2,
  safetyMarginSeconds: 2,
  reclaimGraceSeconds: 1,
  reserveAheadMs: 3000,
};
const DEFAULT_EPOCH_MS = Date.parse("2024-01-01T00:00:00Z");

/**
 * A 42/9/12 layout whose IDs coincide with the default 41/10/12 layout's about now: worker 512 at tick t
 * of the default layout is worker 0 at tick 2t+1 of this one, so the epoch is 2·E - now - 1 ms.
 */
function collidingLayout(nowMs: number) {
  const epochMs = 2 * DEFAULT_EPOCH_MS - nowMs - 1;
  return {
    timestampBits: 42,
    workerIdBits: 9,
    sequenceBits: 12,
    timeUnitMs: 1,
    epoch: new Date(epochMs).toISOString(),
  };
}

function fleet(name: string, spec: Record<string, unknown>) {
  return { apiVersion: FleetResource.apiVersion, kind: FleetResource.kind, metadata: { name }, spec };
}

const condition = (f: FleetObject, type: string) => f.status?.conditions?.find((c) => c.type === type);

describe("an id space on a real cluster", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("a fleet of another layout in another namespace issues nothing, and a declared successor takes over above every old ID", async () => {
    // Fleet a: the default layout, worker ids 512-1023.
    await applyFleet(
      east.name,
      fleet("a", {
        replicas: 2,
        leases: LEASES,
        idSpace: { name: idSpace, workerIdRange: { min: 512, max: 1023 } },
      }),
    );
    await waitForFleetReady(east.name, "a", 240_000);

    // Fleet b: same id space, disjoint range, a layout whose IDs equal a's right now.
    await applyFleet(
      west.name,
      fleet("b", {
        replicas: 2,
        leases: LEASES,
        layout: collidingLayout(Date.now() + 30_000),
        idSpace: { name: idSpace, workerIdRange: { min: 0, max: 511 } },
      }),
    );
    const b = await waitFor(
      "LayoutConflict on b",
      async () => {
        const f = await getFleet(west.name, "b");
        if (condition(f, FleetConditionType.LayoutConflict)?.status !== "True") throw new Error("not yet");
        return f;
      },
      { timeoutMs: 60_000 },
    );
    expect(condition(b, FleetConditionType.LayoutConflict)?.message).toMatch(
      /42\/9\/12 bits.*layoutSuccession/,
    );
    expect(condition(b, FleetConditionType.Ready)?.status).toBe("False");
    const events = await k(["get", "events", "-n", west.name, "--field-selector", "reason=LayoutConflict"]);
    expect(events).toMatch(/LayoutConflict/);

    // While a serves, b has no pod that could issue: nothing of b's layout exists to collide with.
    const fromA = await fetchIdsThroughService(east.name, "a", 20_000, { requests: 20 });
    expect(new Set(fromA).size).toBe(fromA.length);
    const bPods = await kJson<{ items: unknown[] }>([
      "get",
      "pods",
      "-n",
      west.name,
      "-l",
      "idfleet.dev/fleet=b",
    ]);
    expect(bPods.items).toEqual([]);
    const bLeases = await kJson<{ items: unknown[] }>([
      "get",
      "configmaps",
      "-n",
      west.name,
      "-l",
      "app.kubernetes.io/component=worker-lease",
    ]);
    expect(bLeases.items).toEqual([]);

    // A new layout for the same tables: more worker bits, declared as the space's successor.
    await applyFleet(
      west.name,
      fleet("c", {
        replicas: 2,
        leases: LEASES,
        layout: { timestampBits: 40, workerIdBits: 11, sequenceBits: 12 },
        idSpace: { name: idSpace, layoutSuccession: true },
      }),
    );
    await waitFor(
      "succession waiting for the old layout",
      async () => {
        const f = await getFleet(west.name, "c");
        if (condition(f, FleetConditionType.LayoutConflict)?.reason !== "SuccessionWaiting")
          throw new Error("not yet");
        return f;
      },
      { timeoutMs: 60_000 },
    );
    // b would block the succession only while it held ids; it never did. a keeps serving until it is scaled away.
    const beforeScale = await fetchIdsThroughService(east.name, "a", 5_000, { requests: 10 });
    await k(["scale", FleetResource.plural, "a", "-n", east.name, "--replicas=0"]);
    await waitForFleetReady(west.name, "c", 240_000);
    const fromC = await fetchIdsThroughService(west.name, "c", 20_000, { requests: 20 });

    const old = [...fromA, ...beforeScale].map(parseIdString);
    const next = fromC.map(parseIdString);
    const all = new Set([...old, ...next]);
    expect(all.size).toBe(old.length + next.length);
    const maxOld = old.reduce((m, id) => (id > m ? id : m), 0n);
    const minNext = next.reduce((m, id) => (id < m ? id : m), next[0]!);
    expect(minNext).toBeGreaterThan(maxOld);
    console.info(
      `id space ${idSpace}: ${old.length} IDs of the old layout, ${next.length} of its successor, 0 alike; successor starts ${minNext - maxOld} above`,
    );
    const ledger = await kJson<{ data: Record<string, string> }>([
      "get",
      "configmap",
      "-n",
      "idfleet-system",
      `${idSpace}-worker-ids`,
    ]);
    expect(JSON.parse(ledger.data.layout ?? "{}")).toMatchObject({ timestampBits: 40, workerIdBits: 11 });
    expect(BigInt(ledger.data.highWaterId ?? "0")).toBeGreaterThanOrEqual(maxOld);
  });
});
