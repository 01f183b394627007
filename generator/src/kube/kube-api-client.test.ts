import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inClusterAccess, KubeApiClient, TOKEN_REREAD_MS } from "./kube-api-client.ts";

const servers: Server[] = [];
const clients: KubeApiClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.close();
});

/** A loopback server that records the Authorization header and answers 200 with a Date. */
async function recordingServer(): Promise<{ url: string; tokens: string[] }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    tokens.push(req.headers.authorization ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens };
}

describe("KubeApiClient", () => {
  it("re-reads a rotated token file at most once a minute", async () => {
    const { url, tokens } = await recordingServer();
    const file = join(mkdtempSync(join(tmpdir(), "idfleet-tok-")), "token");
    writeFileSync(file, "one\n");
    let now = 1_000_000;
    const client = new KubeApiClient({ server: url, tokenFile: file }, () => now);
    clients.push(client);
    await client.request("GET", "/x", undefined, 1000);
    writeFileSync(file, "two\n");
    now += TOKEN_REREAD_MS - 1;
    await client.request("GET", "/x", undefined, 1000);
    now += 1;
    const res = await client.request("GET", "/x", undefined, 1000);
    expect(tokens).toEqual(["Bearer one", "Bearer one", "Bearer two"]);
    expect(res.status).toBe(200);
    // Node's server sends a Date header; the client parses it.
    expect(res.serverDateMs).toEqual(expect.any(Number));
  });

  it("builds in-cluster access from the pod's environment and mounted files, or says what is missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "idfleet-sa-"));
    writeFileSync(join(dir, "ca.crt"), "PEM");
    expect(
      inClusterAccess({
        KUBERNETES_SERVICE_HOST: "fd00::1",
        KUBERNETES_SERVICE_PORT: "6443",
        IDGEN_SERVICE_ACCOUNT_DIR: dir,
      }),
    ).toEqual({ server: "https://[fd00::1]:6443", ca: Buffer.from("PEM"), tokenFile: join(dir, "token") });
    expect(() => inClusterAccess({})).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
    expect(() =>
      inClusterAccess({ KUBERNETES_SERVICE_HOST: "10.0.0.1", IDGEN_SERVICE_ACCOUNT_DIR: join(dir, "nope") }),
    ).toThrow(/cannot read the service account's CA bundle/);
  });
});
