import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseGeneratorEnv } from "../../../contract/generator-env.ts";
import { createGeneratorRuntime, type GeneratorRuntime } from "../generator-runtime.ts";
import { startStandaloneFence } from "../issuing/standalone-fence.ts";
import { gracefulShutdownOf, SHUTDOWN_CONDITION, type GracefulShutdown } from "./graceful-shutdown.ts";
import { ShutdownPhase } from "./shutdown-sequence.ts";

/*
 * The shutdown sequence wired to the real app, issuer and HTTP server on loopback: only the
 * lease write is replaced by a recorder (main.ts passes LeaseKeeper.release there).
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, agent?: import("node:http").Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/**
 * A standalone generator with a small sequence (4 IDs per 100 ms tick), so a batch of 40
 * spends about a second waiting for later ticks.
 */
async function startGenerator(drainMs: number) {
  const config = parseGeneratorEnv({
    IDGEN_WORKER_ID: "3",
    IDGEN_TIMESTAMP_BITS: "45",
    IDGEN_WORKER_ID_BITS: "16",
    IDGEN_SEQUENCE_BITS: "2",
    IDGEN_TIME_UNIT_MS: "100",
  });
  const runtime: GeneratorRuntime = await createGeneratorRuntime(config);
  runtime.issuer.setWorkerId(3);
  const stopFence = startStandaloneFence(runtime.issuer);
  const events: { what: string; issuerRefuses?: boolean; inFlight?: number }[] = [];
  let exited!: () => void;
  const exit = new Promise<void>((resolve) => (exited = resolve));
  const shutdown: GracefulShutdown = gracefulShutdownOf(runtime.app, {
    timing: { drainMs, inFlightBudgetMs: 5000 },
    readiness: runtime.readiness,
    stopIssuing: () => {
      stopFence();
      runtime.issuer.setFence(null);
      events.push({ what: "stopIssuing" });
    },
    release: async () => {
      const blocked = runtime.issuer.check(Date.now(), performance.now());
      events.push({
        what: "release",
        issuerRefuses: blocked?.kind === "refused",
        inFlight: shutdown.state.inFlight,
      });
    },
    exit: () => {
      events.push({ what: "exit" });
      exited();
    },
  });
  await runtime.app.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => {
    stopFence();
    runtime.stop();
    runtime.app.server.closeAllConnections();
    void runtime.app.close();
  });
  const port = (runtime.app.server.address() as AddressInfo).port;
  return { runtime, shutdown, events, exit, port };
}

describe("graceful shutdown of the real generator app", () => {
  it("SIGTERM while a batch waits for later ticks: answered in full, then issuing stops, then Released", async () => {
    // No drain, so the batch is still waiting when listening stops (the drain only adds time before).
    const { shutdown, events, exit, port } = await startGenerator(0);
    const batch = get(port, "/v1/ids?count=40");
    await new Promise((r) => setTimeout(r, 50));
    shutdown.signal("SIGTERM");
    expect(shutdown.state).toMatchObject({ phase: ShutdownPhase.Closing, inFlight: 1 });
    shutdown.signal("SIGTERM"); // a second SIGTERM changes nothing
    expect(shutdown.state).toMatchObject({ phase: ShutdownPhase.Closing, inFlight: 1 });
    expect(events).toEqual([]);

    const answer = await batch;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).ids).toHaveLength(40);
    expect(answer.headers.connection).toBe("close");
    await exit;
    expect(events.map((e) => e.what)).toEqual(["stopIssuing", "release", "exit"]);
    // The batch got all its IDs although issuing stopped before the release: it was answered first.
    expect(events[1]?.issuerRefuses).toBe(true);
    expect(events[1]?.inFlight).toBe(0);
  });

  it("draining: unready, still answering, keep-alive clients told to reconnect; nothing accepted after", async () => {
    const { shutdown, exit, port } = await startGenerator(1500);
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const before = await get(port, "/v1/id", agent);
    expect(before.headers.connection).toBe("keep-alive");
    shutdown.signal("SIGTERM");
    // Draining: unready with a reason, still answering, Connection: close on every response.
    const ready = await get(port, "/readyz");
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).failing).toEqual([
      expect.objectContaining({ condition: SHUTDOWN_CONDITION, reason: "ShuttingDown" }),
    ]);
    const draining = await get(port, "/v1/id", agent);
    expect(draining.status).toBe(200);
    expect(draining.headers.connection).toBe("close");
    await exit;
    await expect(get(port, "/v1/id")).rejects.toThrow(/ECONNREFUSED/);
  });
});
