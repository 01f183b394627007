import { Snowflake as SapphireSnowflake } from "@sapphire/snowflake";
import nodejsSnowflake from "nodejs-snowflake";
import { performance } from "node:perf_hooks";
import { layoutMath, type LayoutMath } from "../contract/id-layout-math.ts";
import { parseIdLayout } from "../contract/id-layout.ts";
import { appendDecimalIds } from "../generator/src/encoding/decimal-id-encoder.ts";
import { Issuer, type IssuedRange } from "../generator/src/issuing/issuer.ts";
import { checkIdRun, type IdRunCheck } from "./duplicate-count.ts";

/** One in-process generator measured for a bounded time and count. */
export interface InProcessResult extends IdRunCheck {
  name: string;
  seconds: number;
  idsPerSecond: number;
}

export const DEFAULT_MATH = layoutMath(parseIdLayout({}));

/**
 * Drives an issuer on the real clock as fast as the layout allows (each tick filled to
 * 2^S, then a spin to the next) for a bounded time and count, handing each range to
 * `take`. With a `simulated` clock it instead jumps to the next tick at once, which
 * measures the CPU cost alone. Returns the IDs issued and the seconds taken.
 */
function driveIssuer(
  durationMs: number,
  capacity: number,
  math: LayoutMath,
  take: (range: IssuedRange) => void,
  simulated = false,
): { count: number; seconds: number } {
  const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
  issuer.setFence({ floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity });
  let wall = Date.now();
  let n = 0;
  const start = performance.now();
  const end = start + durationMs;
  while (n < capacity && performance.now() < end) {
    if (!simulated) wall = Date.now();
    const d = issuer.next(Math.min(math.idsPerTick, capacity - n), wall, simulated ? 0 : performance.now());
    if (d.kind === "issued") {
      take(d);
      n += d.count;
    } else if (d.kind === "wait") {
      if (simulated) wall = d.untilWallMs;
      else while (Date.now() < d.untilWallMs);
    } else throw new Error(`issuer refused: ${d.message}`);
  }
  return { count: n, seconds: (performance.now() - start) / 1000 };
}

/** idfleet's issuer producing BigInt IDs; every ID is kept and checked afterwards. */
export function measureIssuerBigInt(
  durationMs: number,
  capacity: number,
  math: LayoutMath = DEFAULT_MATH,
): InProcessResult {
  const tickShift = BigInt(math.layout.workerIdBits + math.layout.sequenceBits);
  const workerShift = BigInt(math.layout.sequenceBits);
  const out = new BigInt64Array(capacity);
  let n = 0;
  const run = driveIssuer(durationMs, capacity, math, (r) => {
    const base = (BigInt(r.tick) << tickShift) | (BigInt(r.workerId) << workerShift);
    for (let s = r.firstSequence, last = r.firstSequence + r.count; s < last; s++)
      out[n++] = base | BigInt(s);
  });
  return {
    name: "idfleet issuer (BigInt IDs)",
    seconds: run.seconds,
    idsPerSecond: run.count / run.seconds,
    ...checkIdRun(out, run.count),
  };
}

/**
 * idfleet's issuer producing decimal strings (what the API sends), each checked to be
 * greater than the previous one as it is produced (numeric order of decimal strings:
 * longer is larger, equal length compares lexically). Increasing implies unique, so an
 * order violation is counted as a possible duplicate.
 */
export function measureIssuerDecimal(
  durationMs: number,
  capacity: number,
  math: LayoutMath = DEFAULT_MATH,
): InProcessResult {
  const batch: string[] = [];
  let previous = "";
  let notIncreasing = 0;
  const run = driveIssuer(durationMs, capacity, math, (r) => {
    batch.length = 0;
    appendDecimalIds(math, r.tick, r.workerId, r.firstSequence, r.count, batch);
    for (const id of batch) {
      if (id.length < previous.length || (id.length === previous.length && id <= previous)) notIncreasing++;
      previous = id;
    }
  });
  return {
    name: "idfleet issuer (decimal strings)",
    seconds: run.seconds,
    idsPerSecond: run.count / run.seconds,
    count: run.count,
    duplicates: notIncreasing,
    notIncreasing,
  };
}

