import { k, kJson } from "../../../cluster/client/cluster-access.ts";
import { applyNodeScriptPod } from "./node-script-pod.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";

/** Shape of the client load a ServicePullers pod puts on a fleet's client Service. */
export type PullerSettings = {
  /** Clients that keep one connection open (Node's keep-alive agent, one socket each). */
  keepAlive: number;
  /** Clients that open a new connection for every request (kube-proxy balances each one). */
  fresh: number;
  /** IDs per request. */
  count: number;
  /** Per-request timeout; a slower answer counts as failed. */
  timeoutMs: number;
  /** Pause between one client's requests (bounds the load). */
  pauseMs: number;
  /** Stop on their own after this long, whatever happens (bounded load). */
  maxSeconds: number;
};

/** What the clients saw, printed by the pod when it stops. */
export type PullerResult = {
  requests: number;
  ok: number;
  keepAlive: { requests: number; failed: number };
  fresh: { requests: number; failed: number };
  /** Failed requests by reason (HTTP status + error code, or the network error). */
  failures: Record<string, number>;
  /** A few failures with their time, for the report. */
  samples: string[];
  ids: number;
  duplicates: number;
  seconds: number;
};

/**
 * The pod's program: clients pull `/v1/ids` through the Service without retrying (every failed attempt
 * counts), IDs are kept as 64-bit integers (8 bytes each) and checked for duplicates at the end. It stops
 * when /tmp/stop appears or after maxSeconds, prints `RESULT {json}` and exits.
 */
function pullerScript(url: string, s: PullerSettings): string {
  return `
const http = require("node:http");
const fs = require("node:fs");
const url = ${JSON.stringify(url)};
const started = Date.now();
const r = { requests: 0, ok: 0, keepAlive: { requests: 0, failed: 0 }, fresh: { requests: 0, failed: 0 }, failures: {}, samples: [], ids: 0, duplicates: 0, seconds: 0 };
const chunks = []; let chunk = new BigInt64Array(65536); let used = 0;
const keep = (id) => { if (used === chunk.length) { chunks.push(chunk); chunk = new BigInt64Array(65536); used = 0; } chunk[used++] = BigInt(id); };
let stopping = false;
const fail = (kind, reason) => { r[kind].failed++; r.failures[reason] = (r.failures[reason] || 0) + 1; if (r.samples.length < 20) r.samples.push(new Date().toISOString() + " " + kind + " " + reason); };
const one = (agent) => new Promise((resolve) => {
  const req = http.get(url, { agent, timeout: ${s.timeoutMs} }, (res) => {
    let body = ""; res.setEncoding("utf8");
    res.on("data", (c) => (body += c));
    res.on("end", () => resolve({ status: res.statusCode, body }));
    res.on("error", (e) => resolve({ status: 0, body: "response " + (e.code || e.message) }));
  });
  req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
  req.on("error", (e) => resolve({ status: 0, body: e.code || e.message }));
});
async function client(kind, agent) {
  while (!stopping) {
    r.requests++; r[kind].requests++;
    const a = await one(agent);
    if (a.status === 200) {
      try { const ids = JSON.parse(a.body).ids; for (const id of ids) keep(id); r.ok++; r.ids += ids.length; }
      catch (e) { fail(kind, "bad body"); }
    } else {
      let code = ""; try { code = JSON.parse(a.body).error.code; } catch {}
      fail(kind, a.status ? "HTTP " + a.status + " " + code : a.body);
    }
    await new Promise((res) => setTimeout(res, ${s.pauseMs}));
  }
}
const clients = [];
for (let i = 0; i < ${s.keepAlive}; i++) clients.push(client("keepAlive", new http.Agent({ keepAlive: true, maxSockets: 1 })));
for (let i = 0; i < ${s.fresh}; i++) clients.push(client("fresh", false));
const progress = setInterval(() => console.log("PROGRESS " + JSON.stringify({ requests: r.requests, ok: r.ok, failures: r.failures })), 5000);
const watch = setInterval(() => { if (fs.existsSync("/tmp/stop") || Date.now() - started > ${s.maxSeconds * 1000}) stopping = true; }, 100);
(async () => {
  while (!stopping) await new Promise((res) => setTimeout(res, 100));
  await Promise.all(clients);
  clearInterval(progress); clearInterval(watch);
  chunks.push(chunk.subarray(0, used));
  const all = new BigInt64Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0; for (const c of chunks) { all.set(c, at); at += c.length; }
  all.sort();
  for (let i = 1; i < all.length; i++) if (all[i] === all[i - 1]) r.duplicates++;
  r.seconds = (Date.now() - started) / 1000;
  console.log("RESULT " + JSON.stringify(r));
})();
`;
}

