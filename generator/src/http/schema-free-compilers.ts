import type { FastifyServerOptions } from "fastify";

/**
 * Fastify's schema compilers for an app whose route schemas only describe the API (the OpenAPI
 * document): zod validates, answers are written as they are. Given as `schemaController`, fastify
 * then never loads ajv and fast-json-stringify, ~10 MiB and ~0.05 CPU-s of every generator start
 * (docs/serving.md, "A light generator").
 */
export const SCHEMA_FREE_COMPILERS = {
  compilersFactory: {
    // Fastify's types name ajv's function shapes; at run time a validator returns { value }.
    buildValidator: () => () => (data: unknown) => ({ value: data }),
    buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
  },
} as unknown as NonNullable<FastifyServerOptions["schemaController"]>;
