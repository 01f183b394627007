/* global process, URL, performance, console */
// The e2e smoke workload: a tiny HTTP server with a CPU-burning endpoint (for the HPA test).
import { createServer } from "node:http";
import { hostname } from "node:os";

const port = Number(process.env.PORT ?? 8080);
const MAX_BURN_MS = 1000;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  res.setHeader("content-type", "application/json");
  if (url.pathname === "/healthz") {
    res.end('{"ok":true}');
    return;
  }
  if (url.pathname === "/burn") {
    const ms = Math.min(Math.max(Number(url.searchParams.get("ms") ?? 100) || 0, 0), MAX_BURN_MS);
    const end = performance.now() + ms;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    res.end(JSON.stringify({ hostname: hostname(), burnedMs: ms, x: x > 0 }));
    return;
  }
  res.end(JSON.stringify({ hostname: hostname(), path: url.pathname }));
});
server.listen(port, () => console.log(`smoke server on :${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