/** A pod of clients pulling IDs through a Service until stopped. */
export type ServicePullers = {
  /** Resolves once the clients have had `n` successful answers (traffic is flowing). */
  flowing(n?: number): Promise<void>;
  /** Stops the clients and returns what they saw. */
  stop(): Promise<PullerResult>;
};

/** Starts a pod (any image with node in it) pulling from `http://<service>.<namespace>.svc:<port>/v1/ids`. */
export async function startServicePullers(
  namespace: string,
  image: string,
  service: string,
  port: number,
  settings: PullerSettings,
  name: string,
): Promise<ServicePullers> {
  const url = `http://${service}.${namespace}.svc:${String(port)}/v1/ids?count=${String(settings.count)}`;
  await applyNodeScriptPod(namespace, name, image, pullerScript(url, settings), {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { memory: "256Mi" },
  });
  await k(["wait", "-n", namespace, `pod/${name}`, "--for=condition=Ready", "--timeout=120s"], {
    timeoutMs: 130_000,
  });
  const logs = () => k(["logs", "-n", namespace, name]);
  return {
    flowing: async (n = 20) => {
      await waitFor(
        `${name}: ${String(n)} answers through ${service}`,
        async () => {
          const last = (await logs())
            .split("\n")
            .filter((l) => l.startsWith("PROGRESS "))
            .at(-1);
          const ok = last ? (JSON.parse(last.slice("PROGRESS ".length)) as { ok: number }).ok : 0;
          if (ok < n) throw new Error(`${String(ok)} answers so far`);
          return true;
        },
        { timeoutMs: 60_000 },
      );
    },
    stop: async () => {
      await k([
        "exec",
        "-n",
        namespace,
        name,
        "--",
        "node",
        "-e",
        "require('fs').writeFileSync('/tmp/stop', '')",
      ]);
      await waitFor(
        `${name} finished`,
        async () => {
          const pod = await kJson<{ status: { phase: string } }>(["get", "pod", "-n", namespace, name]);
          if (pod.status.phase !== "Succeeded") throw new Error(`phase ${pod.status.phase}`);
          return true;
        },
        { timeoutMs: 60_000 },
      );
      const line = (await logs()).split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) throw new Error(`${name} printed no RESULT line`);
      await k(["delete", "pod", "-n", namespace, name, "--wait=false", "--ignore-not-found"]);
      return JSON.parse(line.slice("RESULT ".length)) as PullerResult;
    },
  };
}

/** One line for the test output. */
export function pullerSummary(what: string, r: PullerResult): string {
  const failed = r.keepAlive.failed + r.fresh.failed;
  return (
    `${what}: ${String(r.requests)} requests in ${r.seconds.toFixed(0)} s ` +
    `(keep-alive ${String(r.keepAlive.requests)}, new connection each ${String(r.fresh.requests)}), ` +
    `${String(failed)} failed${failed ? ` ${JSON.stringify(r.failures)}` : ""}, ` +
    `${String(r.ids)} IDs, ${String(r.duplicates)} duplicates`
  );
}
