import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { parseGeneratorEnv } from "../../../contract/generator-env.ts";
import { decodeIdAs, encodeIdAs } from "../../../contract/id-encoding.ts";
import { decodeId, layoutMath, tickAt } from "../../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../../contract/id-layout.ts";
import { layoutDocument, layoutFromDocument } from "../../../contract/layout-document.ts";
import { createGeneratorRuntime, type GeneratorRuntime } from "../generator-runtime.ts";
import { startStandaloneFence } from "../issuing/standalone-fence.ts";
import { batchLimit } from "./generator-app.ts";

// The HTTP edge through fastify's in-process inject: real routes, no sockets.
let runtime: GeneratorRuntime | undefined;
afterEach(async () => {
  runtime?.stop();
  await runtime?.app.close();
  runtime = undefined;
});

async function start(env: Record<string, string> = {}, standalone = true): Promise<GeneratorRuntime> {
  runtime = await createGeneratorRuntime(parseGeneratorEnv({ IDGEN_WORKER_ID: "9", ...env }));
  if (standalone) {
    runtime.issuer.setWorkerId(9);
    startStandaloneFence(runtime.issuer)();
  }
  return runtime;
}

describe("generator HTTP API", () => {
  it("issues one ID as a decimal string that decodes to this worker and now", async () => {
    const { app, issuer } = await start();
    const res = await app.inject("/v1/id");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/application\/json/);
    const { id } = res.json() as { id: string };
    expect(id).toMatch(/^\d+$/);
    const decoded = decodeId(issuer.math, BigInt(id));
    expect(decoded.workerId).toBe(9);
    expect(Math.abs(decoded.time.getTime() - Date.now())).toBeLessThan(5000);
  });

  it("issues a batch spanning several ticks, strictly increasing", async () => {
    const { app } = await start();
    const res = await app.inject("/v1/ids?count=10000");
    expect(res.statusCode).toBe(200);
    const ids = (res.json() as { ids: string[] }).ids.map(BigInt);
    expect(ids).toHaveLength(10_000);
    for (let i = 1; i < ids.length; i++) expect((ids[i] as bigint) > (ids[i - 1] as bigint)).toBe(true);
  });

  it.each([
    ["/v1/ids", "count: is required: /v1/ids?count=N with N from 1 to 10000"],
    ["/v1/ids?count=0", "count: must be from 1 to 10000"],
    ["/v1/ids?count=1.5", "count: must be a whole number from 1 to 10000"],
    ["/v1/ids?count=10001", "count: must be at most 10000"],
    [
      "/v1/parse/12x",
      '"12x" is not a decimal ID: expected a decimal integer of 1 to 19 digits, 0 to 9223372036854775807',
    ],
    ["/v1/parse/9223372036854775808", "larger than 9223372036854775807"],
  ])("answers %s with 400 and a message saying what is allowed", async (url, message) => {
    const { app } = await start();
    const res = await app.inject(url);
    expect(res.statusCode).toBe(400);
    const body = res.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe("INVALID_PARAMETER");
    expect(body.error.message).toContain(message);
  });

  it("honours IDGEN_MAX_BATCH and caps batches at one second of a slow layout", async () => {
    const { app } = await start({ IDGEN_MAX_BATCH: "50" });
    expect((await app.inject("/v1/ids?count=51")).statusCode).toBe(400);
    expect((await app.inject("/v1/ids?count=50")).statusCode).toBe(200);
    const slow = layoutMath(
      parseIdLayout({ timestampBits: 52, workerIdBits: 10, sequenceBits: 1, timeUnitMs: 1000 }),
    );
    expect(batchLimit(slow, 10_000)).toBe(2);
  });

  it("decodes an ID", async () => {
    const { app } = await start();
    const res = await app.inject("/v1/parse/382667968540069889");
    expect(res.json()).toEqual({
      id: "382667968540069889",
      time: "2026-11-21T23:05:53.327Z",
      timestamp: 91235153327,
      workerId: 5,
      sequence: 1,
      formats: { decimal: "382667968540069889", base62: "0SGceB7frYf", base32: "0AKW2FNNW0M01" },
    });
  });

  it.each([
    ["base62", /^[0-9A-Za-z]{11}$/],
    ["base32", /^[0-9A-HJKMNP-TV-Z]{13}$/],
    ["decimal", /^\d{1,19}$/],
  ] as const)("issues IDs as %s, fixed width and in order, and parses them back", async (format, pattern) => {
    const { app, issuer } = await start();
    const one = (await app.inject(`/v1/id?format=${format}`)).json() as { id: string };
    expect(one.id).toMatch(pattern);
    const { ids } = (await app.inject(`/v1/ids?count=5000&format=${format}`)).json() as { ids: string[] };
    expect(ids).toHaveLength(5000);
    const all = [one.id, ...ids];
    const numbers = all.map((text) => decodeIdAs(text, format));
    for (let i = 1; i < all.length; i++) {
      expect(numbers[i]! > numbers[i - 1]!).toBe(true);
      if (format !== "decimal") expect(all[i]! > all[i - 1]!).toBe(true);
    }
    const parsed = (await app.inject(`/v1/parse/${ids[0]}?format=${format}`)).json() as {
      id: string;
      workerId: number;
      formats: Record<string, string>;
    };
    expect(parsed).toMatchObject({ id: numbers[1]!.toString(), workerId: 9 });
    expect(parsed.formats[format]).toBe(ids[0]);
    expect(decodeId(issuer.math, numbers[1]!).workerId).toBe(9);
  });

  it.each([
    ["/v1/id?format=hex", "format: must be one of decimal, base62, base32"],
    ["/v1/ids?count=2&format=hex", "format: must be one of decimal, base62, base32"],
    ["/v1/parse/abc?format=base62", '"abc" is not a base62 ID: it has 3 characters, expected 11 characters'],
    ["/v1/parse/0000000000U00?format=base32", '"U" is not a base32 digit; expected 13 characters'],
  ])("answers %s with 400 naming the format and its width", async (url, message) => {
    const { app } = await start();
    const res = await app.inject(url);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { code: "INVALID_PARAMETER", message: expect.stringContaining(message) },
    });
  });

  it("serves the layout document of its layout and id space", async () => {
    const { app, issuer } = await start({
      IDGEN_ID_SPACE: "orders",
      IDGEN_SEQUENCE_BITS: "11",
      IDGEN_WORKER_ID_BITS: "11",
    });
    const served = (await app.inject("/v1/layout")).json() as unknown;
    expect(served).toEqual(layoutDocument(issuer.math, "orders"));
    expect(layoutFromDocument(served)).toEqual(issuer.math);
  });

  it("gives the IDs of a time range, and the IDs issued now fall inside the current second's", async () => {
    const { app } = await start();
    const second = Math.floor(Date.now() / 1000) * 1000;
    const { id } = (await app.inject("/v1/id")).json() as { id: string };
    const url = `/v1/bounds?from=${new Date(second - 1000).toISOString()}&to=${second + 2000}`;
    const res = await app.inject(url);
    expect(res.statusCode).toBe(200);
    const bounds = res.json() as { from: string; to: string; min: string; max: string };
    expect(bounds.from).toBe(new Date(second - 1000).toISOString());
    expect(BigInt(bounds.min) <= BigInt(id) && BigInt(id) <= BigInt(bounds.max)).toBe(true);
    const exact = (await app.inject("/v1/bounds?from=2024-01-01T00:00:00.001Z&to=1704067200003")).json();
    expect(exact).toMatchObject({ min: String(1n << 22n), max: String((3n << 22n) - 1n) });
    const base32 = (
      await app.inject("/v1/bounds?from=2024-01-01T00:00:00.001Z&to=1704067200003&format=base32")
    ).json();
    expect(base32).toMatchObject({
      min: encodeIdAs(1n << 22n, "base32"),
      max: encodeIdAs((3n << 22n) - 1n, "base32"),
    });
  });

  it.each([
    ["/v1/bounds?to=2025-01-01T00:00:00Z", "INVALID_TIME", "from is required: RFC 3339"],
    ["/v1/bounds?from=yesterday&to=2025-01-01T00:00:00Z", "INVALID_TIME", 'from "yesterday" is not a time'],
    ["/v1/bounds?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "EMPTY_RANGE", "from must be before to"],
    ["/v1/bounds?from=2025-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", "EMPTY_RANGE", "from equals to"],
    [
      "/v1/bounds?from=2023-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
      "BEFORE_EPOCH",
      "use times from the epoch 2024-01-01T00:00:00Z",
    ],
    [
      "/v1/bounds?from=2025-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
      "PAST_LAYOUT_END",
      "up to the layout's end 2093-09-06T15:47:35.552Z",
    ],
    ["/v1/bounds?from=1&to=2&format=hex", "INVALID_PARAMETER", "format: must be one of"],
  ])("answers %s with 400 %s", async (url, code, message) => {
    const { app } = await start();
    const res = await app.inject(url);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code, message: expect.stringContaining(message) } });
  });

  it("documents the new routes and their parameters at /docs", async () => {
    const { app } = await start();
    const doc = (await app.inject("/docs/json")).json() as {
      paths: Record<string, { get: { parameters?: { name: string; in: string }[] } }>;
    };
    for (const path of ["/v1/layout", "/v1/bounds", "/v1/id", "/v1/ids", "/v1/parse/{id}"])
      expect(doc.paths).toHaveProperty([path]);
    const names = (path: string) => doc.paths[path]!.get.parameters?.map((p) => `${p.in}:${p.name}`);
    expect(names("/v1/bounds")).toEqual(["query:from", "query:to", "query:format"]);
    expect(names("/v1/ids")).toEqual(["query:count", "query:format"]);
    expect(names("/v1/id")).toEqual(["query:format"]);
    expect(names("/v1/parse/{id}")).toEqual(["query:format", "path:id"]);
  });

  it("refuses with 503, Retry-After and the reason when not leased, and /readyz says why", async () => {
    const { app } = await start({}, false);
    const res = await app.inject("/v1/id");
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.json()).toEqual({
      error: { code: "NOT_LEASED", message: "this generator holds no worker-id lease" },
    });
    const ready = await app.inject("/readyz");
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      ready: false,
      error: { code: "NOT_READY" },
      failing: [{ condition: "issuer", reason: "NOT_LEASED" }],
    });
  });

  it("refuses requests that arrive while it shuts down with its own error body", async () => {
    const { app } = await start();
    const closed = app.close();
    const res = await app.inject("/v1/ids?count=5");
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.json()).toEqual({
      error: {
        code: "SHUTTING_DOWN",
        message: "this generator is shutting down; retry, another pod of the Service answers",
      },
    });
    await closed;
  });

  it("refuses with FENCED once the clock is past the reserved range", async () => {
    const { app, issuer } = await start({}, false);
    issuer.setWorkerId(9);
    const now = tickAt(issuer.math, Date.now());
    issuer.setFence({ floorTick: now - 100, ceilingTick: now - 1, validUntilMonoMs: Infinity });
    const res = await app.inject("/v1/ids?count=3");
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: "FENCED" } });
    // Keep-alive clients behind a Service reconnect (to a ready pod) instead of staying here.
    expect(res.headers.connection).toBe("close");
    const metrics = await app.inject("/metrics");
    expect(metrics.body).toMatch(/^idgen_refusals_total\{code="FENCED"\} 1$/m);
  });

  it("refuses with the clock's reason while the clock is unhealthy", async () => {
    // An NTP server nobody answers on: unsynced until the first reply.
    const { app } = await start({ IDGEN_NTP_SERVERS: "127.0.0.1:9" });
    const res = await app.inject("/v1/id");
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: "CLOCK_UNSYNCED" } });
    expect(res.headers["retry-after"]).toBe("1");
    expect((await app.inject("/readyz")).json()).toMatchObject({
      failing: [{ condition: "clock", reason: "CLOCK_UNSYNCED" }],
    });
  });

  it("without NTP, refuses on the very next request once an API answer proves the clock ahead", async () => {
    const rt = await start();
    expect((await rt.app.inject("/v1/id")).statusCode).toBe(200);
    // What a lease renewal's answer would bring: the API server's clock 6 s behind this one.
    const now = Date.now();
    rt.clock.recordServerTime(
      { sentWallMs: now, receivedWallMs: now + 5, serverDateMs: Math.floor((now - 6000) / 1000) * 1000 },
      performance.now(),
    );
    const res = await rt.app.inject("/v1/id");
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: "CLOCK_DRIFT" } });
    expect(res.json().error.message).toContain("ahead of the API server's");
  });

  it("serves liveness, Prometheus metrics and the OpenAPI document", async () => {
    const { app } = await start();
    await app.inject("/v1/ids?count=7");
    expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
    const metrics = (await app.inject("/metrics")).body;
    for (const name of [
      "idgen_ids_issued_total 7",
      "idgen_sequence_utilization ",
      "idgen_sequence_exhaustions_total 0",
      "idgen_sequence_wait_seconds_total",
      "idgen_clock_offset_seconds",
      "idgen_clock_healthy 1",
      "idgen_clock_backward_steps_total 0",
      "idgen_timestamp_exhaustion_timestamp_seconds 3903090455.552",
      "idgen_worker_id 9",
      "idgen_fence_ceiling_tick",
      "idgen_process_resident_memory_bytes",
    ]) {
      expect(metrics).toContain(name);
    }
    const doc = (await app.inject("/docs/json")).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/id", "/v1/ids", "/v1/parse/{id}", "/healthz", "/readyz", "/metrics"]),
    );
    expect((await app.inject("/docs")).statusCode).toBeLessThan(400);
    expect((await app.inject("/nope")).json()).toEqual({
      error: { code: "NOT_FOUND", message: "no route GET /nope; the API is described at /docs" },
    });
  });
});
