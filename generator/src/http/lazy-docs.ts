import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { SCHEMA_FREE_COMPILERS } from "./schema-free-compilers.ts";

/** Where the interactive API documentation lives. */
export const DOCS_PREFIX = "/docs";

/** The OpenAPI document's info block. */
export interface ApiInfo {
  title: string;
  description: string;
  version: string;
}

/**
 * Serves the OpenAPI document and swagger-ui under /docs, loading both on the first request
 * instead of at start-up: together they cost a generator ~80 ms of CPU and a few MiB on every
 * start, on a busy node, for a page hardly anyone opens (docs/serving.md). The app's routes
 * are recorded as they are added (call this before adding them); on the first /docs request a
 * fastify instance that never listens is built with @fastify/swagger, swagger-ui and the same
 * routes and schemas, and /docs requests are handed to it with inject().
 */
export function serveDocsLazily(app: FastifyInstance, info: ApiInfo): void {
  const routes: RouteOptions[] = [];
  app.addHook("onRoute", (route) => {
    // HEAD twins are added by fastify itself (and again by the docs instance).
    if (!route.url.startsWith(DOCS_PREFIX) && route.method !== "HEAD") routes.push(route);
  });

  let docs: Promise<FastifyInstance> | null = null;
  const load = async (): Promise<FastifyInstance> => {
    const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
      import("fastify"),
      import("@fastify/swagger"),
      import("@fastify/swagger-ui"),
    ]);
    // The schemas are for the document only; nothing is validated or serialized here.
    const instance = Fastify({ logger: false, schemaController: SCHEMA_FREE_COMPILERS });
    await instance.register(swagger, { openapi: { info } });
    await instance.register(swaggerUi, { routePrefix: DOCS_PREFIX });
    for (const r of routes) {
      instance.route({
        method: r.method,
        url: r.url,
        ...(r.schema ? { schema: r.schema } : {}),
        // e.g. swaggerTransform: a route may describe in the document what it does not validate.
        ...(r.config ? { config: r.config } : {}),
        handler: noop,
      });
    }
    await instance.ready();
    return instance;
  };
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    docs ??= load().catch((error: unknown) => {
      docs = null; // try again on the next request
      throw error;
    });
    const res = await (
      await docs
    ).inject({ method: "GET", url: request.url, headers: request.headers as Record<string, string> });
    const { "content-length": _l, "transfer-encoding": _t, connection: _c, ...headers } = res.headers;
    return reply.code(res.statusCode).headers(headers).send(res.rawPayload);
  };
  app.get(DOCS_PREFIX, { schema: { hide: true } }, forward);
  app.get(`${DOCS_PREFIX}/*`, { schema: { hide: true } }, forward);
}

async function noop(): Promise<void> {}
