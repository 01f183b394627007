import { kJson } from "../../../cluster/client/cluster-access.ts";
import { waitForFleetReady } from "../../../cluster/client/fleet-resources.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";

/** Waits until the fleet's StatefulSet has rolled every pod to its current revision and the fleet is Ready again. */
export async function waitForRollout(namespace: string, name: string, replicas: number): Promise<void> {
  await waitFor(
    `${name} rolled out`,
    async () => {
      const sts = await kJson<{
        metadata: { generation: number };
        status: {
          observedGeneration?: number;
          updatedReplicas?: number;
          readyReplicas?: number;
          currentRevision?: string;
          updateRevision?: string;
        };
      }>(["get", "statefulset", "-n", namespace, name]);
      const s = sts.status;
      const done =
        s.observedGeneration === sts.metadata.generation &&
        s.updatedReplicas === replicas &&
        s.readyReplicas === replicas &&
        s.currentRevision === s.updateRevision;
      if (!done) throw new Error(JSON.stringify(s));
      return true;
    },
    { timeoutMs: 300_000 },
  );
  await waitForFleetReady(namespace, name, 120_000);
}
