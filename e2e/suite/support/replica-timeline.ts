import { kJson } from "../../../cluster/client/cluster-access.ts";
import { getFleet } from "../../../cluster/client/fleet-resources.ts";

/** One sample of a fleet and its HPA. */
export type ReplicaSample = {
  atSeconds: number;
  phase: string;
  hpaDesired: number | undefined;
  fleetReplicas: number | undefined;
  statefulSetReplicas: number | undefined;
  readyReplicas: number | undefined;
  cpuPercent: number | undefined;
  sequenceUtilization: string | undefined;
};

type Hpa = {
  status?: {
    desiredReplicas?: number;
    currentMetrics?: {
      type: string;
      resource?: { name: string; current?: { averageUtilization?: number } };
      pods?: { metric: { name: string }; current?: { averageValue?: string } };
    }[];
  };
};

/**
 * Samples a fleet, its StatefulSet and its HPA every `intervalMs` until stopped; `phase` labels what
 * the test is doing (load on, load off). `print()` renders the replica timeline as a table.
 */
export function startReplicaTimeline(namespace: string, fleet: string, intervalMs = 5_000) {
  const started = Date.now();
  const samples: ReplicaSample[] = [];
  let phase = "idle";
  const sample = async () => {
    const [f, hpa, sts] = await Promise.all([
      getFleet(namespace, fleet).catch(() => undefined),
      kJson<Hpa>(["get", "hpa", "-n", namespace, fleet]).catch(() => undefined),
      kJson<{ spec?: { replicas?: number } }>(["get", "statefulset", "-n", namespace, fleet]).catch(
        () => undefined,
      ),
    ]);
    const metrics = hpa?.status?.currentMetrics ?? [];
    samples.push({
      atSeconds: Math.round((Date.now() - started) / 1000),
      phase,
      hpaDesired: hpa?.status?.desiredReplicas,
      fleetReplicas: f?.spec.replicas,
      statefulSetReplicas: sts?.spec?.replicas,
      readyReplicas: f?.status?.readyReplicas,
      cpuPercent: metrics.find((m) => m.resource?.name === "cpu")?.resource?.current?.averageUtilization,
      sequenceUtilization: metrics.find((m) => m.type === "Pods")?.pods?.current?.averageValue,
    });
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      await sample().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    samples,
    setPhase(next: string) {
      phase = next;
    },
    async stop() {
      running = false;
      await loop;
      // The state the test ended on (the last timed sample may predate it).
      await sample().catch(() => undefined);
    },
    print(title: string): string {
      const cell = (v: unknown) => (v === undefined ? "-" : String(v));
      const lines = samples.map(
        (s) =>
          `${String(s.atSeconds).padStart(5)}s  ${s.phase.padEnd(9)} hpa-desired=${cell(s.hpaDesired)} fleet=${cell(s.fleetReplicas)} sts=${cell(s.statefulSetReplicas)} ready=${cell(s.readyReplicas)} cpu=${cell(s.cpuPercent)}% seq-util=${cell(s.sequenceUtilization)}`,
      );
      const text = `replica timeline, ${title}:\n${lines.join("\n")}`;
      console.log(text);
      return text;
    },
  };
}
