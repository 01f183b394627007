/**
 * How long a generator takes to stop, phase by phase (docs/serving.md, "Graceful
 * termination"). The generator runs the phases; the operator sizes the pod's
 * terminationGracePeriodSeconds from the same numbers, so the kubelet never kills a pod
 * that is still draining, answering or releasing its lease.
 */

/** Default drain: endpoint removal reaching kube-proxy on every node and ingress controllers. */
export const DEFAULT_DRAIN_SECONDS = 5;
/** Longest drain a fleet may ask for. */
export const MAX_DRAIN_SECONDS = 300;
/**
 * Open connections get this long to finish their requests after listening stops: a request
 * waits at most 2 s inside the generator (REQUEST_WAIT_BUDGET_MS), plus writing the answer.
 */
export const IN_FLIGHT_BUDGET_SECONDS = 5;
/** Slack on top, for a busy node's scheduling delays and process exit. */
export const SHUTDOWN_MARGIN_SECONDS = 5;

/**
 * Releasing the lease takes one write, two with a conflict re-read; each request is bounded
 * by the renew interval (lease-holding.ts, renewalRetryTiming), so two intervals cover it.
 * A release cut short is safe: the lease then expires and the operator reclaims it later.
 */
export const RELEASE_BUDGET_RENEW_INTERVALS = 2;

/** The shortest grace period that covers drain, in-flight requests and the release, with margin. */
export function minimumGracePeriodSeconds(drainSeconds: number, renewIntervalSeconds: number): number {
  return (
    drainSeconds +
    IN_FLIGHT_BUDGET_SECONDS +
    RELEASE_BUDGET_RENEW_INTERVALS * renewIntervalSeconds +
    SHUTDOWN_MARGIN_SECONDS
  );
}

/** minimumGracePeriodSeconds as a CEL expression over the two fields named. */
export function minimumGracePeriodCel(drainField: string, renewIntervalField: string): string {
  return `${drainField} + ${IN_FLIGHT_BUDGET_SECONDS} + ${RELEASE_BUDGET_RENEW_INTERVALS} * ${renewIntervalField} + ${SHUTDOWN_MARGIN_SECONDS}`;
}

/** Kubernetes' own default; the operator never goes below it. */
export const KUBERNETES_DEFAULT_GRACE_SECONDS = 30;

/** The grace period the operator sets when the fleet does not: the minimum, at least Kubernetes' default. */
export function derivedGracePeriodSeconds(drainSeconds: number, renewIntervalSeconds: number): number {
  return Math.max(
    KUBERNETES_DEFAULT_GRACE_SECONDS,
    minimumGracePeriodSeconds(drainSeconds, renewIntervalSeconds),
  );
}
