import Fastify, { LogController, type FastifyInstance, type FastifyReply } from "fastify";
import { z } from "zod";
import { idBounds, IdBoundsError, parseTimeParameter } from "../../../contract/id-bounds.ts";
import {
  decodeIdAs,
  encodeIdAs,
  ID_FORMAT_SPECS,
  ID_FORMATS,
  IdFormat,
} from "../../../contract/id-encoding.ts";
import { boundsDocument, parsedIdDocument, type ParsedIdDocument } from "../../../contract/id-documents.ts";
import { encodeId, type LayoutMath } from "../../../contract/id-layout-math.ts";
import { formatIssues } from "../../../contract/id-layout.ts";
import { layoutDocument } from "../../../contract/layout-document.ts";
import { serveDocsLazily } from "./lazy-docs.ts";
import { SCHEMA_FREE_COMPILERS } from "./schema-free-compilers.ts";
import { WallClockWaiter } from "../clock/wall-clock-waiter.ts";
import type { ConditionStatus, ReadinessGate } from "../health/readiness-gate.ts";
import { RefusalCode, type IssuedRange, type Issuer } from "../issuing/issuer.ts";
import type { GeneratorMetrics } from "../metrics/generator-metrics.ts";
import { decimalId } from "../encoding/decimal-id-encoder.ts";
import { appendFixedWidthIds, type FixedWidthFormat } from "../encoding/fixed-width-id-encoder.ts";
import { BufferPool } from "../encoding/buffer-pool.ts";
import { batchBodyCapacity, IdBatchJsonWriter } from "../encoding/id-batch-json-writer.ts";
import {
  issueIds,
  type IssueOutcome,
  type IssueWaiting,
  type NotIssued,
  type RangeSink,
} from "./issue-ids.ts";

/** Codes of 4xx errors; 503 errors carry the issuer's refusal codes or the clock's reason. */
export const HttpErrorCode = {
  InvalidParameter: "INVALID_PARAMETER",
  NotFound: "NOT_FOUND",
  NotReady: "NOT_READY",
  Internal: "INTERNAL",
  /** The process is shutting down (SIGTERM); another pod of the Service answers. */
  ShuttingDown: "SHUTTING_DOWN",
} as const;

export interface GeneratorAppOptions {
  issuer: Issuer;
  readiness: ReadinessGate;
  /** Clock health; issuing is refused (503) while it is not ok. Called per request: keep it cheap. */
  clockStatus: () => ConditionStatus;
  metrics: GeneratorMetrics;
  /** The id space this generator issues into (IDGEN_ID_SPACE), shown by /v1/layout. */
  idSpace: string;
  /** Largest count /v1/ids accepts (IDGEN_MAX_BATCH, further capped by the layout; see batchLimit). */
  maxBatch: number;
  logger?: boolean;
}

/** Time budget for waiting inside one request (sequence exhaustion, small clock steps). */
export const REQUEST_WAIT_BUDGET_MS = 2000;

/**
 * The largest batch one request may ask for: IDGEN_MAX_BATCH, but never more than one
 * second of the layout's capacity (at least one tick's worth), so a batch never waits
 * long for its sequence to refill (e.g. S=1 at 1000 ms ticks allows 2 per request).
 */
export function batchLimit(math: LayoutMath, maxBatch: number): number {
  return Math.max(1, Math.min(maxBatch, Math.max(math.idsPerTick, Math.floor(math.idsPerSecondPerWorker))));
}

const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" } },
      required: ["code", "message"],
    },
  },
  required: ["error"],
} as const;

