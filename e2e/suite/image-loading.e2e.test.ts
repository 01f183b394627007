/**
 * cluster/images/load-into-node.sh puts an image into the local node's containerd only when the node does not
 * hold that exact content under that name: an unchanged image costs nothing, the same content under a new
 * tag is a retag, and a tag whose content changed is always replaced (never left pointing at old content).
 * Needs the local cluster (docker and the node's containerd on this machine); on kind it is skipped.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { IDFLEET_TMP, REPO_ROOT } from "../../cluster/paths.ts";
import { onLocalClusterNode } from "./chaos/host-faults.ts";

const run = promisify(execFile);
const SOCKET = join(IDFLEET_TMP, "cluster", "containerd", "containerd.sock");
// As cluster/images/common.sh picks it: Debian's client matches Debian's dockerd.
const DOCKER = process.env.DOCKER ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");
const REPO = `idfleet/e2e-load-probe-${randomBytes(3).toString("hex")}`;

// What the script says about each image, e.g. "unchanged in the node", "loaded ... into the node".
async function load(image: string): Promise<string> {
  const { stderr } = await run("bash", [join(REPO_ROOT, "cluster/images/load-into-node.sh"), image]);
  return stderr;
}

// A tiny image whose content (and so image ID) is new each call.
async function buildTinyImage(tag: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "load-probe-"));
  try {
    writeFileSync(join(dir, "content"), randomBytes(16).toString("hex"));
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY content /content\n");
    await run(DOCKER, ["build", "-q", "-t", tag, dir], { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    return (await run(DOCKER, ["image", "inspect", "-f", "{{.Id}}", tag])).stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The config digest (= docker image ID) of `name` in the node, from its manifest.
async function nodeImageId(name: string): Promise<string | undefined> {
  const ctr = (...args: string[]) => run("ctr", ["--address", SOCKET, "-n", "k8s.io", ...args]);
  const list = (await ctr("images", "ls", `name==docker.io/${name}`)).stdout.trim().split("\n");
  const manifest = list[1]?.split(/\s+/)[2];
  if (!manifest) return undefined;
  return (JSON.parse((await ctr("content", "get", manifest)).stdout) as { config: { digest: string } }).config
    .digest;
}

describe.skipIf(!onLocalClusterNode())("loading images into the local node", () => {
  afterAll(async () => {
    const names = (await run("ctr", ["--address", SOCKET, "-n", "k8s.io", "images", "ls", "-q"])).stdout
      .split("\n")
      .filter((n) => n.startsWith(`docker.io/${REPO}:`));
    if (names.length) await run("ctr", ["--address", SOCKET, "-n", "k8s.io", "images", "rm", ...names]);
    const tags = (await run(DOCKER, ["images", "--format", "{{.Repository}}:{{.Tag}}", REPO])).stdout;
    const docker = tags.split("\n").filter(Boolean);
    if (docker.length) await run(DOCKER, ["rmi", "-f", ...docker]);
  });

  it("imports only what the node lacks, and never leaves a tag on old content", async () => {
    const first = await buildTinyImage(`${REPO}:a`);
    expect(await load(`${REPO}:a`)).toMatch(/loaded .* into the node/);
    expect(await nodeImageId(`${REPO}:a`)).toBe(first);

    // Nothing changed: nothing to load (this is every second `npm run images:build`).
    expect(await load(`${REPO}:a`)).toMatch(/unchanged in the node/);

    // The same content under a new tag (an unchanged image, a new commit): a retag, no import.
    await run(DOCKER, ["tag", `${REPO}:a`, `${REPO}:b`]);
    expect(await load(`${REPO}:b`)).toMatch(/tagged in the node/);
    expect(await nodeImageId(`${REPO}:b`)).toBe(first);

    // The same tag rebuilt with other content: replaced in the node.
    const second = await buildTinyImage(`${REPO}:a`);
    expect(second).not.toBe(first);
    expect(await load(`${REPO}:a`)).toMatch(/loaded .* into the node/);
    expect(await nodeImageId(`${REPO}:a`)).toBe(second);
    expect(await nodeImageId(`${REPO}:b`)).toBe(first);
  });
});
