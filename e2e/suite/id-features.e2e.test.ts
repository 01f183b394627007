/**
 * The ID features on a real cluster, through the fleet's client Service from a pod: the served layout,
 * the bounds of a time range around IDs just issued, a sortable encoding, rolling sequences (consecutive
 * IDs' low bits cycle, so id % 16 spreads) and the capacity fields of the fleet status.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { FleetResource, type FleetStatus } from "../../contract/fleet-spec.ts";
import { decodeIdAs } from "../../contract/id-encoding.ts";
import { decodeId } from "../../contract/id-layout-math.ts";
import { layoutFromDocument, type LayoutDocument } from "../../contract/layout-document.ts";
import { fleetClient } from "./support/fleet-ids-client.ts";
import { applyFleet, installOperator, waitForFleetReady } from "./support/operator-install.ts";
import { useE2eNamespace } from "./support/test-namespace.ts";

const FLEET = "rolling";
const ns = useE2eNamespace("e2e-id-features");

/** GETs each path of the client Service in turn from the in-cluster client pod; status and body of each. */
async function getInTurn(paths: string[]): Promise<{ status: number; body: string }[]> {
  const base = `http://${FLEET}.${ns.name}.svc`;
  const script = `
    (async () => {
      const out = [];
      for (const path of ${JSON.stringify(paths)}) {
        const r = await fetch(${JSON.stringify(base)} + path, { signal: AbortSignal.timeout(10000) });
        out.push({ status: r.status, body: await r.text() });
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(String(e)); process.exit(1); });`;
  const client = await fleetClient(ns.name);
  return JSON.parse(await client.runNode(script, 60_000)) as { status: number; body: string }[];
}

describe("layout, bounds, encodings and rolling sequences on a real cluster", () => {
  beforeAll(async () => {
    await installOperator();
  });

  test("a rolling fleet serves its layout, bounds around its IDs, base32 IDs and cycling low bits", async () => {
    await applyFleet(ns.name, {
      apiVersion: FleetResource.apiVersion,
      kind: FleetResource.kind,
      metadata: { name: FLEET },
      spec: { replicas: 1, sequence: { start: "rolling" }, idSpace: { name: "orders" } },
    });
    const fleet = await waitForFleetReady(ns.name, FLEET, 240_000);

    const before = Date.now() - 60_000;
    const singles = 24;
    const answers = await getInTurn([
      "/v1/layout",
      ...Array.from({ length: singles }, () => "/v1/id"),
      "/v1/ids?count=50&format=base32",
    ]);
    for (const a of answers) expect(a.status, a.body).toBe(200);
    const [layoutAnswer, ...rest] = answers;
    const layout = JSON.parse(layoutAnswer!.body) as LayoutDocument;
    expect(layout).toMatchObject({
      idSpace: "orders",
      timestampBits: 41,
      workerIdBits: 10,
      sequenceBits: 12,
    });
    const math = layoutFromDocument(layout);

    // Rolling: one pod, one caller, so each ID's sequence follows the previous one's, across ticks.
    const ids = rest.slice(0, singles).map((a) => BigInt((JSON.parse(a.body) as { id: string }).id));
    const sequences = ids.map((id) => decodeId(math, id).sequence);
    for (let i = 1; i < sequences.length; i++)
      expect(sequences[i]).toBe((sequences[i - 1]! + 1) % math.idsPerTick);
    expect(new Set(ids.map((id) => id % 16n)).size).toBe(16);

    // base32: fixed width, string order is numeric order, and they follow the single IDs.
    const base32 = (JSON.parse(rest[singles]!.body) as { ids: string[] }).ids;
    expect(base32.every((id) => id.length === 13)).toBe(true);
    expect([...base32].sort()).toEqual(base32);
    const numbers = base32.map((id) => decodeIdAs(id, "base32"));
    expect(numbers[0]! > ids[ids.length - 1]!).toBe(true);

    // Bounds of [before, now + 1 min) hold every ID just issued; the next minute's start after all of them.
    const after = Date.now() + 60_000;
    const [bounds, later] = await getInTurn([
      `/v1/bounds?from=${new Date(before).toISOString()}&to=${String(after)}`,
      `/v1/bounds?from=${String(after)}&to=${String(after + 60_000)}`,
    ]);
    const range = JSON.parse(bounds!.body) as { min: string; max: string };
    for (const id of [...ids, ...numbers]) {
      expect(id >= BigInt(range.min) && id <= BigInt(range.max)).toBe(true);
    }
    expect(BigInt((JSON.parse(later!.body) as { min: string }).min)).toBe(BigInt(range.max) + 1n);

    // Capacity in the status, through the operator running in the cluster.
    const status = fleet.status as FleetStatus;
    expect(status.workerIds).toMatchObject({
      inRange: 1024,
      heldByFleet: 1,
      inIdSpace: 1024,
      maxReplicas: 1,
    });
    expect(status.idsPassSafeIntegerAt).toBe("2024-01-25T20:31:23Z");
    expect(status.capacityForecast).toMatch(/Timestamp bits last until 2093-09-06/);
  });
});
