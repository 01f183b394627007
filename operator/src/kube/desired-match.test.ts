import { describe, expect, it } from "vitest";
import { containsDesired, desiredHash, isUpToDate, withAppliedHash } from "./desired-match.ts";

describe("desired-state matching", () => {
  it("ignores fields added by the server and other managers", () => {
    const desired = { spec: { replicas: 2, ports: [{ port: 80 }] } };
    const live = {
      metadata: { uid: "x" },
      spec: { replicas: 2, ports: [{ port: 80, protocol: "TCP" }], clusterIP: "10.0.0.1" },
    };
    expect(containsDesired(live, desired)).toBe(true);
    expect(containsDesired({ spec: { replicas: 3, ports: [{ port: 80 }] } }, desired)).toBe(false);
    expect(containsDesired({ spec: { replicas: 2, ports: [{ port: 80 }, { port: 81 }] } }, desired)).toBe(
      false,
    );
  });

  it("hashes independently of key order", () => {
    expect(desiredHash({ a: 1, b: { c: 2, d: 3 } })).toBe(desiredHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(desiredHash({ a: 1 })).not.toBe(desiredHash({ a: 2 }));
  });

  it("notices a field we stopped wanting through the hash", () => {
    const before = withAppliedHash({ metadata: { name: "x" }, spec: { a: 1, b: 2 } });
    const after = withAppliedHash({ metadata: { name: "x" }, spec: { a: 1 } });
    expect(isUpToDate(before, before)).toBe(true);
    const { spec, metadata } = before;
    expect(isUpToDate({ spec, metadata }, { apiVersion: "v1", kind: "X", ...before } as typeof before)).toBe(
      true,
    );
    expect(isUpToDate(before, after)).toBe(false);
    expect(isUpToDate(undefined, after)).toBe(false);
    expect(isUpToDate({ ...before, spec: { a: 9, b: 2 } }, before)).toBe(false);
  });
});
