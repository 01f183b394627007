import { decodeId, type LayoutMath } from "../../../contract/id-layout-math.ts";

const CHUNK = 1 << 20;

/**
 * Every ID a chaos run received, packed into BigUint64Array chunks (8 bytes per ID, no BigInt
 * objects kept), plus one record per answered batch saying which pod instance sent it.
 */
export class IdCollector {
  private readonly chunks: BigUint64Array[] = [];
  private fill = CHUNK;
  readonly batches: BatchRecord[] = [];

  get size(): number {
    return this.chunks.length === 0 ? 0 : (this.chunks.length - 1) * CHUNK + this.fill;
  }

  /** Stores one batch as answered by pod instance `podUid` (the IDs in response order). */
  addBatch(podUid: string, podName: string, ids: readonly bigint[], receivedAtMs: number): void {
    if (ids.length === 0) return;
    let minTick = Number.POSITIVE_INFINITY;
    let maxTick = Number.NEGATIVE_INFINITY;
    const workerIds = new Set<number>();
    for (const id of ids) {
      this.push(id);
      // The timestamp and worker id are the high bits; decoding here keeps the batch record exact.
      const tick = Number(id >> this.shift);
      const worker = Number((id >> this.sequenceBits) & this.workerMask);
      if (tick < minTick) minTick = tick;
      if (tick > maxTick) maxTick = tick;
      workerIds.add(worker);
    }
    for (const workerId of workerIds)
      this.batches.push({ podUid, podName, workerId, minTick, maxTick, count: ids.length, receivedAtMs });
  }

  /**
   * Stores IDs whose sender is unknown (pulled through the Service): they count for duplicates,
   * but carry no batch record for the per-holder checks.
   */
  addUnattributed(ids: readonly bigint[]): void {
    for (const id of ids) this.push(id);
  }

  private readonly shift: bigint;
  private readonly sequenceBits: bigint;
  private readonly workerMask: bigint;

  constructor(math: LayoutMath) {
    this.sequenceBits = BigInt(math.layout.sequenceBits);
    this.shift = BigInt(math.layout.sequenceBits + math.layout.workerIdBits);
    this.workerMask = BigInt(math.maxWorkerId);
  }

  private push(id: bigint): void {
    if (this.fill === CHUNK) {
      this.chunks.push(new BigUint64Array(CHUNK));
      this.fill = 0;
    }
    this.chunks[this.chunks.length - 1]![this.fill++] = id;
  }

  /** All IDs in one array, sorted ascending (the chunks are released). */
  drainSorted(): BigUint64Array {
    const all = new BigUint64Array(this.size);
    let offset = 0;
    const last = this.chunks.length - 1;
    for (let i = 0; i <= last; i++) {
      const used = i === last ? this.fill : CHUNK;
      all.set(this.chunks[i]!.subarray(0, used), offset);
      offset += used;
      // Drop each chunk once copied, so the peak stays near one copy of the IDs.
      this.chunks[i] = new BigUint64Array(0);
    }
    this.chunks.length = 0;
    this.fill = CHUNK;
    return all.sort();
  }
}

/** One answered batch (split by worker id if, wrongly, it carried several). */
export type BatchRecord = {
  podUid: string;
  podName: string;
  workerId: number;
  minTick: number;
  maxTick: number;
  count: number;
  receivedAtMs: number;
};

/**
 * A (pod instance, worker id) pair some lease ConfigMap was seen to name during the run, with
 * when it was first and last seen (an observer's polls) where known.
 */
export type LeaseSighting = { podUid: string; workerId: number; firstSeenMs?: number; lastSeenMs?: number };

/**
 * The pod instances leases named for `workerId` around `atMs` (seen from at most `slackMs` after
 * it to at least `slackMs` before it: the observer polls). For answers whose sender is known only
 * by the worker id in its IDs.
 */
export function leaseHoldersAt(
  sightings: readonly LeaseSighting[],
  workerId: number,
  atMs: number,
  slackMs: number,
): string[] {
  return sightings
    .filter(
      (s) =>
        s.workerId === workerId &&
        (s.firstSeenMs ?? -Infinity) - slackMs <= atMs &&
        atMs <= (s.lastSeenMs ?? Infinity) + slackMs,
    )
    .map((s) => s.podUid);
}

/** One repeated ID, decoded. */
export type DuplicateExample = {
  id: string;
  timestamp: number;
  workerId: number;
  sequence: number;
  times: number;
};

/** Two pod instances whose ticks on one worker id interleave. */
export type HolderOverlap = {
  workerId: number;
  earlier: { podName: string; podUid: string; maxTick: number };
  later: { podName: string; podUid: string; minTick: number };
};

