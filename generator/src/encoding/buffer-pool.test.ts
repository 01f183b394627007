import { describe, expect, it } from "vitest";
import { BufferPool } from "./buffer-pool.ts";

const pool = () => new BufferPool({ minBytes: 1024, maxFreeBytes: 8192 });

describe("BufferPool", () => {
  it("hands out a returned Buffer again for requests of its size class", () => {
    const p = pool();
    const first = p.take(3000);
    expect(first.length).toBe(4096);
    p.give(first);
    expect(p.take(2049)).toBe(first);
    expect(p.take(2049)).not.toBe(first);
  });

  it("keeps size classes apart", () => {
    const p = pool();
    const small = p.take(1024);
    p.give(small);
    expect(p.take(1025)).not.toBe(small);
    expect(p.take(1000 + 24)).toBe(small);
  });

  it("gives plain, unpooled Buffers below minBytes and ignores them on return", () => {
    const p = pool();
    const tiny = p.take(100);
    expect(tiny.length).toBe(100);
    p.give(tiny);
    expect(p.freeBytes).toBe(0);
  });

  it("ignores slices and foreign Buffers", () => {
    const p = pool();
    p.give(p.take(4096).subarray(0, 2048));
    p.give(Buffer.alloc(4096 + 1));
    expect(p.freeBytes).toBe(0);
  });

  it("keeps at most maxFreeBytes for reuse", () => {
    const p = pool();
    const taken = [p.take(4096), p.take(4096), p.take(4096)];
    for (const b of taken) p.give(b);
    expect(p.freeBytes).toBe(8192);
  });
});
