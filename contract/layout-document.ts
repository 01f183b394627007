import { idsPassSafeIntegerAt } from "./id-capacity.ts";
import {
  EPOCH_PATTERN,
  LAYOUT_LIMITS,
  layoutMath,
  payloadBitsProblem,
  type IdLayout,
  type LayoutMath,
} from "./id-layout-math.ts";

/**
 * What GET /v1/layout serves: the layout of the IDs a generator issues and what it
 * implies, so clients (the client library, the CLI, a migration) never configure a
 * layout by hand. Dependency-free, so the client library reads it as is.
 */
export interface LayoutDocument {
  timestampBits: number;
  workerIdBits: number;
  sequenceBits: number;
  timeUnitMs: number;
  /** Start of the timestamp field, RFC 3339 in UTC. */
  epoch: string;
  /** The id space the generator issues into (fleets sharing it never issue the same ID). */
  idSpace: string;
  /** IDs one worker (one generator) can issue per second at full sequence use: 2^S per tick. */
  capacityIdsPerSecond: number;
  /** When the timestamp bits run out (RFC 3339), or null if past year 275760. */
  timestampExhaustsAt: string | null;
  /** When IDs first exceed 2^53 (the largest integer a JavaScript number holds exactly), or null if never. */
  idsPassSafeIntegerAt: string | null;
}

/** The layout document of `math` in `idSpace`. */
export function layoutDocument(math: LayoutMath, idSpace: string): LayoutDocument {
  const { timestampBits, workerIdBits, sequenceBits, timeUnitMs, epoch } = math.layout;
  return {
    timestampBits,
    workerIdBits,
    sequenceBits,
    timeUnitMs,
    epoch,
    idSpace,
    capacityIdsPerSecond: math.idsPerSecondPerWorker,
    timestampExhaustsAt: math.exhaustsAt?.toISOString() ?? null,
    idsPassSafeIntegerAt: idsPassSafeIntegerAt(math)?.toISOString() ?? null,
  };
}

/**
 * Reads the layout out of a served layout document (e.g. the parsed JSON of GET
 * /v1/layout), checking what the math relies on. Throws an error naming the bad field.
 */
export function layoutFromDocument(document: unknown): LayoutMath {
  if (typeof document !== "object" || document === null) {
    throw new TypeError("a layout document must be a JSON object");
  }
  const doc = document as Record<string, unknown>;
  const problems: string[] = [];
  for (const [field, { min, max }] of Object.entries(LAYOUT_LIMITS)) {
    const value = doc[field];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  }
  if (typeof doc.epoch !== "string" || !EPOCH_PATTERN.test(doc.epoch)) {
    problems.push(`epoch must be an RFC 3339 UTC timestamp, got ${JSON.stringify(doc.epoch)}`);
  }
  if (!problems.length) {
    const bits = payloadBitsProblem(
      doc.timestampBits as number,
      doc.workerIdBits as number,
      doc.sequenceBits as number,
    );
    if (bits) problems.push(bits);
  }
  if (problems.length) throw new RangeError(`invalid layout document: ${problems.join("; ")}`);
  const layout: IdLayout = {
    timestampBits: doc.timestampBits as number,
    workerIdBits: doc.workerIdBits as number,
    sequenceBits: doc.sequenceBits as number,
    timeUnitMs: doc.timeUnitMs as number,
    epoch: doc.epoch as string,
  };
  return layoutMath(layout);
}
