import { describe, expect, it } from "vitest";
import {
  apiResourceList,
  authorizationAttributes,
  parseCustomMetricsRequest,
} from "./custom-metrics-request.ts";

const q = (s = "") => new URLSearchParams(s);
const base = "/apis/custom.metrics.k8s.io/v1beta2";

describe("parseCustomMetricsRequest", () => {
  it("routes discovery", () => {
    expect(parseCustomMetricsRequest("GET", "/apis", q())).toEqual({ kind: "groupList" });
    expect(parseCustomMetricsRequest("GET", "/apis/custom.metrics.k8s.io", q())).toEqual({ kind: "group" });
    expect(parseCustomMetricsRequest("GET", base, q())).toEqual({ kind: "resourceList", version: "v1beta2" });
    expect(parseCustomMetricsRequest("GET", "/apis/custom.metrics.k8s.io/v1beta1/", q())).toEqual({
      kind: "resourceList",
      version: "v1beta1",
    });
  });

  it("routes the HPA's pods/* read with its selector", () => {
    const req = parseCustomMetricsRequest(
      "GET",
      `${base}/namespaces/team-a/pods/*/idgen_sequence_utilization`,
      q("labelSelector=idfleet.dev%2Ffleet%3Dids"),
    );
    expect(req.kind).toBe("podMetric");
    if (req.kind !== "podMetric") return;
    expect(req).toMatchObject({ version: "v1beta2", namespace: "team-a", podName: "*" });
    expect(req.selector.toString()).toBe("idfleet.dev/fleet=ids");
    expect(req.metricSelector.requirements).toEqual([]);
    expect(authorizationAttributes(req, "")).toEqual({
      kind: "resource",
      group: "custom.metrics.k8s.io",
      version: "v1beta2",
      resource: "pods",
      subresource: "idgen_sequence_utilization",
      name: "*",
      namespace: "team-a",
      verb: "get",
    });
  });

  it.each([
    ["POST", base, "", 405, /read-only/],
    ["GET", "/api/v1", "", 404, /could not find the requested resource/],
    ["GET", "/apis/metrics.k8s.io/v1beta1", "", 404, /only serves custom.metrics.k8s.io/],
    ["GET", "/apis/custom.metrics.k8s.io/v2", "", 404, /no version v2; served: v1beta2, v1beta1/],
    ["GET", `${base}/nodes/*/idgen_sequence_utilization`, "", 404, /only namespaces\/<namespace>\/pods/],
    ["GET", `${base}/namespaces/a/pods/*/cpu`, "", 404, /could not find the metric cpu for pods/],
    ["GET", `${base}/namespaces/a/services/*/idgen_sequence_utilization`, "", 404, /for services/],
    [
      "GET",
      `${base}/namespaces/a/pods/*/idgen_sequence_utilization`,
      "labelSelector=a+in+b",
      400,
      /expected '\('/,
    ],
    ["GET", `${base}/namespaces/%E0%A4%A/pods/*/x`, "", 400, /malformed percent-encoding/],
  ])("%s %s?%s -> %d", (method, path, query, code, message) => {
    const req = parseCustomMetricsRequest(method, path, q(query));
    expect(req).toMatchObject({ kind: "error", code });
    if (req.kind === "error") expect(req.message).toMatch(message);
  });

  it("authorizes discovery as a non-resource path", () => {
    const req = parseCustomMetricsRequest("GET", base, q());
    expect(authorizationAttributes(req, base)).toEqual({ kind: "nonResource", path: base, verb: "get" });
  });

  it("lists the metric as a namespaced pods subresource", () => {
    expect(apiResourceList("v1beta2")).toMatchObject({
      groupVersion: "custom.metrics.k8s.io/v1beta2",
      resources: [
        {
          name: "pods/idgen_sequence_utilization",
          namespaced: true,
          kind: "MetricValueList",
          verbs: ["get"],
        },
      ],
    });
  });
});
