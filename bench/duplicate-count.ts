/** Duplicates and order violations in a run of IDs. */
export interface IdRunCheck {
  count: number;
  /** IDs equal to an earlier one (n copies of a value count n-1). */
  duplicates: number;
  /** Places where an ID is not greater than the one before it. */
  notIncreasing: number;
}

/**
 * Checks the first `count` IDs: order violations in a pass, exact duplicates by sorting
 * a copy (so a generator that wraps its sequence is caught even when it is not sorted).
 */
export function checkIdRun(ids: BigInt64Array, count: number): IdRunCheck {
  let notIncreasing = 0;
  for (let i = 1; i < count; i++) if ((ids[i] as bigint) <= (ids[i - 1] as bigint)) notIncreasing++;
  const sorted = ids.slice(0, count).sort();
  let duplicates = 0;
  for (let i = 1; i < count; i++) if (sorted[i] === sorted[i - 1]) duplicates++;
  return { count, duplicates, notIncreasing };
}
