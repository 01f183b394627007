import { describe, expect, it } from "vitest";
import { LEASE_DEFAULTS } from "./fleet-defaults.ts";
import { marginFitsLease, renewsBeforeFencing } from "./lease-fencing.ts";

describe("lease fencing rules", () => {
  const defaults = {
    duration: LEASE_DEFAULTS.durationSeconds,
    renewInterval: LEASE_DEFAULTS.renewIntervalSeconds,
    safetyMargin: LEASE_DEFAULTS.safetyMarginSeconds,
  };

  it("accept the defaults", () => {
    expect(marginFitsLease(defaults)).toBe(true);
    expect(renewsBeforeFencing(defaults)).toBe(true);
  });

  it("refuse a margin that eats the whole lease", () => {
    expect(marginFitsLease({ ...defaults, safetyMargin: defaults.duration })).toBe(false);
  });

  it("refuse renewing only when the holder has already fenced itself", () => {
    // 15 s lease, 3 s margin: the holder fences 12 s after its last renewal was sent.
    expect(renewsBeforeFencing({ ...defaults, renewInterval: 11 })).toBe(true);
    expect(renewsBeforeFencing({ ...defaults, renewInterval: 12 })).toBe(false);
  });
});
