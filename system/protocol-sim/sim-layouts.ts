import { layoutMath, type LayoutMath } from "../../contract/id-layout-math.ts";
import { parseIdLayout } from "../../contract/id-layout.ts";
import { spaceLayoutOf, type SpaceLayout } from "../../contract/id-space-layout.ts";

/*
 * The ID layouts a simulated fleet can have. Two layouts of one id space mint the same bit
 * patterns sooner or later (docs/design.md, invariant 8); the alternate one is chosen so they
 * do within a simulated run, so a broken layout rule shows up as exact duplicate IDs.
 */

/** True time 0 of a simulated run on the wall clock (ms since the Unix epoch), before skews. */
export const SIM_WALL_START_MS = 1_000_000_000 + Date.parse("2024-01-01T00:00:00Z");

/** The names of the simulated layouts. */
export const SimLayoutName = {
  /** 41/10/12 bits, 1 ms ticks from 2024-01-01: the defaults. */
  primary: "primary",
  /**
   * 42/9/12 bits, 1 ms ticks from an epoch as far before the primary's as true time 0 is after
   * it: its worker w at tick 2t is the primary's worker w at tick t (w < 512), so what it issues
   * at true time x equals what the primary issued at x/2. A successor started without waiting
   * for the high-water mark repeats the primary's IDs; a correct one starts past twice the
   * time of the predecessor's last reservation.
   */
  alternate: "alternate",
} as const;
export type SimLayoutName = (typeof SimLayoutName)[keyof typeof SimLayoutName];

/** One simulated layout: its name, math and the form the ledger records. */
export interface SimLayout {
  name: SimLayoutName;
  math: LayoutMath;
  space: SpaceLayout;
}

// parseIdLayout refuses epochs in the future of `now`: any instant after both epochs will do.
const VALIDATED_AT = new Date("2030-01-01T00:00:00Z");
const PRIMARY_EPOCH_MS = Date.parse("2024-01-01T00:00:00Z");

function simLayout(name: SimLayoutName, raw: Record<string, unknown>): SimLayout {
  const math = layoutMath(parseIdLayout(raw, VALIDATED_AT));
  return { name, math, space: spaceLayoutOf(math.layout) };
}

/** The simulated layouts by name. */
export const SIM_LAYOUTS: Readonly<Record<SimLayoutName, SimLayout>> = {
  primary: simLayout(SimLayoutName.primary, {}),
  alternate: simLayout(SimLayoutName.alternate, {
    timestampBits: 42,
    workerIdBits: 9,
    sequenceBits: 12,
    epoch: new Date(2 * PRIMARY_EPOCH_MS - SIM_WALL_START_MS).toISOString(),
  }),
};
