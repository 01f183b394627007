import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { querySntp } from "../src/clock/sntp-client.ts";

const CHRONYD = ["/usr/sbin/chronyd", "/usr/bin/chronyd"].find((p) => existsSync(p));

/** A real chronyd serving NTP on 127.0.0.1, for tests. It never touches the system clock (-x). */
export interface ChronyServer {
  port: number;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address() as AddressInfo;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Starts chronyd as a local stratum-8 server on a free loopback port and waits until it answers. */
export async function startChronyServer(): Promise<ChronyServer> {
  if (!CHRONYD) {
    throw new Error("chronyd is not installed: run `npm run test:deps` (installs Debian's chrony)");
  }
  const dir = await mkdtemp(join(tmpdir(), "idfleet-chrony-"));
  const port = await freeUdpPort();
  const conf = join(dir, "chrony.conf");
  await writeFile(
    conf,
    [
      `port ${port}`,
      "bindaddress 127.0.0.1",
      "allow 127.0.0.1",
      // Serve the local clock as a stratum-8 reference: no upstream servers exist here.
      "local stratum 8",
      "cmdport 0",
      `pidfile ${join(dir, "chronyd.pid")}`,
      `driftfile ${join(dir, "drift")}`,
      "",
    ].join("\n"),
  );
  // -d foreground with logs on stderr, -x never adjust the system clock, -u root keeps the
  // temp dir writable (it would otherwise drop to the _chrony user).
  const child: ChildProcess = spawn(CHRONYD, ["-d", "-x", "-u", "root", "-f", conf], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`chronyd exited with ${child.exitCode}:\n${log}`);
    }
    try {
      await querySntp({ host: "127.0.0.1", port }, { timeoutMs: 300 });
      return { port, stop };
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `chronyd on 127.0.0.1:${port} did not answer within 15 s (${(error as Error).message}):\n${log}`,
          { cause: error },
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
