import { apply } from "../../../cluster/client/cluster-access.ts";

/**
 * Applies a pod that runs `node -e script` once (restartPolicy Never) from `image` (any image with node),
 * labelled for the namespace's log collection.
 */
export async function applyNodeScriptPod(
  namespace: string,
  name: string,
  image: string,
  script: string,
  resources: Record<string, Record<string, string>>,
): Promise<void> {
  await apply(namespace, [
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { "idfleet.dev/e2e-app": name } },
      spec: {
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "node",
            image,
            imagePullPolicy: "IfNotPresent",
            command: ["node", "-e", script],
            resources,
          },
        ],
      },
    },
  ]);
}
