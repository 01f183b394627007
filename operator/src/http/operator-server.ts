import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

/** /healthz (process alive), /readyz (caches synced) and /metrics on one port. */
export function startOperatorServer(options: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => { ok: boolean; reason: string };
}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405, { "content-type": "text/plain" }).end("method not allowed\n");
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const r = options.ready();
      res.writeHead(r.ok ? 200 : 503, { "content-type": "text/plain" }).end(`${r.reason}\n`);
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
      );
    } else {
      res
        .writeHead(404, { "content-type": "text/plain" })
        .end("not found: try /healthz, /readyz or /metrics\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
