import type { V1Probe } from "@kubernetes/client-node";

/**
 * The generator container's probes (docs/serving.md, "Probes"). A busy node (many pods
 * starting on little CPU) must never get a generator killed for being slow; only a process
 * that stopped answering for a minute is restarted. Readiness follows the generator's own
 * verdict (/readyz is 503 whenever it may not issue) within about two seconds.
 */
export function generatorProbes(port: string): {
  startupProbe: V1Probe;
  readinessProbe: V1Probe;
  livenessProbe: V1Probe;
} {
  return {
    // Liveness and readiness wait for this. Five minutes of start-up on a starved node,
    // probed every second so an idle node sees the pod ready about a second after it listens.
    startupProbe: {
      httpGet: { path: "/healthz", port },
      periodSeconds: 1,
      timeoutSeconds: 5,
      failureThreshold: 300,
    },
    // A 503 counts at once (failureThreshold 2 at 1 s: unready within ~2 s); one answer slower
    // than 3 s (a busy node) is tolerated by the second chance.
    readinessProbe: {
      httpGet: { path: "/readyz", port },
      periodSeconds: 1,
      timeoutSeconds: 3,
      failureThreshold: 2,
      successThreshold: 1,
    },
    // Only for a stuck process: a minute without any answer to the cheapest route.
    livenessProbe: {
      httpGet: { path: "/healthz", port },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    },
  };
}
