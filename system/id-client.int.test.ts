import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { createTestNamespace } from "../e2e/control-plane/test-namespace.ts";
import { kubeConfigForServiceAccount } from "../e2e/control-plane/user-kubeconfig.ts";
import { apiServerAccessOf } from "../e2e/control-plane/api-server-access.ts";
import { fleetObjectNames } from "../operator/src/reconcile/fleet-naming.ts";
import { createFleet, startTestOperator, waitFor } from "../operator/test/operator-harness.ts";
import { freePort, startServer, type ServerProcess } from "../bench/http-bench.ts";
import { createIdClient, type IdClient } from "../client/src/index.ts";
import type { FailoverEvent } from "../client/src/client-events.ts";

/*
 * The client against real generator processes: SIGKILL and restart, SIGSTOP and SIGCONT, and
 * a lease-mode generator (the real operator allocating its lease on the integration API
 * server) cut off from the API server until it answers 503 FENCED, and reconnected. An
 * application's consumers run throughout: zero errors, zero duplicates.
 */

const repo = fileURLToPath(new URL("..", import.meta.url));
const FLEET = "ids";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startGenerator(port: number, env: Record<string, string>): Promise<ServerProcess> {
  return startServer(
    `generator :${port}`,
    `${repo}generator/src/main.ts`,
    [],
    { IDGEN_HOST: "127.0.0.1", IDGEN_PORT: String(port), IDGEN_ID_SPACE: FLEET, ...env },
    port,
    "/readyz",
  );
}

/** A TCP proxy to `target` whose traffic can be cut (a network partition) and restored. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut(on: boolean): void; close(): void }> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((inbound) => {
    if (cut) return inbound.destroy();
    const outbound = connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    cut(on) {
      cut = on;
      if (on) for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Consumers calling next() at about `rate` IDs/s in total, as an application would; every ID kept. */
function consume(client: IdClient, consumers: number, rate: number) {
  const ids: string[][] = [];
  const errors: unknown[] = [];
  let running = true;
  const loops = Array.from({ length: consumers }, async () => {
    const mine: string[] = [];
    ids.push(mine);
    const start = performance.now();
    while (running) {
      const due = ((performance.now() - start) / 1000) * (rate / consumers);
      while (mine.length < due && running) {
        try {
          mine.push(await client.next());
        } catch (error) {
          errors.push(error);
          await sleep(10);
        }
      }
      await sleep(1);
    }
  });
  return {
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
      return ids.flat();
    },
  };
}

