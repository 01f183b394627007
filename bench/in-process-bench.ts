import { Snowflake as SapphireSnowflake } from "@sapphire/snowflake";
import nodejsSnowflake from "nodejs-snowflake";
import { performance } from "node:perf_hooks";
import { layoutMath, parseIdLayout, type LayoutMath } from "../contract/id-layout.ts";
import { appendDecimalIds } from "../generator/src/encoding/decimal-id-encoder.ts";
import { Issuer } from "../generator/src/issuing/issuer.ts";
import { checkIdRun, type IdRunCheck } from "./duplicate-count.ts";

/** One in-process generator measured for a bounded time and count. */
export interface InProcessResult extends IdRunCheck {
  name: string;
  seconds: number;
  idsPerSecond: number;
}

export const DEFAULT_MATH = layoutMath(parseIdLayout({}));

function open(issuer: Issuer): void {
  issuer.setFence({ floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity });
}

function spinUntil(wallMs: number): void {
  while (Date.now() < wallMs);
}

/**
 * idfleet's issuer producing BigInt IDs, as fast as the layout allows: each tick is
 * filled to 2^S, then it waits for the next. Every ID is kept and checked afterwards.
 */
export function measureIssuerBigInt(
  durationMs: number,
  capacity: number,
  math: LayoutMath = DEFAULT_MATH,
): InProcessResult {
  const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
  open(issuer);
  const tickShift = BigInt(math.layout.workerIdBits + math.layout.sequenceBits);
  const workerShift = BigInt(math.layout.sequenceBits);
  const out = new BigInt64Array(capacity);
  let n = 0;
  const start = performance.now();
  const end = start + durationMs;
  while (n < capacity && performance.now() < end) {
    const d = issuer.next(Math.min(math.idsPerTick, capacity - n), Date.now(), performance.now());
    if (d.kind === "issued") {
      const base = (BigInt(d.tick) << tickShift) | (BigInt(d.workerId) << workerShift);
      for (let s = d.firstSequence, last = d.firstSequence + d.count; s < last; s++)
        out[n++] = base | BigInt(s);
    } else if (d.kind === "wait") spinUntil(d.untilWallMs);
    else throw new Error(`issuer refused: ${d.message}`);
  }
  const seconds = (performance.now() - start) / 1000;
  return { name: "idfleet issuer (BigInt IDs)", seconds, idsPerSecond: n / seconds, ...checkIdRun(out, n) };
}

/**
 * idfleet's issuer producing decimal strings (what /v1/ids sends), each checked to be
 * greater than the previous one as it is produced (numeric order of decimal strings:
 * longer is larger, equal length compares lexically).
 */
export function measureIssuerDecimal(
  durationMs: number,
  capacity: number,
  math: LayoutMath = DEFAULT_MATH,
): InProcessResult {
  const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
  open(issuer);
  const batch: string[] = [];
  let previous = "";
  let n = 0;
  let notIncreasing = 0;
  const start = performance.now();
  const end = start + durationMs;
  while (n < capacity && performance.now() < end) {
    const d = issuer.next(Math.min(math.idsPerTick, capacity - n), Date.now(), performance.now());
    if (d.kind === "issued") {
      batch.length = 0;
      appendDecimalIds(math, d.tick, d.workerId, d.firstSequence, d.count, batch);
      for (const id of batch) {
        if (id.length < previous.length || (id.length === previous.length && id <= previous)) notIncreasing++;
        previous = id;
      }
      n += batch.length;
    } else if (d.kind === "wait") spinUntil(d.untilWallMs);
    else throw new Error(`issuer refused: ${d.message}`);
  }
  const seconds = (performance.now() - start) / 1000;
  // Strictly increasing implies unique; a violation is counted as a possible duplicate.
  return {
    name: "idfleet issuer (decimal strings)",
    seconds,
    idsPerSecond: n / seconds,
    count: n,
    duplicates: notIncreasing,
    notIncreasing,
  };
}

function measureLoop(
  name: string,
  durationMs: number,
  capacity: number,
  next: () => bigint,
): InProcessResult {
  const out = new BigInt64Array(capacity);
  let n = 0;
  const start = performance.now();
  const end = start + durationMs;
  // Check the time every 256 IDs, so the loop measures the generator, not the clock.
  while (n < capacity && performance.now() < end) {
    for (let i = 0; i < 256 && n < capacity; i++) out[n++] = next();
  }
  const seconds = (performance.now() - start) / 1000;
  return { name, seconds, idsPerSecond: n / seconds, ...checkIdRun(out, n) };
}

/** @sapphire/snowflake's generate(), default worker and process ids. */
export function measureSapphire(durationMs: number, capacity: number): InProcessResult {
  const snowflake = new SapphireSnowflake(new Date("2024-01-01T00:00:00Z"));
  return measureLoop("@sapphire/snowflake generate()", durationMs, capacity, () => snowflake.generate());
}

/** nodejs-snowflake's getUniqueID() (Rust/WebAssembly). */
export function measureNodejsSnowflake(durationMs: number, capacity: number): InProcessResult {
  const snowflake = new nodejsSnowflake.Snowflake({
    custom_epoch: Date.parse("2024-01-01T00:00:00Z"),
    instance_id: 1,
  });
  return measureLoop(
    "nodejs-snowflake getUniqueID()",
    durationMs,
    capacity,
    () => snowflake.getUniqueID() as bigint,
  );
}

/**
 * CPU cost of issuing and encoding alone: the issuer runs on a simulated clock that
 * jumps to the next tick whenever the sequence runs out, so no time is spent waiting.
 * Shows how much of each real tick the work takes (the headroom under the ceiling).
 */
export function measureIssuerCpuCost(
  ids: number,
  math: LayoutMath = DEFAULT_MATH,
): { nsPerId: number; idsPerSecond: number } {
  const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
  open(issuer);
  let wall = Date.now();
  const batch: string[] = [];
  let n = 0;
  const start = performance.now();
  while (n < ids) {
    const d = issuer.next(Math.min(math.idsPerTick, ids - n), wall, 0);
    if (d.kind === "issued") {
      batch.length = 0;
      appendDecimalIds(math, d.tick, d.workerId, d.firstSequence, d.count, batch);
      n += batch.length;
    } else if (d.kind === "wait") wall = d.untilWallMs;
    else throw new Error(`issuer refused: ${d.message}`);
  }
  const seconds = (performance.now() - start) / 1000;
  return { nsPerId: (seconds * 1e9) / n, idsPerSecond: n / seconds };
}
