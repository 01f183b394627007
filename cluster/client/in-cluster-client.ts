import { apply, k } from "./cluster-access.ts";
import { waitFor } from "./wait-for.ts";

/** A pod inside the cluster that issues HTTP requests (so Services and DNS are exercised for real). */
export type InClusterClient = {
  /** GET `url` from inside the pod; resolves to status and body. */
  get: (url: string) => Promise<{ status: number; body: string }>;
  /** Runs `node -e script` in the pod (bounded by `timeoutMs`) and returns its stdout. */
  runNode: (script: string, timeoutMs?: number) => Promise<string>;
};

/**
 * Starts a client pod from `image` (any image with node in it) in `namespace` and waits until it runs.
 * The pod sleeps; requests are made with `kubectl exec ... node -e fetch(...)`, each bounded by a timeout.
 */
export async function startInClusterClient(
  namespace: string,
  image: string,
  name = "http-client",
): Promise<InClusterClient> {
  await apply(namespace, [
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { "idfleet.dev/e2e-app": name } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "client",
            image,
            imagePullPolicy: "IfNotPresent",
            command: ["node", "-e", "setInterval(() => {}, 60_000)"],
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
          },
        ],
      },
    },
  ]);
  await k(["wait", "-n", namespace, `pod/${name}`, "--for=condition=Ready", "--timeout=120s"], {
    timeoutMs: 130_000,
  });
  const runNode = async (script: string, timeoutMs = 30_000) =>
    k(["exec", "-n", namespace, name, "--", "node", "-e", script], { timeoutMs });
  const get = async (url: string) => {
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(10000) })
      .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))
      .catch((e) => { console.error(String(e)); process.exit(1); })`;
    return JSON.parse(await runNode(script)) as { status: number; body: string };
  };
  return { get, runNode };
}

/** GET `url` from the client until it answers 200 (Services and DNS take a moment to program). */
export async function getWhenReady(
  client: InClusterClient,
  url: string,
  timeoutMs = 60_000,
): Promise<string> {
  return waitFor(
    `200 from ${url}`,
    async () => {
      const response = await client.get(url);
      return response.status === 200 ? response.body : undefined;
    },
    { timeoutMs },
  );
}
