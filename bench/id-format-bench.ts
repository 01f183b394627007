import { performance } from "node:perf_hooks";
import { IdFormat } from "../contract/id-encoding.ts";
import type { LayoutMath } from "../contract/id-layout-math.ts";
import { appendDecimalIds } from "../generator/src/encoding/decimal-id-encoder.ts";
import { appendFixedWidthIds } from "../generator/src/encoding/fixed-width-id-encoder.ts";

/** What encoding a run of full ticks costs in one format. */
export interface FormatCost {
  format: IdFormat;
  nsPerId: number;
  idsPerSecond: number;
  /** Fixed-width formats: IDs whose string was not greater than the one before (must be 0). */
  notIncreasing: number;
}

/**
 * Encodes `ticks` full ticks of one worker (2^S IDs each, as the batch route does) in
 * `format`, checking as it goes that the fixed-width strings increase. CPU only: no issuer,
 * no clock.
 */
export function measureFormat(
  math: LayoutMath,
  format: IdFormat,
  ticks: number,
  firstTick: number,
): FormatCost {
  const out: string[] = [];
  let previous = "";
  let notIncreasing = 0;
  const start = performance.now();
  for (let t = 0; t < ticks; t++) {
    out.length = 0;
    if (format === IdFormat.decimal) appendDecimalIds(math, firstTick + t, 1, 0, math.idsPerTick, out);
    else appendFixedWidthIds(math, format, firstTick + t, 1, 0, math.idsPerTick, out);
    if (format !== IdFormat.decimal) {
      for (const id of out) {
        if (id <= previous) notIncreasing++;
        previous = id;
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const ids = ticks * math.idsPerTick;
  return { format, nsPerId: (seconds * 1e9) / ids, idsPerSecond: ids / seconds, notIncreasing };
}
