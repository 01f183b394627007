import { connect, type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { parseGeneratorEnv } from "../../../contract/generator-env.ts";
import { createGeneratorRuntime, type GeneratorRuntime } from "../generator-runtime.ts";
import { startStandaloneFence } from "../issuing/standalone-fence.ts";

// Batch bodies are written into reused buffers (BufferPool), handed back once a response
// is finished. Over real sockets, with a client that stops reading while others go on,
// no body may be overwritten by a later one.
let runtime: GeneratorRuntime | undefined;
afterEach(async () => {
  runtime?.stop();
  await runtime?.app.close();
  runtime = undefined;
});

const COUNT = 10_000;
/** Enough 220 KB bodies to fill the loopback's kernel buffers (about 4 MB), so writes stay pending. */
const STALLED = 24;

/** Sends `requests` pipelined GETs, reads nothing for `pauseMs`, then returns the bodies. */
async function slowReader(port: number, path: string, requests: number, pauseMs: number): Promise<string[]> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(requests));
  await sleep(pauseMs);
  const chunks: Buffer[] = [];
  const bodies: string[] = [];
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      let all = Buffer.concat(chunks);
      for (;;) {
        const headerEnd = all.indexOf("\r\n\r\n");
        if (headerEnd < 0) break;
        const length = Number(/content-length: (\d+)/i.exec(all.subarray(0, headerEnd).toString())?.[1]);
        if (all.length < headerEnd + 4 + length) break;
        bodies.push(all.subarray(headerEnd + 4, headerEnd + 4 + length).toString());
        all = all.subarray(headerEnd + 4 + length);
      }
      chunks.length = 0;
      chunks.push(all);
      if (bodies.length === requests) {
        socket.destroy();
        resolve(bodies);
      }
    });
    socket.resume();
  });
}

describe("/v1/ids over sockets", () => {
  it("keeps every body intact while a client stops reading and others are served", async () => {
    runtime = await createGeneratorRuntime(parseGeneratorEnv({ IDGEN_WORKER_ID: "3" }));
    runtime.issuer.setWorkerId(3);
    startStandaloneFence(runtime.issuer)();
    await runtime.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = runtime.app.server.address() as AddressInfo;
    const path = `/v1/ids?count=${COUNT}`;

    const stalled = slowReader(port, path, STALLED, 300);
    const others: string[] = [];
    for (let round = 0; round < 4; round++) {
      const bodies = await Promise.all(
        Array.from({ length: 4 }, async () => (await fetch(`http://127.0.0.1:${port}${path}`)).text()),
      );
      others.push(...bodies);
    }

    const seen = new Set<string>();
    const bad: string[] = [];
    for (const body of [...(await stalled), ...others]) {
      const { ids } = JSON.parse(body) as { ids: string[] };
      expect(ids).toHaveLength(COUNT);
      let previous = -1n;
      for (const id of ids) {
        if (!/^[1-9]\d*$/.test(id) || BigInt(id) <= previous) bad.push(id);
        previous = BigInt(id);
        seen.add(id);
      }
    }
    expect(bad).toEqual([]);
    expect(seen.size).toBe((STALLED + 16) * COUNT);
  });
});
