import { encodeId, layoutMath, tickAt, type LayoutMath } from "../../../contract/id-layout-math.ts";
import { layoutDocument } from "../../../contract/layout-document.ts";
import type { GeneratorTransport, GetOutcome } from "../generator-transport.ts";
import type { FakeClock } from "./fake-clock.ts";

/** How a fake generator answers. */
export const FakeBehaviour = {
  Ok: "ok",
  /** 503 FENCED with Retry-After: 1. */
  Fenced: "fenced",
  /** Connection refused. */
  Down: "down",
  /** Accepts and never answers (SIGSTOP): the request times out. */
  Hang: "hang",
} as const;
export type FakeBehaviour = (typeof FakeBehaviour)[keyof typeof FakeBehaviour];

/** One fake generator: a worker id, issuing strictly increasing IDs like the real issuer. */
class FakeGenerator {
  behaviour: FakeBehaviour = FakeBehaviour.Ok;
  latencyMs = 2;
  private lastTick = -1;
  private nextSequence = 0;
  readonly workerId: number;
  private readonly math: LayoutMath;
  constructor(workerId: number, math: LayoutMath) {
    this.workerId = workerId;
    this.math = math;
  }

  issue(count: number, nowMs: number): bigint[] {
    const ids: bigint[] = [];
    let tick = Math.max(this.lastTick, tickAt(this.math, nowMs));
    if (tick > this.lastTick) this.nextSequence = 0;
    while (ids.length < count) {
      if (this.nextSequence > this.math.maxSequence) {
        tick++;
        this.nextSequence = 0;
      }
      ids.push(encodeId(this.math, tick, this.workerId, this.nextSequence++));
    }
    this.lastTick = tick;
    return ids;
  }
}

/**
 * Fake generators behind a GeneratorTransport, on a FakeClock: answers arrive after each
 * generator's latency, a hung one never answers (the request times out on the fake
 * clock), and every ID ever issued is recorded with the time its request started.
 */
export class FakeFleet implements GeneratorTransport {
  /** 128 IDs a tick, so a batch is several runs (one per tick) in the client's buffer. */
  readonly math = layoutMath({
    timestampBits: 41,
    workerIdBits: 15,
    sequenceBits: 7,
    timeUnitMs: 1,
    epoch: "2024-01-01T00:00:00Z",
  });
  readonly generators = new Map<string, FakeGenerator>();
  /** Every ID issued, with the time its request started. */
  readonly issued = new Map<bigint, number>();
  layoutRoute = true;
  idSpaceOf = (_url: string) => "default";
  private closed = false;

  private readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  /** Adds a generator at `url` (a base URL) with worker id `workerId`. */
  add(url: string, workerId: number): FakeGenerator {
    const g = new FakeGenerator(workerId, this.math);
    this.generators.set(url, g);
    return g;
  }

  get(url: string, timeoutMs: number): Promise<GetOutcome> {
    const startedAt = this.clock.now();
    const parsed = new URL(url);
    const base = url.slice(0, url.indexOf(parsed.pathname));
    const g = this.generators.get(base);
    return new Promise((resolve) => {
      const timeout = this.clock.setTimeout(
        () => resolve({ kind: "timeout", message: `no answer within ${timeoutMs} ms` }),
        timeoutMs,
      );
      const answer = (outcome: GetOutcome) => {
        this.clock.clearTimeout(timeout);
        resolve(outcome);
      };
      if (this.closed || !g || g.behaviour === FakeBehaviour.Down) {
        answer({ kind: "unreachable", message: "ECONNREFUSED" });
        return;
      }
      if (g.behaviour === FakeBehaviour.Hang) return;
      this.clock.setTimeout(() => {
        // The behaviour when the answer is written counts (a generator fenced meanwhile refuses).
        if (g.behaviour === FakeBehaviour.Hang) return;
        if (g.behaviour === FakeBehaviour.Down) return answer({ kind: "unreachable", message: "ECONNRESET" });
        if (g.behaviour === FakeBehaviour.Fenced) {
          return answer({
            kind: "status",
            status: 503,
            code: "FENCED",
            message: "lease not confirmed",
            retryAfterMs: 1000,
          });
        }
        answer(this.serve(g, parsed, base, startedAt));
      }, g.latencyMs);
    });
  }

  close(): void {
    this.closed = true;
  }

  private serve(g: FakeGenerator, url: URL, base: string, startedAt: number): GetOutcome {
    const encode = (value: unknown): GetOutcome => ({
      kind: "ok",
      body: new TextEncoder().encode(JSON.stringify(value)),
    });
    if (url.pathname === "/v1/layout") {
      if (!this.layoutRoute) {
        return {
          kind: "status",
          status: 404,
          code: "NOT_FOUND",
          message: "no route",
          retryAfterMs: undefined,
        };
      }
      return encode(layoutDocument(this.math, this.idSpaceOf(base)));
    }
    const count = Number(url.searchParams.get("count"));
    const ids = g.issue(count, this.clock.now());
    for (const id of ids) {
      if (this.issued.has(id)) throw new Error(`fake fleet issued ${id} twice (test bug)`);
      this.issued.set(id, startedAt);
    }
    return encode({ ids: ids.map(String) });
  }
}
