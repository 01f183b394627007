import { describe, expect, it } from "vitest";
import { authorizationAttributes, parseCustomMetricsRequest } from "./custom-metrics-request.ts";
import { subjectAccessReview } from "./delegated-authorizer.ts";

const hpa = {
  username: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
  uid: "u-1",
  groups: ["system:serviceaccounts", "system:authenticated"],
  extra: { "authentication.kubernetes.io/pod-name": ["kcm-0"] },
};

describe("subjectAccessReview", () => {
  it("asks about the metric as a pods subresource in the namespace", () => {
    const path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/*/idgen_sequence_utilization";
    const request = parseCustomMetricsRequest("GET", path, new URLSearchParams());
    const { kind: _kind, ...resourceAttributes } = authorizationAttributes(request, path);
    expect(resourceAttributes).toMatchObject({
      resource: "pods",
      subresource: "idgen_sequence_utilization",
      name: "*",
    });
    expect(subjectAccessReview(hpa, authorizationAttributes(request, path))).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user: hpa.username, uid: "u-1", groups: hpa.groups, extra: hpa.extra, resourceAttributes },
    });
  });

  it("asks about discovery as a non-resource path", () => {
    const review = subjectAccessReview(
      { username: "system:kube-aggregator", groups: ["system:authenticated"], extra: {} },
      { kind: "nonResource", path: "/apis/custom.metrics.k8s.io/v1beta2", verb: "get" },
    );
    expect(review.spec).toEqual({
      user: "system:kube-aggregator",
      groups: ["system:authenticated"],
      extra: {},
      nonResourceAttributes: { path: "/apis/custom.metrics.k8s.io/v1beta2", verb: "get" },
    });
  });
});
