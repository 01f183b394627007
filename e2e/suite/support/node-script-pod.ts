import { apply } from "../../../cluster/client/cluster-access.ts";

/** Files and environment for a node script pod beyond its inline script. */
export type NodeScriptPodExtras = {
  env?: Record<string, string>;
  /** A ConfigMap mounted read-only at `path`, each key at its item's path below it. */
  files?: { configMap: string; path: string; items: { key: string; path: string }[] };
};

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
  extras: NodeScriptPodExtras = {},
): Promise<void> {
  const { env, files } = extras;
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
            ...(env ? { env: Object.entries(env).map(([n, value]) => ({ name: n, value })) } : {}),
            ...(files ? { volumeMounts: [{ name: "files", mountPath: files.path, readOnly: true }] } : {}),
          },
        ],
        ...(files
          ? { volumes: [{ name: "files", configMap: { name: files.configMap, items: files.items } }] }
          : {}),
      },
    },
  ]);
}
