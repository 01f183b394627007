import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { inject } from "vitest";
import { kubectl } from "../../e2e/cluster/kubectl.ts";
import { createTestNamespace } from "../../e2e/control-plane/test-namespace.ts";
import { badFleetSpecs } from "../../contract/fleet-spec.fixtures.ts";

const fleetYaml = (namespace: string, name: string, spec: Record<string, unknown>) =>
  stringify({
    apiVersion: "idfleet.dev/v1alpha1",
    kind: "IdGeneratorFleet",
    metadata: { name, namespace },
    spec,
  });

const apply = (yaml: string) =>
  kubectl(["apply", "-f", "-"], { kubeconfig: inject("kubeconfig"), input: yaml });

describe("the API server validates IdGeneratorFleets", () => {
  it("refuses every bad spec with a message that says what to change", async () => {
    const ns = await createTestNamespace("fleet-validation");
    for (const bad of badFleetSpecs) {
      const error = await apply(fleetYaml(ns.name, bad.name, bad.spec)).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(error, `${bad.name} must be refused`).toBeDefined();
      expect(error, bad.name).toContain(bad.message);
    }
  });

  it("defaults an empty spec and keeps layout and idSpace.name immutable", async () => {
    const ns = await createTestNamespace("fleet-immutable");
    const kubeconfig = inject("kubeconfig");
    await apply(fleetYaml(ns.name, "ids", { idSpace: { name: "orders" } }));
    const spec = JSON.parse(
      await kubectl(["get", "idfleet", "ids", "-n", ns.name, "-o", "jsonpath={.spec}"], { kubeconfig }),
    ) as Record<string, unknown>;
    expect(spec).toMatchObject({
      replicas: 1,
      layout: {
        timestampBits: 41,
        workerIdBits: 10,
        sequenceBits: 12,
        timeUnitMs: 1,
        epoch: "2024-01-01T00:00:00Z",
      },
      leases: { durationSeconds: 15, renewIntervalSeconds: 5 },
      service: { type: "ClusterIP", port: 80 },
    });
    const patch = (p: object) =>
      kubectl(["patch", "idfleet", "ids", "-n", ns.name, "--type=merge", "-p", JSON.stringify(p)], {
        kubeconfig,
      }).then(
        () => "accepted",
        (e: Error) => e.message,
      );
    expect(await patch({ spec: { layout: { timestampBits: 42, workerIdBits: 9 } } })).toContain(
      "layout is immutable",
    );
    expect(await patch({ spec: { layout: { epoch: "2025-01-01T00:00:00Z" } } })).toContain(
      "layout is immutable",
    );
    expect(await patch({ spec: { idSpace: { name: "invoices" } } })).toContain("idSpace.name is immutable");
    expect(await patch({ spec: { replicas: 3 } })).toBe("accepted");
  });

  it("lists fleets as idfleets with the printer columns and explains the fields", async () => {
    const ns = await createTestNamespace("fleet-columns");
    const kubeconfig = inject("kubeconfig");
    await apply(fleetYaml(ns.name, "ids", { replicas: 2 }));
    for (const resource of ["idfleets", "idfleet", "idgeneratorfleets", "idgeneratorfleets.idfleet.dev"]) {
      const out = await kubectl(["get", resource, "-n", ns.name], { kubeconfig });
      expect(out.split("\n")[0], resource).toMatch(
        /NAME\s+DESIRED\s+READY\s+LEASED\s+MAX-OFFSET\s+SEQ-UTIL\s+CAPACITY\s+FREE-IDS\s+AGE/,
      );
      expect(out, resource).toMatch(/ids\s+2\s/);
    }
    const explain = await kubectl(["explain", "idfleet.spec.autoscaling.targetSequenceUtilization"], {
      kubeconfig,
    });
    expect(explain).toContain("idgen_sequence_utilization");
    const scaled = await kubectl(["scale", "idfleet", "ids", "-n", ns.name, "--replicas=4"], { kubeconfig });
    expect(scaled).toContain("scaled");
    const tooMany = await kubectl(["scale", "idfleet", "ids", "-n", ns.name, "--replicas=5000"], {
      kubeconfig,
    }).then(
      () => "accepted",
      (e: Error) => e.message,
    );
    expect(tooMany).toContain("replicas exceeds the worker ids available");
  });
});
