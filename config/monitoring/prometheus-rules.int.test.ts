import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";

// The alert rules evaluated by Prometheus itself: `promtool test rules` (Debian's prometheus
// package, installed by e2e/cluster/install-host-deps.sh) replays series and checks which
// alerts fire. Times start at the Unix epoch in promtool, so `time()` is the eval time.

type Rule = { alert?: string; annotations?: Record<string, string>; [k: string]: unknown };
const ruleDoc = parse(readFileSync(join(import.meta.dirname, "prometheus-rules.yaml"), "utf8")) as {
  spec: { groups: { name: string; rules: Rule[] }[] };
};
const dir = mkdtempSync(join(tmpdir(), "idfleet-promtool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs promtool on the rules (annotations dropped unless kept) and one test document; returns its output. */
function promtool(tests: unknown[], keepAnnotations = false): string {
  const groups = ruleDoc.spec.groups.map((g) => ({
    ...g,
    rules: g.rules.map(({ annotations, ...rule }) => (keepAnnotations ? { ...rule, annotations } : rule)),
  }));
  writeFileSync(join(dir, "rules.yaml"), stringify({ groups }));
  writeFileSync(
    join(dir, "tests.yaml"),
    stringify({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests }),
  );
  try {
    return execFileSync("promtool", ["test", "rules", join(dir, "tests.yaml")], { encoding: "utf8" });
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string };
    if (e.code === "ENOENT")
      throw new Error("promtool is missing: apt-get install prometheus", { cause: error });
    throw new Error(`promtool test rules failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`, { cause: error });
  }
}

const fleet = { namespace: "team-a", fleet: "ids" };
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`,
  values,
});
const DAY = 86_400;

describe("capacity alerts, evaluated by promtool", () => {
  it("warns when the worker ids a fleet can reach would not cover its max replicas, after 15 minutes", () => {
    const other = { namespace: "team-a", fleet: "roomy" };
    promtool([
      {
        interval: "1m",
        input_series: [
          series("idfleet_worker_ids_reachable", fleet, "5x40"),
          series("idfleet_replicas_max", fleet, "8x40"),
          series("idfleet_worker_ids_reachable", other, "8x40"),
          series("idfleet_replicas_max", other, "8x40"),
        ],
        alert_rule_test: [
          { eval_time: "10m", alertname: "IdfleetWorkerIdsBelowMaxReplicas", exp_alerts: [] },
          {
            eval_time: "20m",
            alertname: "IdfleetWorkerIdsBelowMaxReplicas",
            exp_alerts: [{ exp_labels: { ...fleet, severity: "warning" } }],
          },
        ],
      },
    ]);
  });

  it("says in the alert how many ids are left and what maxReplicas is", () => {
    promtool(
      [
        {
          interval: "1m",
          input_series: [
            series("idfleet_worker_ids_reachable", fleet, "5x40"),
            series("idfleet_replicas_max", fleet, "8x40"),
          ],
          alert_rule_test: [
            {
              eval_time: "20m",
              alertname: "IdfleetWorkerIdsBelowMaxReplicas",
              exp_alerts: [
                {
                  exp_labels: { ...fleet, severity: "warning" },
                  exp_annotations: {
                    summary: "team-a/ids: 5 worker ids left, fewer than the fleet may scale to",
                    description:
                      "The fleet holds or could lease 5 worker ids, but spec.autoscaling.maxReplicas (or spec.replicas without autoscaling) is 8: scale-ups stop at 5 pods (condition WorkerIdsExhausted). Other fleets of the id space hold the rest of its range. Widen spec.idSpace.workerIdRange or lower maxReplicas; `kubectl describe idfleet` shows the counts under Worker Ids and Capacity Forecast.",
                  },
                },
              ],
            },
          ],
        },
      ],
      true,
    );
  });

  it("warns a year before the timestamp bits run out, once per fleet, from the generators or the operator", () => {
    // ids: two generator pods report the end 200 days out. idle: scaled to zero, only the
    // operator reports (300 days). far: 400 days, no alert. soon: 20 days, critical too.
    const pods = (name: string) => ({ ...fleet, pod: name });
    const end = (days: number) => `${days * DAY}x180`;
    const idle = { namespace: "team-a", fleet: "idle" };
    const far = { namespace: "team-a", fleet: "far" };
    const soon = { namespace: "team-b", fleet: "soon" };
    promtool([
      {
        interval: "1m",
        input_series: [
          series("idgen_timestamp_exhaustion_timestamp_seconds", pods("ids-0"), end(200)),
          series("idgen_timestamp_exhaustion_timestamp_seconds", pods("ids-1"), end(200)),
          series("idfleet_layout_exhaustion_timestamp_seconds", fleet, end(200)),
          series("idfleet_layout_exhaustion_timestamp_seconds", idle, end(300)),
          series("idfleet_layout_exhaustion_timestamp_seconds", far, end(400)),
          series("idfleet_layout_exhaustion_timestamp_seconds", soon, end(20)),
        ],
        alert_rule_test: [
          { eval_time: "30m", alertname: "IdgenLayoutExpiresWithinAYear", exp_alerts: [] },
          {
            eval_time: "2h",
            alertname: "IdgenLayoutExpiresWithinAYear",
            exp_alerts: [fleet, idle, soon].map((labels) => ({
              exp_labels: { ...labels, severity: "warning" },
            })),
          },
          {
            eval_time: "2h",
            alertname: "IdgenLayoutExpiresWithin30Days",
            exp_alerts: [{ exp_labels: { ...soon, severity: "critical" } }],
          },
        ],
      },
    ]);
  });
});

describe("the rule file", () => {
  it("passes promtool's own checks (syntax, templates)", () => {
    const groups = ruleDoc.spec.groups;
    writeFileSync(join(dir, "all-rules.yaml"), stringify({ groups }));
    const out = execFileSync("promtool", ["check", "rules", join(dir, "all-rules.yaml")], {
      encoding: "utf8",
    });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });
});
