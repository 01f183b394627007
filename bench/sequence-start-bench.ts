import { encodeId, tickStartMs, type LayoutMath } from "../contract/id-layout-math.ts";
import type { SequenceStart } from "../contract/sequence-start.ts";
import { Issuer } from "../generator/src/issuing/issuer.ts";

// zero vs rolling on a simulated clock (the real issuer, no waiting): what rolling costs
// when a worker runs near its ceiling, and how it spreads `id % N` at low traffic.

const OPEN_FENCE = { floorTick: -1, ceilingTick: Number.MAX_SAFE_INTEGER, validUntilMonoMs: Infinity };

function issuer(math: LayoutMath, sequenceStart: SequenceStart): Issuer {
  const i = new Issuer({ math, workerId: 1, maxBackwardWaitMs: 5, sequenceStart });
  i.setFence(OPEN_FENCE);
  return i;
}

/** A small deterministic PRNG (mulberry32), so runs compare the settings on the same demand. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Load near the ceiling: what the worker served, and how often demand had to wait a tick. */
export interface SaturationResult {
  /** Offered load as a fraction of 2^S IDs per tick. */
  offered: number;
  /** IDs issued per tick, as a fraction of 2^S. */
  served: number;
  /** Ticks that ended with demand left over (callers waited for a later tick). */
  ticksWithWaiting: number;
  /** Mean IDs left waiting at the end of a tick. */
  meanBacklog: number;
  /** Mean time an ID waits for a later tick, in ticks (Little's law: backlog / throughput). */
  meanWaitTicks: number;
}

/**
 * Offers, each tick, requests of `requestSize` IDs whose count varies around `offered` x 2^S
 * (uniform 0..2x the mean); a request not served in its tick waits for the next one, as the
 * HTTP routes do. Runs `ticks` ticks.
 */
export function saturation(
  math: LayoutMath,
  sequenceStart: SequenceStart,
  offered: number,
  ticks: number,
  requestSize = 100,
  seed = 7,
): SaturationResult {
  const next = random(seed);
  const i = issuer(math, sequenceStart);
  const meanRequests = (offered * math.idsPerTick) / requestSize;
  let backlog = 0;
  let served = 0;
  let ticksWithWaiting = 0;
  let backlogSum = 0;
  for (let t = 1; t <= ticks; t++) {
    backlog += Math.round(next() * 2 * meanRequests) * requestSize;
    const wall = tickStartMs(math, t);
    while (backlog > 0) {
      const d = i.next(Math.min(backlog, requestSize), wall, 0);
      if (d.kind !== "issued") break;
      backlog -= d.count;
      served += d.count;
    }
    if (backlog > 0) ticksWithWaiting++;
    backlogSum += backlog;
  }
  return {
    offered,
    served: served / ticks / math.idsPerTick,
    ticksWithWaiting,
    meanBacklog: backlogSum / ticks,
    meanWaitTicks: served ? backlogSum / served : 0,
  };
}

/** How `id % shards` spreads: the share of IDs in each shard. */
export interface ShardSpread {
  shares: number[];
  /** Largest share / the even share (1 = perfectly even, `shards` = all in one). */
  skew: number;
}

/**
 * `count` IDs at `idsPerSecond` (Poisson arrivals, one ID per request), each taken
 * `% shards`, as a sharded database would route them.
 */
export function shardSpread(
  math: LayoutMath,
  sequenceStart: SequenceStart,
  idsPerSecond: number,
  count: number,
  shards = 16,
  seed = 11,
): ShardSpread {
  const next = random(seed);
  const i = issuer(math, sequenceStart);
  const counts = new Array<number>(shards).fill(0);
  let wall = tickStartMs(math, 1);
  for (let n = 0; n < count;) {
    wall += (-Math.log(1 - next()) * 1000) / idsPerSecond;
    const d = i.next(1, wall, 0);
    if (d.kind !== "issued") continue; // a full tick: the next arrival lands later
    const id = encodeId(math, d.tick, d.workerId, d.firstSequence);
    counts[Number(id % BigInt(shards))]! += 1;
    n++;
  }
  const shares = counts.map((c) => c / count);
  return { shares, skew: Math.max(...shares) * shards };
}