/** What the audit found. The run passes only when every list is empty and duplicates is 0. */
export type AuditReport = {
  idsChecked: number;
  distinctIds: number;
  /** IDs received more than once, counting each extra copy. */
  duplicates: number;
  duplicateExamples: DuplicateExample[];
  /** Batches whose (pod UID, worker id) no lease was seen to name. */
  unleasedBatches: BatchRecord[];
  /** Worker ids whose tick ranges from different pod instances interleave. */
  holderOverlaps: HolderOverlap[];
  workerIdsSeen: number[];
  podInstancesSeen: number;
};

/**
 * Sorts `ids` (if not already) and scans for repeats. Since the layout is fixed, an ID repeats
 * exactly when its (timestamp, worker id, sequence) triple does; each example is decoded.
 */
export function findDuplicates(
  math: LayoutMath,
  sorted: BigUint64Array,
  maxExamples = 20,
): Pick<AuditReport, "duplicates" | "duplicateExamples" | "distinctIds"> {
  let duplicates = 0;
  let distinctIds = sorted.length > 0 ? 1 : 0;
  const duplicateExamples: DuplicateExample[] = [];
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] !== sorted[i - 1]) {
      distinctIds++;
      continue;
    }
    duplicates++;
    const id = sorted[i]!;
    const last = duplicateExamples.at(-1);
    if (last && last.id === id.toString()) last.times++;
    else if (duplicateExamples.length < maxExamples) {
      const d = decodeId(math, id);
      duplicateExamples.push({
        id: id.toString(),
        timestamp: d.timestamp,
        workerId: d.workerId,
        sequence: d.sequence,
        times: 2,
      });
    }
  }
  return { duplicates, duplicateExamples, distinctIds };
}

/**
 * IDs in `sorted` that are not in `issued` (both sorted ascending): what a client handed out
 * without having received it. Each example is decoded.
 */
export function findNotIssued(
  math: LayoutMath,
  sorted: BigUint64Array,
  issued: BigUint64Array,
  maxExamples = 20,
): { notIssued: number; examples: Omit<DuplicateExample, "times">[] } {
  let notIssued = 0;
  const examples: Omit<DuplicateExample, "times">[] = [];
  let j = 0;
  for (const id of sorted) {
    while (j < issued.length && issued[j]! < id) j++;
    if (j < issued.length && issued[j] === id) continue;
    notIssued++;
    if (examples.length < maxExamples) {
      const d = decodeId(math, id);
      examples.push({
        id: id.toString(),
        timestamp: d.timestamp,
        workerId: d.workerId,
        sequence: d.sequence,
      });
    }
  }
  return { notIssued, examples };
}

/**
 * Per worker id, the batches of different pod instances must not interleave in time: sorted by
 * first tick, no batch may start at or before the highest tick another instance already issued
 * on that worker id (successive holders' tick ranges are disjoint, docs/lease-protocol.md).
 */
export function findHolderOverlaps(batches: readonly BatchRecord[], maxExamples = 20): HolderOverlap[] {
  const byWorker = new Map<number, BatchRecord[]>();
  for (const b of batches) {
    const list = byWorker.get(b.workerId) ?? [];
    list.push(b);
    byWorker.set(b.workerId, list);
  }
  const overlaps: HolderOverlap[] = [];
  for (const [workerId, list] of byWorker) {
    list.sort((a, b) => a.minTick - b.minTick || a.maxTick - b.maxTick);
    let top: BatchRecord | undefined;
    for (const b of list) {
      if (top && b.podUid !== top.podUid && b.minTick <= top.maxTick && overlaps.length < maxExamples) {
        overlaps.push({
          workerId,
          earlier: { podName: top.podName, podUid: top.podUid, maxTick: top.maxTick },
          later: { podName: b.podName, podUid: b.podUid, minTick: b.minTick },
        });
      }
      if (!top || b.maxTick > top.maxTick) top = b;
    }
  }
  return overlaps;
}

/** The whole check of a run: duplicates, worker ids backed by leases, disjoint holders. */
export function auditRun(
  math: LayoutMath,
  collector: IdCollector,
  sightings: readonly LeaseSighting[],
): AuditReport {
  const idsChecked = collector.size;
  const dup = findDuplicates(math, collector.drainSorted());
  const leased = new Set(sightings.map((s) => `${s.podUid}/${s.workerId}`));
  const unleasedBatches = collector.batches.filter((b) => !leased.has(`${b.podUid}/${b.workerId}`));
  return {
    idsChecked,
    ...dup,
    unleasedBatches,
    holderOverlaps: findHolderOverlaps(collector.batches),
    workerIdsSeen: [...new Set(collector.batches.map((b) => b.workerId))].sort((a, b) => a - b),
    podInstancesSeen: new Set(collector.batches.map((b) => b.podUid)).size,
  };
}
