import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type MirrorProgress, mirrorOnce } from "./pod-log-mirror.ts";

describe("mirrorOnce", () => {
  let root: string;
  let source: string;
  let dest: string;
  let progress: MirrorProgress;
  const podDir = "ns-a_gen-0_0123456789abcdef";
  const log = () => join(source, podDir, "generator", "0.log");
  const copy = () => join(dest, "ns-a", "gen-0_01234567", "generator", "0.log");

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "pod-log-mirror-"));
    source = join(root, "pod-logs");
    dest = join(root, "copies");
    progress = new Map();
    mkdirSync(join(source, podDir, "generator"), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("appends only what was written since the last pass, and keeps it after the pod is gone", () => {
    writeFileSync(log(), "line 1\n");
    expect(mirrorOnce(source, dest, progress)).toBe(7);
    appendFileSync(log(), "line 2\n");
    expect(mirrorOnce(source, dest, progress)).toBe(7);
    expect(mirrorOnce(source, dest, progress)).toBe(0);
    rmSync(join(source, podDir), { recursive: true });
    expect(mirrorOnce(source, dest, progress)).toBe(0);
    expect(readFileSync(copy(), "utf8")).toBe("line 1\nline 2\n");
  });

  test("a file rotated under the same name is copied again from its start, with a marker", () => {
    writeFileSync(log(), "old old old\n");
    mirrorOnce(source, dest, progress);
    writeFileSync(log(), "new\n");
    mirrorOnce(source, dest, progress);
    expect(readFileSync(copy(), "utf8")).toMatch(
      /^old old old\n--- pod-log-mirror: .* was rotated.*\nnew\n$/,
    );
  });

  test("skips rotated and compressed files and directories that are not the kubelet's layout", () => {
    writeFileSync(join(source, podDir, "generator", "0.log.20261204-200000.gz"), "zz");
    mkdirSync(join(source, "not-a-pod-dir", "c"), { recursive: true });
    writeFileSync(join(source, "not-a-pod-dir", "c", "0.log"), "x");
    expect(mirrorOnce(source, dest, progress)).toBe(0);
  });
});
