import Fastify, { LogController } from "fastify";

// The baseline for the /v1/id benchmark: fastify with the same options and one route
// returning a constant ID body, so the ratio isolates what issuing an ID costs.
const port = Number(process.argv[2]);
const app = Fastify({ logger: false, logController: new LogController({ disableRequestLogging: true }) });
app.get("/v1/id", async (_request, reply) =>
  reply.type("application/json").send('{"id":"382667968368103424"}'),
);
await app.listen({ host: "127.0.0.1", port });
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