/**
 * CPU cost of issuing and decimal encoding alone, on a simulated clock that moves to the
 * next tick as soon as the sequence runs out: how much of each real tick the work takes.
 */
export function measureIssuerCpuCost(
  ids: number,
  math: LayoutMath = DEFAULT_MATH,
): { nsPerId: number; idsPerSecond: number } {
  const batch: string[] = [];
  const run = driveIssuer(
    60_000,
    ids,
    math,
    (r) => {
      batch.length = 0;
      appendDecimalIds(math, r.tick, r.workerId, r.firstSequence, r.count, batch);
    },
    true,
  );
  return { nsPerId: (run.seconds * 1e9) / run.count, idsPerSecond: run.count / run.seconds };
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

/** A peer's generator measured like idfleet's: bounded time and count, every ID checked. */
export function measurePeer(
  peer: ClockReadingGenerator,
  durationMs: number,
  capacity: number,
): InProcessResult {
  return measureLoop(peer.name, durationMs, capacity, peer.create());
}

/** A generator of IDs that reads the time through Date.now(), as both peers do. */
export interface ClockReadingGenerator {
  name: string;
  create(): () => bigint;
}

/**
 * Whether a generator repeats IDs once more than 2^12 are asked for within one
 * millisecond, made deterministic: Date.now() is replaced by a clock that advances 1 ms
 * per `readsPerMs` reads, so any generator can outrun the sequence however fast the
 * machine. A generator that waits for the next millisecond keeps reading the clock and
 * so gets there; one that wraps its sequence repeats IDs.
 */
export function duplicatesPastSequenceLimit(
  generator: ClockReadingGenerator,
  ids: number,
  readsPerMs: number,
): IdRunCheck {
  const realNow = Date.now;
  const start = realNow();
  let reads = 0;
  Date.now = () => start + Math.floor(reads++ / readsPerMs);
  try {
    const next = generator.create();
    const out = new BigInt64Array(ids);
    for (let i = 0; i < ids; i++) out[i] = next();
    return checkIdRun(out, ids);
  } finally {
    Date.now = realNow;
  }
}

/** The peers: @sapphire/snowflake (default worker and process ids) and nodejs-snowflake (Rust/WebAssembly). */
export const PEERS: ClockReadingGenerator[] = [
  {
    name: "@sapphire/snowflake generate()",
    create: () => {
      const snowflake = new SapphireSnowflake(new Date("2024-01-01T00:00:00Z"));
      return () => snowflake.generate();
    },
  },
  {
    name: "nodejs-snowflake getUniqueID()",
    create: () => {
      const snowflake = new nodejsSnowflake.Snowflake({
        custom_epoch: Date.parse("2024-01-01T00:00:00Z"),
        instance_id: 1,
      });
      return () => snowflake.getUniqueID() as bigint;
    },
  },
];

/** idfleet's issuer behind the same one-ID-per-call interface, reading Date.now() like the peers. */
export const IDFLEET_AS_PEER: ClockReadingGenerator = {
  name: "idfleet issuer",
  create: () => {
    const math = DEFAULT_MATH;
    const issuer = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5 });
    issuer.setFence({ floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity });
    const tickShift = BigInt(math.layout.workerIdBits + math.layout.sequenceBits);
    const workerShift = BigInt(math.layout.sequenceBits);
    return () => {
      for (;;) {
        const d = issuer.next(1, Date.now(), 0);
        if (d.kind === "issued") {
          return (
            (BigInt(d.tick) << tickShift) | (BigInt(d.workerId) << workerShift) | BigInt(d.firstSequence)
          );
        }
        if (d.kind === "refused") throw new Error(d.message);
      }
    };
  },
};
