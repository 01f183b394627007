import { k } from "../../../cluster/client/cluster-access.ts";
import { applyNodeScriptPod } from "./node-script-pod.ts";

/** Bounds of a load run: it stops at whichever limit comes first. */
export type LoadBounds = { concurrency: number; maxSeconds: number; maxRequests: number };

/**
 * Runs a bounded HTTP load loop against `url` (a Service inside the cluster) from a pod; returns a
 * function that stops it early by deleting the pod.
 */
export async function startLoad(
  namespace: string,
  image: string,
  url: string,
  bounds: LoadBounds,
  name = "load-generator",
): Promise<{ stop: () => Promise<void> }> {
  const script = `
    const deadline = Date.now() + ${bounds.maxSeconds * 1000};
    let remaining = ${bounds.maxRequests};
    let ok = 0, failed = 0;
    async function worker() {
      while (Date.now() < deadline && remaining-- > 0) {
        try {
          const r = await fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) });
          await r.arrayBuffer();
          r.ok ? ok++ : failed++;
        } catch { failed++; await new Promise((s) => setTimeout(s, 200)); }
      }
    }
    const timer = setInterval(() => console.log(JSON.stringify({ ok, failed })), 5000);
    Promise.all(Array.from({ length: ${bounds.concurrency} }, worker)).then(() => { clearInterval(timer); console.log("done", JSON.stringify({ ok, failed })); });
  `;
  await applyNodeScriptPod(namespace, name, image, script, {
    requests: { cpu: "10m", memory: "32Mi" },
    limits: { cpu: "200m", memory: "128Mi" },
  });
  return {
    stop: async () => {
      await k([
        "delete",
        "pod",
        "-n",
        namespace,
        name,
        "--grace-period=1",
        "--wait=false",
        "--ignore-not-found",
      ]);
    },
  };
}
