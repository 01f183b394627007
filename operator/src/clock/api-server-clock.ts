import {
  offsetBoundsOf,
  provenOffsetMs,
  type OffsetBounds,
  type ServerTimeSample,
} from "../../../contract/server-time.ts";

/**
 * The operator's wall clock, held to the API server's. Lost-state floors (a lease deleted by
 * hand, a ledger recreated or rolled back) are computed from the operator's clock; one that
 * runs behind would put them below ticks a holder already issued. The newest `Date` header
 * bounds how far behind it can be, and `notBehindMs` adds that much. Pure: samples come in
 * from `api-server-clock-probe.ts`.
 */
export class ApiServerClock {
  #bounds: OffsetBounds | null = null;
  readonly #nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    this.#nowMs = nowMs;
  }

  /** Takes one answer's `Date`; answers too slow to say much are ignored. Returns whether it counted. */
  record(sample: ServerTimeSample): boolean {
    const bounds = offsetBoundsOf(sample);
    if (bounds) this.#bounds = bounds;
    return bounds !== null;
  }

  /** The local wall clock, moved forward by however far behind the API server's it may be. */
  notBehindMs(): number {
    const local = this.#nowMs();
    const lowMs = this.#bounds?.lowMs ?? 0;
    return lowMs < 0 ? local - lowMs : local;
  }

  /** Local minus API server time, the value nearest zero the newest answer allows; null before one. */
  provenOffsetMs(): number | null {
    return this.#bounds ? provenOffsetMs(this.#bounds) : null;
  }
}