async function answersFenced(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v1/id`);
    const body = (await response.json()) as { error?: { code?: string } };
    return response.status === 503 && body.error?.code === "FENCED";
  } catch {
    return false;
  }
}

/** A lease-mode generator process for pod `<fleet>-0`, its API traffic through a cuttable proxy. */
async function leaseModeGenerator(port: number) {
  const ns = await createTestNamespace("client");
  const op = await startTestOperator(ns.kubeConfig, ns.name, "op");
  cleanups.push(() => op.stop());
  const leases = {
    durationSeconds: 3,
    renewIntervalSeconds: 1,
    reclaimGraceSeconds: 1,
    safetyMarginSeconds: 1,
    reserveAheadMs: 2000,
  };
  await createFleet(ns.kubeConfig, ns.name, FLEET, { replicas: 1, leases, service: { port: 8080 } });
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  const pod = `${FLEET}-0`;
  const uid = await waitFor(
    `pod ${pod}`,
    async () => (await core.readNamespacedPod({ name: pod, namespace: ns.name })).metadata?.uid,
  );
  const saName = fleetObjectNames(FLEET).serviceAccount;
  const sa = await waitFor("generator ServiceAccount token", () =>
    kubeConfigForServiceAccount(ns.kubeConfig, ns.name, saName),
  );
  const cluster = sa.getCurrentCluster()!;
  const proxy = await cuttableProxy(new URL(cluster.server));
  cleanups.push(() => proxy.close());
  const dir = mkdtempSync(join(tmpdir(), "idfleet-client-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // What a pod has: the API server's address in the environment (here the cuttable proxy's),
  // the service-account token and CA as files.
  const access = apiServerAccessOf(sa);
  writeFileSync(join(dir, "token"), access.token ?? "");
  writeFileSync(join(dir, "ca.crt"), access.ca ?? "");
  const viaProxy = new URL(proxy.url);
  const generator = await startGenerator(port, {
    KUBERNETES_SERVICE_HOST: viaProxy.hostname,
    KUBERNETES_SERVICE_PORT: viaProxy.port,
    IDGEN_SERVICE_ACCOUNT_DIR: dir,
    IDGEN_FLEET: FLEET,
    POD_NAME: pod,
    POD_UID: uid,
    POD_NAMESPACE: ns.name,
    IDGEN_LEASE_DURATION_SECONDS: String(leases.durationSeconds),
    IDGEN_RENEW_INTERVAL_SECONDS: String(leases.renewIntervalSeconds),
    IDGEN_SAFETY_MARGIN_SECONDS: String(leases.safetyMarginSeconds),
    IDGEN_RESERVE_AHEAD_MS: String(leases.reserveAheadMs),
  });
  cleanups.push(() => generator.stop());
  return { generator, proxy };
}

describe("the client against real generators", () => {
  it("serves an application through SIGKILL + restart, SIGSTOP + SIGCONT and a generator answering 503 FENCED: no error, no duplicate", async () => {
    const [portA, portB, portL] = [await freePort(), await freePort(), await freePort()];
    // The standalone generators' worker ids stay clear of the ones the operator leases (from 0).
    let a = await startGenerator(portA, { IDGEN_WORKER_ID: "1001" });
    cleanups.push(() => a.stop());
    const b = await startGenerator(portB, { IDGEN_WORKER_ID: "1002" });
    cleanups.push(() => b.stop());
    const { generator: l, proxy } = await leaseModeGenerator(portL);

    const failovers: FailoverEvent[] = [];
    const client = createIdClient({
      endpoints: [a.url, b.url, l.url],
      requestTimeoutMs: 500,
      maxBatch: 2000,
      events: { failover: (e) => failovers.push(e) },
    });
    cleanups.push(() => client.close());
    const app = consume(client, 4, 100_000);
    await sleep(2000);

    process.kill(a.pid, "SIGKILL");
    await sleep(1500);
    a = await startGenerator(portA, { IDGEN_WORKER_ID: "1001" });
    await sleep(1500);

    process.kill(b.pid, "SIGSTOP");
    await sleep(3000);
    process.kill(b.pid, "SIGCONT");
    await sleep(1000);

    proxy.cut(true);
    await waitFor("the lease-mode generator to answer 503 FENCED", () => answersFenced(l.url), 20_000);
    await sleep(1500);
    proxy.cut(false);
    await waitFor(
      "the lease-mode generator to serve again",
      async () => (await fetch(`${l.url}/v1/id`)).ok,
      20_000,
    );
    await sleep(1000);

    const ids = await app.stop();
    expect(app.errors).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(500_000);
    const reasons = failovers.map((f) => f.reason).join("\n");
    expect(reasons).toMatch(/unreachable: ECONNREFUSED|unreachable: .*(RESET|SocketError|other side closed)/);
    expect(reasons).toMatch(/timeout: no answer within 500 ms/);
    expect(reasons).toMatch(/503 FENCED/);
    const served = client.stats();
    expect(served.delivered).toBe(ids.length);
  }, 240_000);

  it("idfleet id, decode --url and bounds --url against a real generator", async () => {
    const port = await freePort();
    const g = await startGenerator(port, { IDGEN_WORKER_ID: "7" });
    cleanups.push(() => g.stop());
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [`${repo}client/src/cli/idfleet.ts`, ...args]);
    const { stdout } = await cli("id", "--count", "3", "--url", g.url);
    const ids = stdout.trim().split("\n");
    expect(ids).toHaveLength(3);
    const decoded = JSON.parse((await cli("decode", ids[0]!, "--url", g.url)).stdout) as { workerId: number };
    const served = (await (await fetch(`${g.url}/v1/parse/${ids[0]}`)).json()) as unknown;
    expect(decoded).toEqual(served);
    expect(decoded.workerId).toBe(7);
    const bounds = (
      await cli("bounds", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z", "--url", g.url)
    ).stdout;
    const servedBounds = await (
      await fetch(`${g.url}/v1/bounds?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`)
    ).json();
    expect(JSON.parse(bounds)).toEqual(servedBounds);
    await expect(cli("id", "--url", "http://127.0.0.1:1")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /no idfleet endpoint served IDs for 5000 ms.*tried: http:\/\/127.0.0.1:1/,
      ),
    });
  }, 60_000);
});
