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

  it("leaves entries other managers add to keyed lists alone, and still notices changes to ours", () => {
    const container = {
      name: "generator",
      env: [{ name: "IDGEN_PORT", value: "8080" }],
      volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    };
    const desired = {
      spec: { template: { spec: { containers: [container], volumes: [{ name: "tmp", emptyDir: {} }] } } },
    };
    const podSpec = (containers: object[], volumes: object[]) => ({
      spec: { template: { spec: { containers, volumes } } },
    });
    // What the chaos test's own server-side apply adds beside ours: an env var, a mount, a volume, a sidecar.
    const foreignEnv = { name: "LD_PRELOAD", value: "/lib/libfaketime.so.1" };
    const foreignMount = { name: "faketime", mountPath: "/faketime" };
    const foreignVolume = { name: "faketime", hostPath: { path: "/usr/lib" } };
    const withForeign = podSpec(
      [
        { name: "sidecar", image: "x" },
        {
          ...container,
          env: [foreignEnv, ...container.env],
          volumeMounts: [...container.volumeMounts, foreignMount],
        },
      ],
      [foreignVolume, { name: "tmp", emptyDir: {} }],
    );
    expect(containsDesired(withForeign, desired)).toBe(true);

    const changedEnv = podSpec(
      [{ ...container, env: [foreignEnv, { name: "IDGEN_PORT", value: "9090" }] }],
      [{ name: "tmp", emptyDir: {} }],
    );
    expect(containsDesired(changedEnv, desired)).toBe(false);
    const droppedEnv = podSpec([{ ...container, env: [foreignEnv] }], [{ name: "tmp", emptyDir: {} }]);
    expect(containsDesired(droppedEnv, desired)).toBe(false);
    const droppedVolume = podSpec([container], [foreignVolume]);
    expect(containsDesired(droppedVolume, desired)).toBe(false);
    const movedMount = podSpec(
      [{ ...container, volumeMounts: [{ name: "tmp", mountPath: "/scratch" }] }],
      [{ name: "tmp", emptyDir: {} }],
    );
    expect(containsDesired(movedMount, desired)).toBe(false);
  });

  it("treats lists not merged by key as atomic: an extra entry there is a difference", () => {
    // Role rules, RoleBinding subjects, tolerations: an apply of ours replaces the whole list.
    const desired = {
      rules: [{ verbs: ["get"] }],
      spec: { template: { spec: { tolerations: [{ key: "a" }] } } },
    };
    expect(containsDesired({ ...desired, rules: [{ verbs: ["get"] }, { verbs: ["delete"] }] }, desired)).toBe(
      false,
    );
    expect(
      containsDesired(
        { ...desired, spec: { template: { spec: { tolerations: [{ key: "a" }, { key: "b" }] } } } },
        desired,
      ),
    ).toBe(false);
    expect(containsDesired(desired, desired)).toBe(true);
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
