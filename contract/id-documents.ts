import type { IdBounds } from "./id-bounds.ts";
import { encodeIdAs, ID_FORMATS, type IdFormat } from "./id-encoding.ts";
import { decodeId, type LayoutMath } from "./id-layout-math.ts";

/** GET /v1/parse/:id's body: an ID taken apart, and written in every format. */
export interface ParsedIdDocument {
  /** decimal */
  id: string;
  /** The start of the ID's tick, RFC 3339. */
  time: string;
  /** Ticks since the layout's epoch. */
  timestamp: number;
  workerId: number;
  sequence: number;
  formats: Record<IdFormat, string>;
}

/**
 * The /v1/parse document of `id` (the generator serves it, the CLI prints it). Throws a
 * RangeError when the ID's time lies past what a Date holds (year 275760).
 */
export function parsedIdDocument(math: LayoutMath, id: bigint): ParsedIdDocument {
  const decoded = decodeId(math, id);
  if (Number.isNaN(decoded.time.getTime())) {
    throw new RangeError(`ID ${id} has a timestamp beyond the year 275760`);
  }
  return {
    id: id.toString(),
    time: decoded.time.toISOString(),
    timestamp: decoded.timestamp,
    workerId: decoded.workerId,
    sequence: decoded.sequence,
    formats: Object.fromEntries(ID_FORMATS.map((f) => [f, encodeIdAs(id, f)])) as Record<IdFormat, string>,
  };
}

/** GET /v1/bounds's body: the range asked for and its IDs, `id BETWEEN min AND max`. */
export interface BoundsDocument {
  from: string;
  to: string;
  min: string;
  max: string;
}

/** The /v1/bounds document of [fromMs, toMs) and its bounds (the generator serves it, the CLI prints it). */
export function boundsDocument(
  fromMs: number,
  toMs: number,
  bounds: IdBounds,
  format?: IdFormat,
): BoundsDocument {
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    min: encodeIdAs(bounds.min, format),
    max: encodeIdAs(bounds.max, format),
  };
}
