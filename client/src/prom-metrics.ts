import type { IdClient } from "./id-client.ts";
import type { ClientStats } from "./client-events.ts";

/** The part of prom-client's metric constructors used here (Counter and Gauge with collect). */
interface MetricConfig {
  name: string;
  help: string;
  collect?: () => void;
}
/** prom-client's module (or anything shaped like it): `import * as prom from "prom-client"`. */
export interface PromClientLike {
  Gauge: new (config: MetricConfig) => { set(value: number): void };
  Counter: new (config: MetricConfig) => { reset(): void; inc(value: number): void };
}

const COUNTERS = {
  delivered: "IDs handed to the application",
  fetched: "IDs fetched from the fleet",
  refills: "refills that landed in the buffer",
  failovers: "refills that failed and moved on to another endpoint",
  droppedStale: "buffered IDs dropped for being older than maxAgeMs",
  waited: "calls that found the buffer empty and waited for a refill",
} as const satisfies Partial<Record<keyof ClientStats, string>>;

const GAUGES = {
  buffered: "IDs in the client's buffer",
  waiting: "calls waiting for IDs",
  refillsInFlight: "refill requests in flight",
  endpoints: "generator endpoints known",
  usableEndpoints: "generator endpoints whose breaker lets requests through",
} as const satisfies Partial<Record<keyof ClientStats, string>>;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Registers the client's counters and gauges with the application's prom-client, read
 * from stats() at scrape time (the client itself does not depend on prom-client).
 * Names: `<prefix>_<stat>_total` for counters, `<prefix>_<stat>` for gauges.
 */
export function registerPromMetrics(
  client: IdClient,
  prom: PromClientLike,
  options: { prefix?: string; registers?: unknown[] } = {},
): void {
  const prefix = options.prefix ?? "idfleet_client";
  const registers = options.registers ? { registers: options.registers } : {};
  for (const [key, help] of Object.entries(COUNTERS)) {
    const stat = key as keyof typeof COUNTERS;
    new prom.Counter({
      name: `${prefix}_${snake(stat)}_total`,
      help,
      ...registers,
      collect(this: { reset(): void; inc(value: number): void }) {
        this.reset();
        this.inc(client.stats()[stat]);
      },
    });
  }
  for (const [key, help] of Object.entries(GAUGES)) {
    const stat = key as keyof typeof GAUGES;
    new prom.Gauge({
      name: `${prefix}_${snake(stat)}`,
      help,
      ...registers,
      collect(this: { set(value: number): void }) {
        this.set(client.stats()[stat]);
      },
    });
  }
}
