/** A refill that landed in the buffer. */
export interface RefillEvent {
  endpoint: string;
  ids: number;
  latencyMs: number;
}

/** A refill that failed; the next one goes to another endpoint. */
export interface FailoverEvent {
  endpoint: string;
  /** e.g. "503 FENCED: ...", "timeout: no answer within 1000 ms", "unreachable: ECONNREFUSED". */
  reason: string;
  /** How long the endpoint rests (its breaker's cooldown, at least its Retry-After). */
  restMs: number;
}

/** Plain callbacks an application can count or log. A callback that throws is ignored. */
export interface ClientEvents {
  refill?(event: RefillEvent): void;
  failover?(event: FailoverEvent): void;
  /** Buffered IDs older than maxAgeMs were dropped. */
  staleDrop?(event: { ids: number }): void;
  /** A configured endpoint now stands for these addresses (DNS re-resolution). */
  endpointsChanged?(event: { source: string; endpoints: string[]; added: string[]; removed: string[] }): void;
}

/** Counters and gauges of one client (IdClient.stats()). Counters only grow. */
export interface ClientStats {
  /** IDs in the buffer now. */
  buffered: number;
  /** IDs handed out. */
  delivered: number;
  /** Refills that landed, and IDs they brought. */
  refills: number;
  fetched: number;
  /** Refills that failed and moved on to another endpoint. */
  failovers: number;
  /** IDs dropped for being older than maxAgeMs. */
  droppedStale: number;
  /** Calls waiting for IDs now, and calls that ever had to wait (they found the buffer empty). */
  waiting: number;
  waited: number;
  /** Refill requests in flight. */
  refillsInFlight: number;
  /** Endpoints known, and how many of them take requests now. */
  endpoints: number;
  usableEndpoints: number;
}
