/**
 * A reconcile outcome no retry can fix: the spec itself is the problem (an epoch in the
 * future, a layout whose timestamps ran out, lease timings that cannot work). The
 * reconcile has already said so in the fleet's status and events; the controller logs it
 * once and does not retry with backoff. Like controller-runtime's TerminalError, the next
 * change of the fleet brings the key back; `requeueAfterMs` keeps the lease observation
 * going that a fleet with running pods needs whatever its spec says.
 */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
  readonly requeueAfterMs: number | undefined;

  constructor(message: string, requeueAfterMs?: number) {
    super(message);
    this.requeueAfterMs = requeueAfterMs;
  }
}
