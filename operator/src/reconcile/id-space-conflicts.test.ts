import { describe, expect, it } from "vitest";
import { parseFleetSpec } from "../../../contract/fleet-spec.ts";
import { findRangeOverlaps } from "./id-space-conflicts.ts";

const f = (name: string, spec: Record<string, unknown>, namespace = "ns") => ({
  namespace,
  name,
  spec: parseFleetSpec(spec),
});

describe("worker-id range overlaps", () => {
  it("finds overlapping ranges in the same id space only", () => {
    const a = f("a", { idSpace: { name: "orders", workerIdRange: { min: 0, max: 9 } } });
    const b = f("b", { idSpace: { name: "orders", workerIdRange: { min: 9, max: 20 } } });
    const c = f("c", { idSpace: { name: "orders", workerIdRange: { min: 21, max: 30 } } });
    const d = f("d", { idSpace: { name: "invoices", workerIdRange: { min: 0, max: 30 } } });
    expect(findRangeOverlaps(a, [a, b, c, d])).toEqual(["b"]);
    expect(findRangeOverlaps(b, [a, b, c, d])).toEqual(["a"]);
    expect(findRangeOverlaps(c, [a, b, c, d])).toEqual([]);
  });

  it("treats a fleet without an explicit id space as the space named after it", () => {
    const a = f("a", {});
    const b = f("b", {});
    expect(findRangeOverlaps(b, [a, b])).toEqual([]);
    const named = f("x", { idSpace: { name: "a" } });
    expect(findRangeOverlaps(named, [a, named])).toEqual(["a"]);
  });

  it("sees an id space across namespaces, and tells two fleets of one name apart", () => {
    const a = f("orders", { idSpace: { name: "orders", workerIdRange: { min: 0, max: 9 } } }, "eu");
    const b = f("orders", { idSpace: { name: "orders", workerIdRange: { min: 5, max: 20 } } }, "us");
    expect(findRangeOverlaps(a, [a, b])).toEqual(["us/orders"]);
    expect(findRangeOverlaps(b, [a, b])).toEqual(["eu/orders"]);
  });
});
