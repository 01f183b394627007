import type { ClientClock } from "./client-clock.ts";
import type { ClientEvents } from "./client-events.ts";
import type { AddressLookup } from "./endpoint-resolver.ts";
import type { GeneratorTransport } from "./generator-transport.ts";

/** Options of createIdClient. Only `endpoints` is required. */
export interface IdClientOptions {
  /**
   * Base URLs of the fleet, e.g. `http://orders-ids.shop.svc:80`. A plain-http host name is
   * resolved and spread over every address (a headless Service: every ready pod), again
   * every `resolveEveryMs`.
   */
  endpoints: readonly string[];
  /** IDs requested longer ago than this are dropped, never handed out. Default 5000. */
  maxAgeMs?: number;
  /** next() rejects once no endpoint served for this long while it waited. Default 10000. */
  failAfterMs?: number;
  /** One refill request may take this long before the next endpoint is asked. Default 1000. */
  requestTimeoutMs?: number;
  /** How often host names are resolved again (the fleet scales). Default 5000; 0: never expand names. */
  resolveEveryMs?: number;
  /** Largest batch asked for; lowered on its own if the fleet serves less (IDGEN_MAX_BATCH). Default 10000. */
  maxBatch?: number;
  /** Smallest batch asked for. Default 64. */
  minBatch?: number;
  /** Callbacks for refills, failovers, dropped stale IDs, endpoint changes. */
  events?: ClientEvents;
  /** Test ports: time, HTTP and DNS. */
  clock?: ClientClock;
  transport?: GeneratorTransport;
  lookup?: AddressLookup;
}

/** Options with every default applied. */
export interface ClientSettings {
  endpoints: readonly string[];
  maxAgeMs: number;
  failAfterMs: number;
  requestTimeoutMs: number;
  resolveEveryMs: number;
  maxBatch: number;
  minBatch: number;
}

export const CLIENT_DEFAULTS = {
  maxAgeMs: 5000,
  failAfterMs: 10_000,
  requestTimeoutMs: 1000,
  resolveEveryMs: 5000,
  maxBatch: 10_000,
  minBatch: 64,
} as const;

/** Inclusive ranges of the numeric options. */
const LIMITS: Record<keyof typeof CLIENT_DEFAULTS, [number, number]> = {
  maxAgeMs: [10, 3_600_000],
  failAfterMs: [1, 3_600_000],
  requestTimeoutMs: [1, 600_000],
  resolveEveryMs: [0, 3_600_000],
  maxBatch: [1, 100_000],
  minBatch: [1, 100_000],
};

/** Applies defaults and checks every option; throws one TypeError naming each bad one and what it allows. */
export function clientSettings(options: IdClientOptions): ClientSettings {
  const problems: string[] = [];
  const endpoints = options?.endpoints;
  if (!Array.isArray(endpoints) || endpoints.length === 0 || endpoints.some((e) => typeof e !== "string")) {
    problems.push('endpoints must be a non-empty array of base URLs, e.g. ["http://orders-ids.shop.svc:80"]');
  }
  const numbers = {} as Record<keyof typeof CLIENT_DEFAULTS, number>;
  for (const key of Object.keys(CLIENT_DEFAULTS) as (keyof typeof CLIENT_DEFAULTS)[]) {
    const value = options?.[key] ?? CLIENT_DEFAULTS[key];
    const [min, max] = LIMITS[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    numbers[key] = value;
  }
  if (numbers.minBatch > numbers.maxBatch)
    problems.push(`minBatch (${numbers.minBatch}) must not exceed maxBatch (${numbers.maxBatch})`);
  if (problems.length) throw new TypeError(`invalid idfleet client options: ${problems.join("; ")}`);
  return { endpoints: endpoints as readonly string[], ...numbers };
}
