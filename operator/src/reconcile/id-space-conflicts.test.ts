import { describe, expect, it } from "vitest";
import { parseFleetSpec } from "../../../contract/fleet-spec.ts";
import { findIdSpaceConflicts } from "./id-space-conflicts.ts";

const f = (name: string, createdAt: number, spec: Record<string, unknown>) => ({
  name,
  createdAt,
  spec: parseFleetSpec(spec),
});

describe("id space conflicts", () => {
  it("finds overlapping ranges in the same id space and makes the newer fleet yield", () => {
    const a = f("a", 1, { idSpace: { name: "orders", workerIdRange: { min: 0, max: 9 } } });
    const b = f("b", 2, { idSpace: { name: "orders", workerIdRange: { min: 9, max: 20 } } });
    const c = f("c", 3, { idSpace: { name: "orders", workerIdRange: { min: 21, max: 30 } } });
    expect(findIdSpaceConflicts(a, [a, b, c])).toEqual({ conflictsWith: ["b"], yields: false });
    expect(findIdSpaceConflicts(b, [a, b, c])).toEqual({ conflictsWith: ["a"], yields: true });
    expect(findIdSpaceConflicts(c, [a, b, c])).toEqual({ conflictsWith: [], yields: false });
  });

  it("treats fleets without an explicit id space as their own space", () => {
    const a = f("a", 1, {});
    const b = f("b", 2, {});
    expect(findIdSpaceConflicts(b, [a, b]).conflictsWith).toEqual([]);
    const named = f("x", 3, { idSpace: { name: "a" } });
    expect(findIdSpaceConflicts(named, [a, named])).toEqual({ conflictsWith: ["a"], yields: true });
  });
});
