import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Registry } from "prom-client";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGeneratorEnv } from "../contract/generator-env.ts";
import { createGeneratorRuntime, type GeneratorRuntime } from "../generator/src/generator-runtime.ts";
import { parseOperatorConfig } from "../operator/src/config/operator-config.ts";
import { SEQUENCE_UTILIZATION_METRIC } from "../contract/metric-names.ts";
import { createOperatorMetrics } from "../operator/src/metrics/operator-metrics.ts";
import { GENERATOR_PORT_NAME } from "../operator/src/reconcile/desired-statefulset.ts";
import { fleetLabels } from "../operator/src/reconcile/fleet-naming.ts";

const dir = join(import.meta.dirname, "../config/monitoring");
const read = (file: string) => readFileSync(join(dir, file), "utf8");
const OWN_METRIC = /\b(?:idgen|idfleet)_[A-Za-z0-9_]+/g;

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
const ruleDoc = parse(read("prometheus-rules.yaml")) as {
  kind: string;
  spec: { groups: { name: string; rules: Rule[] }[] };
};
const rules = ruleDoc.spec.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read("grafana-dashboard.json")) as {
  panels: { type: string; targets?: { expr: string }[] }[];
  templating: { list: { query?: unknown }[] };
};

/** Series names a registry exposes: histograms as _bucket/_sum/_count, summaries as name/_sum/_count. */
async function exposedNames(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(metric.name + s);
    else if (type === "summary") for (const s of ["", "_sum", "_count"]) names.add(metric.name + s);
    else names.add(metric.name);
  }
  return names;
}

let generator: GeneratorRuntime;
let exported: Set<string>;
beforeAll(async () => {
  generator = await createGeneratorRuntime(parseGeneratorEnv({ IDGEN_WORKER_ID: "3" }));
  const operator = createOperatorMetrics();
  const generatorNames = await exposedNames(generator.metrics.registry);
  const operatorNames = await exposedNames(operator.registry);
  expect([...generatorNames].filter((n) => !n.startsWith("idgen_"))).toEqual([]);
  expect([...operatorNames].filter((n) => !n.startsWith("idfleet_"))).toEqual([]);
  exported = new Set([...generatorNames, ...operatorNames]);
});
afterAll(async () => {
  generator?.stop();
  await generator?.app.close();
});

function referencedIn(texts: string[]): Set<string> {
  return new Set(texts.flatMap((t) => t.match(OWN_METRIC) ?? []));
}

describe("monitoring kit", () => {
  it("alerts on metrics the generator and operator export (or the pending list names)", () => {
    const used = referencedIn(rules.flatMap((r) => [r.expr, ...Object.values(r.annotations ?? {})]));
    const missing = [...used].filter((n) => !exported.has(n)).sort();
    expect(missing).toEqual([]);
  });

  it("charts only exported metrics", () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const queries = dashboard.templating.list.map((v) => JSON.stringify(v.query ?? ""));
    expect(exprs.length).toBeGreaterThan(10);
    expect([...referencedIn([...exprs, ...queries])].filter((n) => !exported.has(n))).toEqual([]);
    expect(exprs.filter((e) => !/\b(?:idgen|idfleet)_/.test(e))).toEqual([]);
  });

  it("serves through custom.metrics.k8s.io a metric the generator exports under the same name", () => {
    expect(exported.has(SEQUENCE_UTILIZATION_METRIC)).toBe(true);
  });

  it("has the alerts the runbook promises, each with severity, summary and description", () => {
    expect(ruleDoc.kind).toBe("PrometheusRule");
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert, rule.expr).toMatch(/^Id(gen|fleet)[A-Za-z0-9]+$/);
      expect(["warning", "critical"]).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      expect(rule.expr.split("(").length, `${rule.alert}: unbalanced parentheses`).toBe(
        rule.expr.split(")").length,
      );
    }
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get("IdgenSequenceUtilizationHigh")).toMatchObject({
      expr: expect.stringMatching(/idgen_sequence_utilization\b.*> 0\.5$/),
      labels: { severity: "warning" },
    });
    expect(byName.get("IdgenSequenceUtilizationCritical")).toMatchObject({
      expr: expect.stringMatching(/idgen_sequence_utilization\b.*> 0\.8$/),
      labels: { severity: "critical" },
    });
    for (const sustained of [
      "IdgenSequenceUtilizationHigh",
      "IdgenSequenceUtilizationCritical",
      "IdgenClockDrift",
    ]) {
      expect(byName.get(sustained)?.for, sustained).toMatch(/^\d+m$/);
    }
    for (const required of [
      "IdgenClockDrift",
      "IdgenLeaseRenewFailures",
      "IdfleetWorkerIdsNearlyExhausted",
      "IdgenLayoutExpiresWithinAYear",
    ]) {
      expect(byName.has(required), required).toBe(true);
    }
  });

  it("scrapes the ports and labels the operator actually gives generator pods and itself", () => {
    const pods = parse(read("generator-pod-monitor.yaml")) as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: { port: string; path: string }[];
      };
    };
    const podLabels = fleetLabels("any-fleet");
    for (const [k, v] of Object.entries(pods.spec.selector.matchLabels)) expect(podLabels[k], k).toBe(v);
    expect(pods.spec.podMetricsEndpoints).toEqual([
      expect.objectContaining({ port: GENERATOR_PORT_NAME, path: "/metrics" }),
    ]);

    // The operator's own metrics Service and Deployment (config/manager), which the ServiceMonitor must find.
    type Obj = {
      kind: string;
      metadata: { name: string; labels?: Record<string, string> };
      spec: Record<string, unknown>;
    };
    const manager = parseAllDocuments(readFileSync(join(dir, "../manager/deployment.yaml"), "utf8")).map(
      (d) => d.toJS() as Obj,
    );
    const service = manager.find(
      (o) => o.kind === "Service" && o.metadata.name === "idfleet-operator-metrics",
    );
    const deployment = manager.find((o) => o.kind === "Deployment");
    const monitor = parse(read("operator-service-monitor.yaml")) as {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) {
      expect(service?.metadata.labels?.[k], k).toBe(v);
    }
    const servicePort = (service?.spec.ports as { name: string; targetPort: string }[])[0]!;
    expect(monitor.spec.endpoints[0]!.port).toBe(servicePort.name);
    const containers = (
      deployment?.spec.template as {
        spec: { containers: { ports: { name: string; containerPort: number }[] }[] };
      }
    ).spec.containers;
    const containerPort = containers.flatMap((c) => c.ports).find((p) => p.name === servicePort.targetPort);
    expect(containerPort?.containerPort).toBe(parseOperatorConfig({}).port);
  });

  it("is one kustomization of parseable manifests", () => {
    const kustomization = parse(read("kustomization.yaml")) as {
      resources: string[];
      configMapGenerator: { files: string[] }[];
    };
    for (const file of [
      ...kustomization.resources,
      ...kustomization.configMapGenerator.flatMap((g) => g.files),
    ]) {
      expect(() => parseAllDocuments(read(file))).not.toThrow();
    }
  });
});
