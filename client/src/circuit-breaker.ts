/** Where a breaker stands: closed (in use), open (resting), half-open (one probe allowed). */
export const BreakerState = {
  Closed: "closed",
  Open: "open",
  HalfOpen: "half-open",
} as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

/** How long a failed endpoint rests before one probe request. */
export interface BreakerSettings {
  /** Rest after the first failure; doubled per further failure in a row. */
  baseCooldownMs: number;
  maxCooldownMs: number;
}

/**
 * A per-endpoint circuit breaker. One failure opens it (a fleet has other pods, so there is
 * no point in hammering one that refused or timed out); after the cooldown one probe may
 * go, and its success closes the breaker. A Retry-After from the endpoint is a floor on
 * the cooldown. Pure: the caller passes the time.
 */
export class CircuitBreaker {
  private state: BreakerState = BreakerState.Closed;
  private openUntil = 0;
  private failuresInARow = 0;
  private probing = false;

  private readonly settings: BreakerSettings;

  constructor(settings: BreakerSettings) {
    this.settings = settings;
  }

  /** The state at `now` (an open breaker whose cooldown passed reads half-open). */
  stateAt(now: number): BreakerState {
    if (this.state === BreakerState.Open && now >= this.openUntil) return BreakerState.HalfOpen;
    return this.state;
  }

  /** Whether a request may go now; in half-open, only one (the probe) until it reports. */
  canRequest(now: number): boolean {
    const state = this.stateAt(now);
    return state === BreakerState.Closed || (state === BreakerState.HalfOpen && !this.probing);
  }

  /** Call when a request starts (after canRequest said yes). */
  onRequest(now: number): void {
    if (this.stateAt(now) !== BreakerState.Closed) {
      this.state = BreakerState.HalfOpen;
      this.probing = true;
    }
  }

  onSuccess(): void {
    this.state = BreakerState.Closed;
    this.failuresInARow = 0;
    this.probing = false;
  }

  /** Opens the breaker for the backoff cooldown, or until Retry-After if that is later. */
  onFailure(now: number, retryAfterMs = 0): void {
    this.failuresInARow++;
    const backoff = Math.min(
      this.settings.maxCooldownMs,
      this.settings.baseCooldownMs * 2 ** Math.min(this.failuresInARow - 1, 20),
    );
    this.state = BreakerState.Open;
    this.openUntil = now + Math.max(backoff, retryAfterMs);
    this.probing = false;
  }

  /** When an open breaker allows its probe (0 when not open). */
  reopensAt(): number {
    return this.state === BreakerState.Open ? this.openUntil : 0;
  }
}
