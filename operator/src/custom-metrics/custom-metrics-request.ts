import { SEQUENCE_UTILIZATION_METRIC } from "../../../contract/metric-names.ts";
import { LabelSelectorError, type LabelSelector, parseLabelSelector } from "./label-selector.ts";
import { CUSTOM_METRICS_GROUP, CustomMetricsVersion } from "./metric-value-list.ts";

/** What a request path asks for, decided without I/O. */
export type CustomMetricsRequest =
  | { kind: "groupList" }
  | { kind: "group" }
  | { kind: "resourceList"; version: CustomMetricsVersion }
  | {
      kind: "podMetric";
      version: CustomMetricsVersion;
      namespace: string;
      /** A pod name, or "*" for every pod the label selector matches. */
      podName: string;
      selector: LabelSelector;
      metricSelector: LabelSelector;
    }
  | {
      kind: "error";
      code: 400 | 404 | 405;
      reason: "BadRequest" | "NotFound" | "MethodNotAllowed";
      message: string;
    };

/**
 * The attributes a SubjectAccessReview checks for a request, computed the way a generic
 * Kubernetes API server computes them (RequestInfoFactory): a metric read is verb `get` on
 * resource `pods`, subresource `<metric>`, name `*` or the pod, in the namespace.
 */
export type AuthorizationAttributes =
  | { kind: "nonResource"; path: string; verb: string }
  | {
      kind: "resource";
      group: string;
      version: string;
      resource: string;
      subresource: string;
      name: string;
      namespace: string;
      verb: string;
    };

const versions = new Set<string>(Object.values(CustomMetricsVersion));

function notFound(message: string): CustomMetricsRequest {
  return { kind: "error", code: 404, reason: "NotFound", message };
}

/** Routes one request. `query` is the URL's search parameters. */
export function parseCustomMetricsRequest(
  method: string,
  path: string,
  query: URLSearchParams,
): CustomMetricsRequest {
  if (method !== "GET") {
    return {
      kind: "error",
      code: 405,
      reason: "MethodNotAllowed",
      message: `${method} is not supported; this API is read-only (GET)`,
    };
  }
  let parts: string[];
  try {
    parts = path
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
  } catch {
    return {
      kind: "error",
      code: 400,
      reason: "BadRequest",
      message: `malformed percent-encoding in ${path}`,
    };
  }
  if (parts[0] !== "apis") return notFound(`the server could not find the requested resource ${path}`);
  if (parts.length === 1) return { kind: "groupList" };
  if (parts[1] !== CUSTOM_METRICS_GROUP)
    return notFound(`this server only serves ${CUSTOM_METRICS_GROUP}, not ${parts[1]}`);
  if (parts.length === 2) return { kind: "group" };
  const version = parts[2]!;
  if (!versions.has(version)) {
    return notFound(`${CUSTOM_METRICS_GROUP} has no version ${version}; served: ${[...versions].join(", ")}`);
  }
  const v = version as CustomMetricsVersion;
  if (parts.length === 3) return { kind: "resourceList", version: v };

  // namespaces/<ns>/<resource>/<name>/<metric>
  if (parts.length !== 8 || parts[3] !== "namespaces") {
    return notFound(
      `only namespaces/<namespace>/pods/<name or *>/${SEQUENCE_UTILIZATION_METRIC} is served; got ${parts.slice(3).join("/")}`,
    );
  }
  const [, , , , namespace, resource, podName, metric] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (resource !== "pods" || metric !== SEQUENCE_UTILIZATION_METRIC) {
    return notFound(
      `the server could not find the metric ${metric} for ${resource}; it serves ${SEQUENCE_UTILIZATION_METRIC} for pods`,
    );
  }
  try {
    return {
      kind: "podMetric",
      version: v,
      namespace,
      podName,
      selector: parseLabelSelector(query.get("labelSelector") ?? undefined),
      metricSelector: parseLabelSelector(query.get("metricSelector") ?? undefined),
    };
  } catch (err) {
    if (err instanceof LabelSelectorError)
      return { kind: "error", code: 400, reason: "BadRequest", message: err.message };
    throw err;
  }
}

/** The attributes to authorize `request` (received on `path`) with. */
export function authorizationAttributes(
  request: CustomMetricsRequest,
  path: string,
): AuthorizationAttributes {
  if (request.kind === "podMetric") {
    return {
      kind: "resource",
      group: CUSTOM_METRICS_GROUP,
      version: request.version,
      resource: "pods",
      subresource: SEQUENCE_UTILIZATION_METRIC,
      name: request.podName,
      namespace: request.namespace,
      verb: "get",
    };
  }
  return { kind: "nonResource", path, verb: "get" };
}

/** Legacy discovery: /apis. */
export function apiGroupList(): object {
  return { kind: "APIGroupList", apiVersion: "v1", groups: [apiGroup()] };
}

/** Legacy discovery: /apis/custom.metrics.k8s.io. */
export function apiGroup(): object {
  const all = [CustomMetricsVersion.v1beta2, CustomMetricsVersion.v1beta1].map((version) => ({
    groupVersion: `${CUSTOM_METRICS_GROUP}/${version}`,
    version,
  }));
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name: CUSTOM_METRICS_GROUP,
    versions: all,
    preferredVersion: all[0],
  };
}

/** Legacy discovery: /apis/custom.metrics.k8s.io/<version>, what the aggregator and the HPA read. */
export function apiResourceList(version: CustomMetricsVersion): object {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${CUSTOM_METRICS_GROUP}/${version}`,
    resources: [
      {
        name: `pods/${SEQUENCE_UTILIZATION_METRIC}`,
        singularName: "",
        namespaced: true,
        kind: "MetricValueList",
        verbs: ["get"],
      },
    ],
  };
}

/** A metav1.Status error body. */
export function statusBody(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}
