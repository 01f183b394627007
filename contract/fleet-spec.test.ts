import { describe, expect, it } from "vitest";
import { fleetSpecRules, parseFleetSpec, workerIdCapacity, workerIdRangeOf } from "./fleet-spec.ts";
import { badFleetSpecs, fullFleetSpec } from "./fleet-spec.fixtures.ts";

describe("fleet spec", () => {
  it("defaults an empty spec to one replica of the default layout", () => {
    const spec = parseFleetSpec({});
    expect(spec.replicas).toBe(1);
    expect(spec.layout).toEqual({
      timestampBits: 41,
      workerIdBits: 10,
      sequenceBits: 12,
      timeUnitMs: 1,
      epoch: "2024-01-01T00:00:00Z",
    });
    expect(spec.leases.durationSeconds).toBe(15);
    expect(spec.clock.maxDriftMs).toBe(100);
    expect(spec.autoscaling.enabled).toBe(false);
    expect(spec.service).toEqual({ type: "ClusterIP", port: 80 });
    expect(spec.sequence).toEqual({ start: "zero" });
    expect(workerIdCapacity(spec)).toBe(1024);
    expect(workerIdRangeOf(spec)).toEqual({ min: 0, max: 1023 });
  });

  it("accepts a spec that uses every section", () => {
    const spec = parseFleetSpec(fullFleetSpec);
    expect(spec.idSpace?.workerIdRange).toEqual({ min: 0, max: 511 });
    expect(workerIdCapacity(spec)).toBe(512);
    expect(spec.autoscaling.targetSequenceUtilization).toBe(0.5);
  });

  it.each(badFleetSpecs)("refuses $name with a message saying what to change", ({ spec, message }) => {
    expect(() => parseFleetSpec(spec)).toThrow(message);
  });

  it("checks the idSpace.name transition rule only against an old spec", () => {
    const rule = fleetSpecRules.find((r) => r.transition)!;
    const a = parseFleetSpec({ idSpace: { name: "a" } });
    const b = parseFleetSpec({ idSpace: { name: "b" } });
    expect(rule.holds(b)).toBe(true);
    expect(rule.holds(b, a)).toBe(false);
    expect(rule.holds(a, a)).toBe(true);
  });

  it("gives every cross-field rule a message and a field path inside spec", () => {
    for (const r of fleetSpecRules) {
      expect(r.message.length).toBeGreaterThan(20);
      expect(r.fieldPath).toMatch(/^\.[a-zA-Z.]+$/);
    }
  });
});
