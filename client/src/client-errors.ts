/** next() (or take, nextBigInt) gave up: no endpoint served for failAfterMs. The message says what was tried. */
export class IdFleetUnavailableError extends Error {
  override readonly name = "IdFleetUnavailableError";
  /** One line per endpoint: its breaker state, refills served and failed, its last failure. */
  readonly endpoints: string;

  constructor(message: string, endpoints: string) {
    super(message);
    this.endpoints = endpoints;
  }
}

/** The client was closed while a call waited, or a call came after close(). */
export class IdClientClosedError extends Error {
  override readonly name = "IdClientClosedError";
  constructor() {
    super("the idfleet client is closed");
  }
}
