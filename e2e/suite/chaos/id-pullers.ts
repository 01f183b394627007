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
  /** Also pull through the fleet's Service (http://cluster-ip:port), `serviceLoops` requests at a time. */
  serviceUrl?: string;
  serviceLoops?: number;
};

/** What the clients of one path (pod IP or Service) saw besides IDs: answers that were not IDs, by reason. */
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
  /** Pulls by pod IP (every pod, terminating ones included). */
  readonly totals: PullTotals = emptyTotals();
  /** Pulls through the Service (what an application sees: only ready pods get traffic). */
  readonly serviceTotals: PullTotals = emptyTotals();
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
    const { serviceUrl, serviceLoops = 0 } = this.settings;
    for (let i = 0; serviceUrl && i < serviceLoops; i++)
      this.loops.set(`service#${i}`, this.pullService(serviceUrl));
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
      const answer = await pullOnce(url, this.totals, this.settings.requestTimeoutMs);
      if (answer.ids) this.collector.addBatch(pod.uid, pod.name, answer.ids, Date.now());
      if (answer.pauseMs) await sleep(answer.pauseMs);
    }
  }

  /**
   * One client of the Service, at a tenth of the pod batches: the answering pod is unknown, so
   * its IDs join the duplicate check only (not the per-holder checks).
   */
  private async pullService(serviceUrl: string): Promise<void> {
    const url = `${serviceUrl}/v1/ids?count=${Math.max(1, Math.floor(this.settings.batchSize / 10))}`;
    while (!this.stopped && this.collector.size < this.settings.maxIds) {
      const answer = await pullOnce(url, this.serviceTotals, this.settings.requestTimeoutMs);
      if (answer.ids) this.collector.addUnattributed(answer.ids);
      await sleep(answer.pauseMs || 20);
    }
  }
}

function emptyTotals(): PullTotals {
  return { requests: 0, okBatches: 0, refusals: {}, failures: {} };
}

/** One request; counted into `totals`. Returns the IDs (on 200) and how long to pause before the next. */
async function pullOnce(
  url: string,
  totals: PullTotals,
  timeoutMs: number,
): Promise<{ ids?: bigint[]; pauseMs: number }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    // Counted when answered, so a fault's window never holds more answers than requests.
    totals.requests++;
    if (response.status === 200) {
      totals.okBatches++;
      return { ids: (JSON.parse(body) as { ids: string[] }).ids.map((s) => BigInt(s)), pauseMs: 0 };
    }
    if (response.status === 503) {
      bump(totals.refusals, errorCode(body) ?? "503");
      return { pauseMs: 100 };
    }
    bump(totals.failures, `HTTP ${response.status} ${errorCode(body) ?? ""}`.trim());
    return { pauseMs: 200 };
  } catch (error) {
    totals.requests++;
    bump(totals.failures, networkReason(error));
    return { pauseMs: 250 };
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
