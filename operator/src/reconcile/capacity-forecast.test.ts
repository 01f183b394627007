import { describe, expect, it } from "vitest";
import { EMPTY_LEDGER } from "../../../contract/lease-record.ts";
import { fleetFixture } from "../../test/fleet-fixture.ts";
import { ledgerOf, leasedEntry, retiringEntry } from "../../test/ledger-fixtures.ts";
import { capacityForecast, maxReplicasOf } from "./capacity-forecast.ts";

const leased = leasedEntry;
const retiring = retiringEntry;
const ledger = ledgerOf;
const now = Date.parse("2026-12-04T00:00:00Z");

describe("capacityForecast", () => {
  it("counts free worker ids in the fleet's range and the id space, and what the fleet holds", () => {
    const fleet = fleetFixture({
      replicas: 2,
      idSpace: { name: "orders", workerIdRange: { min: 0, max: 7 } },
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 },
    });
    const l = ledger([
      [0, leased("ids")],
      [1, retiring("ids")],
      [2, leased("other")],
      [3, leased("other")],
      [500, leased("far")],
    ]);
    const f = capacityForecast(fleet, l, now);
    expect(f.workerIds).toEqual({
      inRange: 8,
      freeInRange: 4,
      heldByFleet: 2,
      inIdSpace: 1024,
      freeInIdSpace: 1019,
      maxReplicas: 6,
    });
    expect(f.summary).toContain(
      "Worker ids: 4 of 8 free in range 0-7, this fleet holds 2; 1019 of 1024 free in id space orders. spec.autoscaling.maxReplicas 6 is covered (6 ids held or free).",
    );
  });

  it("says when the ids left would not cover autoscaling.maxReplicas, and what to change", () => {
    const fleet = fleetFixture({
      replicas: 2,
      idSpace: { workerIdRange: { min: 0, max: 7 } },
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 8 },
    });
    const f = capacityForecast(fleet, ledger([[5, leased("other")]]), now);
    expect(f.summary).toContain(
      "spec.autoscaling.maxReplicas is 8 but only 7 ids are held or free: scaling stops at 7; widen spec.idSpace.workerIdRange or lower spec.autoscaling.maxReplicas.",
    );
  });

  it("gives the layout's end and the 2^53 date in words, past or future", () => {
    const f = capacityForecast(fleetFixture({}), EMPTY_LEDGER, now);
    expect(f).toMatchObject({
      layoutExhaustsAt: "2093-09-06T15:47:35Z",
      idsPassSafeIntegerAt: "2024-01-25T20:31:23Z",
    });
    expect(f.summary).toContain("Timestamp bits last until 2093-09-06 (66 years).");
    expect(f.summary).toContain(
      "IDs passed 2^53 on 2024-01-25: JavaScript clients must keep them as strings or BigInt.",
    );

    // 34 bits of 1 ms from 2026-11-20: 2^34 ms is about 199 days.
    const short = fleetFixture({
      layout: { timestampBits: 34, workerIdBits: 10, sequenceBits: 19, epoch: "2026-11-20T00:00:00Z" },
    });
    expect(capacityForecast(short, EMPTY_LEDGER, now).summary).toContain(
      "Timestamp bits last until 2027-06-06 (6 months).",
    );
    // The default 41/10/12 split passes 2^53 at 2^31 ms (24.9 days) after its epoch.
    const young = fleetFixture({ layout: { epoch: "2026-11-20T00:00:00Z" } });
    expect(capacityForecast(young, EMPTY_LEDGER, now).summary).toContain(
      "IDs pass 2^53 on 2026-12-14 (in 10 days): JavaScript clients must keep them as strings or BigInt by then.",
    );
  });

  it("leaves the worker ids out when the ledger could not be read", () => {
    const f = capacityForecast(fleetFixture({}), null, now);
    expect(f.workerIds).toBeUndefined();
    expect(f.summary).toMatch(/^Timestamp bits last until/);
  });

  it("takes replicas as the most pods when autoscaling is off, and never less than replicas", () => {
    expect(maxReplicasOf(fleetFixture({ replicas: 4 }))).toBe(4);
    expect(maxReplicasOf(fleetFixture({ replicas: 4, autoscaling: { enabled: true, maxReplicas: 9 } }))).toBe(
      9,
    );
  });
});
