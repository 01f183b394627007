/**
 * The lying SNTP responder as a process, for the e2e suite's clock-drift scenario: it runs in a pod
 * (node base image, these sources mounted from a ConfigMap) and answers SNTP on UDP SNTP_PORT with
 * the true time plus a lie. The lie changes while it runs, through HTTP on CONTROL_PORT:
 * `GET /lie` tells it; `PUT /lie?ms=N` lies by N ms to every client; `PUT /lie?ms=N&client=<ip>`
 * to that address only (a pod whose clock looks skewed while its neighbours' does not).
 */
import { createServer } from "node:http";
import { isIP } from "node:net";
import { SntpTestResponder } from "./sntp-test-responder.ts";

const port = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`${name} must be a port number 1..65535, got ${process.env[name]}`);
  return value;
};
const sntpPort = port("SNTP_PORT", 11123);
const controlPort = port("CONTROL_PORT", 8080);

const responder = await SntpTestResponder.start({ host: "0.0.0.0", port: sntpPort });

const state = () => ({
  lieMs: responder.behaviour.lieMs ?? 0,
  byClient: Object.fromEntries([...responder.behaviourByClient].map(([ip, b]) => [ip, b.lieMs ?? 0])),
  queries: responder.queries,
});

createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname !== "/lie") return reply(404, { error: "only /lie is served" });
  if (req.method === "PUT") {
    const ms = Number(url.searchParams.get("ms"));
    const client = url.searchParams.get("client");
    if (!Number.isFinite(ms)) return reply(400, { error: "ms must be a number of milliseconds" });
    if (client !== null && isIP(client) === 0) return reply(400, { error: "client must be an IP address" });
    if (client === null) responder.behaviour = { lieMs: ms };
    else if (ms === 0) responder.behaviourByClient.delete(client);
    else responder.behaviourByClient.set(client, { lieMs: ms });
    console.log(`lying by ${ms} ms to ${client ?? "every client"}`);
  }
  reply(200, state());
}).listen(controlPort, "0.0.0.0");
console.log(`SNTP on udp/${sntpPort}, control on http/${controlPort}`);
