import { setTimeout as sleep } from "node:timers/promises";
import type { IdCollector } from "./id-audit.ts";
import type { FleetObserver, FleetPod } from "./fleet-observer.ts";

/** Bounds and shape of the client load. */
export type PullSettings = {
  port: number;
  batchSize: number;
  /** Concurrent requests per pod. */
  perPod: number;
  /** Stop taking IDs past this many (memory bound). */
  maxIds: number;
  /** Spread maxIds over this long: clients pause while ahead of that pace, so faults late in a long run still see traffic. */
  paceOverMs: number;
  requestTimeoutMs: number;
};

/** What the clients saw besides IDs: answers that were not IDs, by reason. */
export type PullTotals = {
  requests: number;
  okBatches: number;
  /** 503 answers by error code (FENCED, NOT_LEASED, CLOCK_BACKWARD, ...). */
  refusals: Record<string, number>;
  /** Other HTTP statuses and network errors (pod gone, connection refused, timeouts). */
  failures: Record<string, number>;
};

const bump = (m: Record<string, number>, key: string) => {
  m[key] = (m[key] ?? 0) + 1;
};

/**
 * Pulls ID batches from every pod the observer sees, by pod IP, `perPod` requests at a time,
 * until stop() or maxIds. One loop per pod instance (UID), so every ID is attributed to the
 * process that answered; a loop ends when its pod leaves the observer's list.
 */
export class IdPullers {
  readonly totals: PullTotals = { requests: 0, okBatches: 0, refusals: {}, failures: {} };
  private readonly loops = new Map<string, Promise<void>>();
  private stopped = false;
  private supervisor: Promise<void> | undefined;

  private readonly observer: FleetObserver;
  private readonly collector: IdCollector;
  private readonly settings: PullSettings;

  constructor(observer: FleetObserver, collector: IdCollector, settings: PullSettings) {
    this.observer = observer;
    this.collector = collector;
    this.settings = settings;
  }

  start(): void {
    this.startedAt = Date.now();
    this.supervisor = (async () => {
      while (!this.stopped) {
        for (const pod of this.observer.pods) {
          if (this.loops.has(pod.uid)) continue;
          for (let i = 0; i < this.settings.perPod; i++) {
            const key = i === 0 ? pod.uid : `${pod.uid}#${i}`;
            const loop = this.pull(pod).finally(() => this.loops.delete(key));
            this.loops.set(key, loop);
          }
        }
        await sleep(200);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.supervisor;
    await Promise.all(this.loops.values());
  }

  private alive(pod: FleetPod): boolean {
    return (
      !this.stopped &&
      this.collector.size < this.settings.maxIds &&
      this.observer.pods.some((p) => p.uid === pod.uid)
    );
  }

  private startedAt = Date.now();

  /** True while more IDs are held than the pace allows by now. */
  private ahead(): boolean {
    const elapsed = Date.now() - this.startedAt;
    return this.collector.size > (this.settings.maxIds * elapsed) / this.settings.paceOverMs;
  }

  private async pull(pod: FleetPod): Promise<void> {
    const url = `http://${pod.ip}:${this.settings.port}/v1/ids?count=${this.settings.batchSize}`;
    while (this.alive(pod)) {
      if (this.ahead()) {
        await sleep(50);
        continue;
      }
      this.totals.requests++;
      let pause = 0;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(this.settings.requestTimeoutMs) });
        const body = await response.text();
        if (response.status === 200) {
          const ids = (JSON.parse(body) as { ids: string[] }).ids.map((s) => BigInt(s));
          this.collector.addBatch(pod.uid, pod.name, ids, Date.now());
          this.totals.okBatches++;
        } else if (response.status === 503) {
          bump(this.totals.refusals, errorCode(body) ?? "503");
          pause = 100;
        } else {
          bump(this.totals.failures, `HTTP ${response.status} ${errorCode(body) ?? ""}`.trim());
          pause = 200;
        }
      } catch (error) {
        bump(this.totals.failures, networkReason(error));
        pause = 250;
      }
      if (pause) await sleep(pause);
    }
  }
}

function errorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

function networkReason(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string } };
  if (e.name === "TimeoutError") return "timeout";
  return e.cause?.code ?? e.name ?? "error";
}