/** zod → JSON Schema for the OpenAPI document (input side: what the client sends). */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  return rest;
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  retryAfterMs?: number,
) {
  if (retryAfterMs !== undefined)
    reply.header("retry-after", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return reply
    .code(status)
    .type("application/json")
    .send(JSON.stringify({ error: { code, message } }));
}

/** Builds the generator's HTTP API. Request path: validate, check clock, issue (waiting if told), encode. */
export async function buildGeneratorApp(options: GeneratorAppOptions): Promise<FastifyInstance> {
  const { issuer, readiness, clockStatus, metrics } = options;
  const math = issuer.math;
  const maxCount = batchLimit(math, options.maxBatch);

  // Batch bodies of 64 KiB and up are reused (see BufferPool); 4 MiB covers 16 in-flight 10,000-ID bodies.
  const bodyBuffers = new BufferPool({ minBytes: 64 * 1024, maxFreeBytes: 4 * 1024 * 1024 });

  const app = Fastify({
    logger: options.logger ?? false,
    // A log line per request would cost more than issuing the ID.
    logController: new LogController({ disableRequestLogging: true }),
    // While closing, requests on open keep-alive connections still reach the routes, which refuse
    // them with the documented error body (fastify's own 503 has another shape).
    return503OnClosing: false,
    // zod is the only validator: route schemas below exist for the OpenAPI document.
    schemaController: SCHEMA_FREE_COMPILERS,
  });
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });

  // Before the routes: it records them for the OpenAPI document it builds on first request.
  serveDocsLazily(app, {
    title: "idfleet generator",
    description: `64-bit time-sortable IDs (timestamp ${math.layout.timestampBits} bits, worker id ${math.layout.workerIdBits}, sequence ${math.layout.sequenceBits}, ${math.layout.timeUnitMs} ms ticks from ${math.layout.epoch}). IDs are decimal strings unless ?format= names base62 or base32 (fixed width, sortable as text). GET /v1/layout describes the layout, GET /v1/bounds gives the IDs of a time range.`,
    version: "1",
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      404,
      HttpErrorCode.NotFound,
      `no route ${request.method} ${request.url}; the API is described at /docs`,
    ),
  );
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error(error);
    return sendError(
      reply,
      status,
      status >= 500 ? HttpErrorCode.Internal : HttpErrorCode.InvalidParameter,
      status >= 500 ? "internal error" : error.message,
    );
  });

  /** 503 when the clock or the issuer forbids issuing; otherwise the IDs. */
  const refuse = (reply: FastifyReply, refusal: NotIssued) => {
    metrics.recordRefusal(refusal.code);
    // This pod cannot serve for a while (unlike BUSY, or a layout every pod has exhausted): close
    // the connection, so a keep-alive client behind the Service reconnects and kube-proxy picks a
    // ready pod. An open connection stays with the pod it was first sent to, however long that
    // pod is unready (the chaos run's API partition saw 37% of Service requests refused so).
    if (refusal.code !== RefusalCode.Busy && refusal.code !== RefusalCode.LayoutExhausted)
      reply.header("connection", "close");
    return sendError(reply, 503, refusal.code, refusal.message, refusal.retryAfterMs);
  };
  // Waits for the next tick let other requests' I/O run and sleep the rest (no spinning).
  const wallClock = new WallClockWaiter();
  const waiting: IssueWaiting = {
    budgetMs: REQUEST_WAIT_BUDGET_MS,
    until: (wallMs) => wallClock.until(wallMs),
    onWait: (reason, seconds) => metrics.recordWait(reason, seconds),
  };
  /** Checks the clock, then issues `count` IDs into `sink`; a refusal if not allowed. */
  const issue = async (count: number, sink: RangeSink): Promise<IssueOutcome> => {
    if (closing) {
      const message = "this generator is shutting down; retry, another pod of the Service answers";
      return { ok: false, refusal: { code: HttpErrorCode.ShuttingDown, message, retryAfterMs: 1000 } };
    }
    const clock = clockStatus();
    if (!clock.ok)
      return { ok: false, refusal: { code: clock.reason, message: clock.message, retryAfterMs: 1000 } };
    return issueIds(issuer, count, sink, waiting);
  };

  // format= is one zod field shared by the routes that write or read IDs.
  const formatField = z
    .enum(IdFormat, { error: `must be one of ${ID_FORMATS.join(", ")}` })
    .default(IdFormat.decimal)
    .describe(
      `How IDs are written: ${ID_FORMATS.map((f) => `${f}: ${ID_FORMAT_SPECS[f].description}`).join("; ")}`,
    );
  const idQuery = z.object({ format: formatField });
  /** The IDs of one issued range, written in a fixed-width format. */
  const encodeRange = (format: FixedWidthFormat, r: IssuedRange, out: string[]) =>
    appendFixedWidthIds(math, format, r.tick, r.workerId, r.firstSequence, r.count, out);

  app.get(
    "/v1/id",
    {
      // The query schema goes into the OpenAPI document only: on the route, fastify would run a
      // validator on every request of its busiest path (about 2 µs of CPU each, measured).
      config: {
        swaggerTransform: ({ schema, url }) => ({
          schema: { ...schema, querystring: jsonSchema(idQuery) },
          url,
        }),
      },
      schema: {
        summary: "Issue one ID",
        response: {
          200: { type: "object", properties: { id: { type: "string", description: "in the asked format" } } },
          400: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      let id = "";
      // The common request names no format: skip the query parse on the hot path.
      const query =
        (request.query as { format?: unknown }).format === undefined
          ? undefined
          : idQuery.safeParse(request.query);
      if (query && !query.success) {
        return sendError(reply, 400, HttpErrorCode.InvalidParameter, formatIssues(query.error.issues));
      }
      const format = query?.data.format ?? IdFormat.decimal;
      const outcome = await issue(1, (r) => {
        if (format === IdFormat.decimal) id = decimalId(math, r.tick, r.workerId, r.firstSequence);
        else id = encodeIdAs(encodeId(math, r.tick, r.workerId, r.firstSequence), format);
      });
      if (!outcome.ok) return refuse(reply, outcome.refusal);
      return reply.type("application/json").send(`{"id":"${id}"}`);
    },
  );

  const idsQuery = z.object({
    count: z
      .string({ error: `is required: /v1/ids?count=N with N from 1 to ${maxCount}` })
      .regex(/^\d+$/, { error: `must be a whole number from 1 to ${maxCount}` })
      .transform(Number)
      .pipe(
        z
          .number()
          .min(1, { error: `must be from 1 to ${maxCount}` })
          .max(maxCount, {
            error: `must be at most ${maxCount} (IDGEN_MAX_BATCH, capped at one second of the layout's capacity)`,
          }),
      )
      .describe(`How many IDs, 1..${maxCount}`),
    format: formatField,
  });
  app.get(
    "/v1/ids",
    {
      schema: {
        summary: "Issue a batch of IDs (strictly increasing)",
        querystring: jsonSchema(idsQuery),
        response: {
          200: { type: "object", properties: { ids: { type: "array", items: { type: "string" } } } },
          400: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const query = idsQuery.safeParse(request.query);
      if (!query.success) {
        return sendError(reply, 400, HttpErrorCode.InvalidParameter, formatIssues(query.error.issues));
      }
      const { count, format } = query.data;
      metrics.recordBatch(count);
      if (format !== IdFormat.decimal) {
        const ids: string[] = [];
        const outcome = await issue(count, (r) => encodeRange(format, r, ids));
        if (!outcome.ok) return refuse(reply, outcome.refusal);
        // base62 and base32 digits need no JSON escaping.
        return reply.type("application/json").send(`{"ids":["${ids.join('","')}"]}`);
      }
      const buffer = bodyBuffers.take(batchBodyCapacity(count));
      const body = new IdBatchJsonWriter(count, buffer);
      const outcome = await issue(count, (r) =>
        body.appendRange(math, r.tick, r.workerId, r.firstSequence, r.count),
      );
      if (!outcome.ok) {
        bodyBuffers.give(buffer);
        return refuse(reply, outcome.refusal);
      }
      // 'finish': the whole body went to the kernel, so the buffer may be written again.
      reply.raw.once("finish", () => bodyBuffers.give(buffer));
      return reply.type("application/json").send(body.finish());
    },
  );

  const parseParams = z.object({
    id: z.string().describe("An ID in the format named by ?format= (default decimal)"),
  });
  const formatsSchema = {
    type: "object",
    description: "The ID in every format",
    properties: Object.fromEntries(ID_FORMATS.map((f) => [f, { type: "string" }])),
  } as const;
  app.get(
    "/v1/parse/:id",
    {
      schema: {
        summary: "Decode an ID into its time, worker id and sequence",
        params: jsonSchema(parseParams),
        querystring: jsonSchema(idQuery),
        response: {
          200: {
            type: "object",
            properties: {
              id: { type: "string", description: "decimal" },
              time: { type: "string", format: "date-time" },
              timestamp: { type: "integer", description: "ticks since the layout's epoch" },
              workerId: { type: "integer" },
              sequence: { type: "integer" },
              formats: formatsSchema,
            },
          },
          400: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const params = parseParams.parse(request.params);
      const query = idQuery.safeParse(request.query);
      if (!query.success) {
        return sendError(reply, 400, HttpErrorCode.InvalidParameter, formatIssues(query.error.issues));
      }
      let id: bigint;
      try {
        id = decodeIdAs(params.id, query.data.format);
      } catch (error) {
        return sendError(reply, 400, HttpErrorCode.InvalidParameter, (error as Error).message);
      }
      let document: ParsedIdDocument;
      try {
        document = parsedIdDocument(math, id);
      } catch (error) {
        return sendError(reply, 400, HttpErrorCode.InvalidParameter, (error as Error).message);
      }
      return reply.send(document);
    },
  );

  const layout = layoutDocument(math, options.idSpace);
  app.get(
    "/v1/layout",
    {
      schema: {
        summary: "The ID layout and what it implies (clients read it instead of configuring a layout)",
        response: {
          200: {
            type: "object",
            properties: {
              timestampBits: { type: "integer" },
              workerIdBits: { type: "integer" },
              sequenceBits: { type: "integer" },
              timeUnitMs: { type: "integer", description: "length of one tick" },
              epoch: { type: "string", format: "date-time" },
              idSpace: { type: "string" },
              capacityIdsPerSecond: {
                type: "number",
                description: "IDs one generator (worker) can issue per second: 2^sequenceBits per tick",
              },
              timestampExhaustsAt: {
                type: ["string", "null"],
                format: "date-time",
                description: "when the timestamp bits run out and no ID fits any more",
              },
              idsPassSafeIntegerAt: {
                type: ["string", "null"],
                format: "date-time",
                description: "when IDs first exceed 2^53 - 1, the largest integer a JavaScript number holds",
              },
            },
          },
        },
      },
    },
    async () => layout,
  );

  const boundsQuery = z.object({
    from: z
      .string()
      .optional()
      .describe("Start of the range, inclusive: RFC 3339 or Unix epoch milliseconds"),
    to: z.string().optional().describe("End of the range, exclusive: RFC 3339 or Unix epoch milliseconds"),
    format: formatField,
  });
  app.get(
    "/v1/bounds",
    {
      schema: {
        summary:
          "The IDs of a time range: min is the smallest ID with time >= from, max the largest with time < to, so id BETWEEN min AND max selects [from, to)",
        querystring: jsonSchema(boundsQuery),
        response: {
          200: {
            type: "object",
            properties: {
              from: { type: "string", format: "date-time" },
              to: { type: "string", format: "date-time" },
              min: { type: "string" },
              max: { type: "string" },
            },
          },
          400: {
            ...errorSchema,
            description:
              "code INVALID_TIME, EMPTY_RANGE, BEFORE_EPOCH or PAST_LAYOUT_END (INVALID_PARAMETER for format); the message says what is allowed",
          },
        },
      },
    },
    async (request, reply) => {
      const query = boundsQuery.safeParse(request.query);
      if (!query.success) {
        return sendError(reply, 400, HttpErrorCode.InvalidParameter, formatIssues(query.error.issues));
      }
      const { from, to, format } = query.data;
      try {
        const fromMs = parseTimeParameter("from", from);
        const toMs = parseTimeParameter("to", to);
        return reply.send(boundsDocument(fromMs, toMs, idBounds(math, fromMs, toMs), format));
      } catch (error) {
        if (!(error instanceof IdBoundsError)) throw error;
        return sendError(reply, 400, error.code, error.message);
      }
    },
  );

  app.get("/healthz", { schema: { summary: "Liveness: the process serves HTTP" } }, async () => ({
    status: "ok",
  }));

  app.get(
    "/readyz",
    { schema: { summary: "Readiness: 200 only when every condition is ok, else 503 with the reasons" } },
    async (_request, reply) => {
      const state = readiness.evaluate();
      if (state.ready) return reply.send({ ready: true, conditions: state.conditions });
      return reply.code(503).send({
        ready: false,
        error: {
          code: HttpErrorCode.NotReady,
          message: state.failing.map((f) => `${f.condition}: ${f.reason}: ${f.message}`).join("; "),
        },
        failing: state.failing,
      });
    },
  );

  app.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics (idgen_ prefix)" } },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  return app;
}
