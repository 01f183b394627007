import { describe, expect, it } from "vitest";
import { fleetFixture } from "../../test/fleet-fixture.ts";
import { workerIdsExhaustedMessage } from "./worker-ids-exhausted.ts";

const count = (text: string, part: string) => text.split(part).length - 1;
// The API server refuses replicas beyond the range; a fleet stored before that rule can still have them.
const oversized = (replicas: number, spec: Record<string, unknown>) => {
  const fleet = fleetFixture(spec);
  return { ...fleet, spec: { ...fleet.spec, replicas } };
};

describe("WorkerIdsExhausted message", () => {
  it("names the fleets holding the rest of the range and the two fixes, once each", () => {
    const fleet = fleetFixture({
      replicas: 5,
      idSpace: { name: "shared", workerIdRange: { min: 0, max: 7 } },
    });
    expect(workerIdsExhaustedMessage(fleet, { free: 3, overlappingFleets: ["billing", "orders"] })).toBe(
      "spec.replicas is 5 but only 3 worker ids are free for this fleet: other fleets of id space shared " +
        "(billing, orders) hold 5 of the 8 in its range 0-7, so 3 pods run. To fix, lower spec.replicas to 3 " +
        "or give this fleet a spec.idSpace.workerIdRange with at least 5 ids no other fleet of id space shared uses.",
    );
  });

  it("with autoscaling on, points at the autoscaling bounds (the HPA sets spec.replicas)", () => {
    const tiny = fleetFixture(
      {
        replicas: 3,
        idSpace: { name: "tiny", workerIdRange: { min: 0, max: 2 } },
        autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 3 },
      },
      "tiny",
    );
    expect(workerIdsExhaustedMessage(tiny, { free: 2, overlappingFleets: ["hog"] })).toBe(
      "spec.replicas is 3 but only 2 worker ids are free for this fleet: other fleets of id space tiny (hog) hold 1 " +
        "of the 3 in its range 0-2, so 2 pods run. To fix, lower spec.autoscaling.minReplicas and maxReplicas to 2 " +
        "or give this fleet a spec.idSpace.workerIdRange with at least 3 ids no other fleet of id space tiny uses.",
    );
    const maxOnly = fleetFixture({
      replicas: 4,
      idSpace: { workerIdRange: { min: 0, max: 3 } },
      autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4 },
    });
    expect(workerIdsExhaustedMessage(maxOnly, { free: 1, overlappingFleets: [] })).toContain(
      "only 1 worker id is free for this fleet: other fleets of id space ids hold 3 of the 4 in its range 0-3, " +
        "so 1 pod runs. To fix, lower spec.autoscaling.maxReplicas to 1 or",
    );
  });

  it("a range smaller than spec.replicas on its own", () => {
    const fleet = oversized(5, { replicas: 3, idSpace: { workerIdRange: { min: 10, max: 12 } } });
    expect(workerIdsExhaustedMessage(fleet, { free: 3, overlappingFleets: [] })).toBe(
      "spec.replicas is 5 but only 3 worker ids are free for this fleet: its spec.idSpace.workerIdRange 10-12 has " +
        "no more, so 3 pods run. To fix, lower spec.replicas to 3 or widen spec.idSpace.workerIdRange to at least 5 ids.",
    );
  });

  it("never repeats its advice", () => {
    const cases = [
      oversized(5, { replicas: 3, idSpace: { workerIdRange: { min: 0, max: 2 } } }),
      oversized(3, { replicas: 3, idSpace: { workerIdRange: { min: 0, max: 2 } } }),
      fleetFixture({
        replicas: 3,
        autoscaling: { enabled: true, maxReplicas: 3 },
        idSpace: { workerIdRange: { min: 0, max: 2 } },
      }),
    ];
    for (const fleet of cases) {
      const message = workerIdsExhaustedMessage(fleet, { free: 1, overlappingFleets: ["a", "b"] });
      expect(count(message, "lower ")).toBe(1);
      expect(count(message, "To fix")).toBe(1);
      expect(count(message, " or ")).toBe(1);
    }
  });
});
