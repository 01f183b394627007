/** What the prefetch decision looks at. */
export interface PrefetchInput {
  /** IDs buffered now. */
  level: number;
  /** IDs asked for by refills in flight. */
  inFlightIds: number;
  /** IDs owed to callers waiting on an empty buffer. */
  waitingIds: number;
  /** Consumption, IDs per millisecond (ConsumptionRate). */
  ratePerMs: number;
  /** Typical time for one refill round trip (ms). */
  refillLatencyMs: number;
  /** Largest batch the fleet serves. */
  maxBatch: number;
  /** Endpoints that could take a refill now. */
  endpoints: number;
  /**
   * Smallest batch worth asking for now: the client doubles it each time callers had to
   * wait on an empty buffer, so a cold start ramps up in a few round trips instead of
   * waiting for the rate estimate.
   */
  batchFloor: number;
}

/** Tunables of the prefetch decision (ClientOptions.prefetch). */
export interface PrefetchSettings {
  /** Smallest batch asked for, and the buffer kept for a consumer too slow to measure. */
  minBatch: number;
  /** IDs older than this are dropped, so the buffer never holds more than is used in half of it. */
  maxAgeMs: number;
  /** The low watermark covers this many refill round trips of consumption... */
  latencyCover: number;
  /** ...and at least this long: a stall (GC, a descheduled process, a slow pod) of this length goes unnoticed. */
  minCoverMs: number;
  /** Most refills in flight per endpoint however high the rate (more only queue at the generator). */
  maxInFlightPerEndpoint: number;
}

/** The outcome: watermarks for the hot path and the batches to request now. */
export interface PrefetchPlan {
  /** Refill when the buffer falls below this. */
  lowWatermark: number;
  /** Fill up to this. */
  highWatermark: number;
  /** Size of each batch to request now (empty: none). */
  batches: number[];
  /** Refills allowed in flight per endpoint. */
  perEndpointInFlight: number;
}

/**
 * The prefetch decision, pure. The low watermark is what the application consumes during
 * `latencyCover` refill round trips or `minCoverMs`, whichever is longer (so a refill lands
 * before the buffer runs dry), the
 * batch is what it consumes in about four round trips, capped by the fleet's max batch,
 * and the high watermark is low + batch, but never more than half of maxAgeMs of
 * consumption (more would be dropped as stale). One refill per endpoint is in flight,
 * unless one batch per round trip per endpoint cannot keep up with the rate.
 */
export function planPrefetch(input: PrefetchInput, settings: PrefetchSettings): PrefetchPlan {
  const rate = Math.max(0, input.ratePerMs);
  const latency = Math.max(1, input.refillLatencyMs);
  const maxBatch = Math.max(1, input.maxBatch);
  const lowWatermark = Math.max(
    settings.minBatch,
    Math.ceil(rate * Math.max(latency * settings.latencyCover, settings.minCoverMs)),
  );
  const batch = Math.min(
    maxBatch,
    Math.max(settings.minBatch, input.batchFloor, Math.ceil(rate * latency * 4)),
  );
  const freshCap = Math.ceil((rate * settings.maxAgeMs) / 2);
  const highWatermark = Math.min(lowWatermark + batch, Math.max(lowWatermark + settings.minBatch, freshCap));
  const neededInFlight = Math.ceil((rate * latency * settings.latencyCover) / maxBatch);
  const perEndpointInFlight = Math.min(
    settings.maxInFlightPerEndpoint,
    Math.max(1, Math.ceil(neededInFlight / Math.max(1, input.endpoints))),
  );

  const available = input.level + input.inFlightIds - input.waitingIds;
  const batches: number[] = [];
  if (available < lowWatermark) {
    let want = highWatermark - available;
    while (want > 0) {
      const size = Math.min(maxBatch, Math.max(settings.minBatch, input.batchFloor, want));
      batches.push(size);
      want -= size;
    }
  }
  return { lowWatermark, highWatermark, batches, perEndpointInFlight };
}
