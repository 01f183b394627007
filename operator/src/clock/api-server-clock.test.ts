import { describe, expect, it } from "vitest";
import { ApiServerClock } from "./api-server-clock.ts";

describe("ApiServerClock", () => {
  it("is the local clock until an answer says otherwise", () => {
    const clock = new ApiServerClock(() => 5000);
    expect(clock.notBehindMs()).toBe(5000);
    expect(clock.provenOffsetMs()).toBeNull();
  });

  it("moves forward by as much as the local clock may be behind the API server's", () => {
    let local = 1_000_000;
    const clock = new ApiServerClock(() => local);
    // The server's second 1_003_000 began at or before a request sent at local 1_000_000:
    // local is 2000 to 3050 ms behind.
    expect(clock.record({ sentWallMs: 1_000_000, receivedWallMs: 1_000_050, serverDateMs: 1_003_000 })).toBe(
      true,
    );
    expect(clock.notBehindMs()).toBe(1_004_000);
    expect(clock.provenOffsetMs()).toBe(-2950);
    local += 10_000;
    expect(clock.notBehindMs()).toBe(1_014_000);
  });

  it("stays local when the local clock is ahead (floors from it are only higher)", () => {
    const clock = new ApiServerClock(() => 2_000_000);
    clock.record({ sentWallMs: 1_005_000, receivedWallMs: 1_005_010, serverDateMs: 1_000_000 });
    expect(clock.notBehindMs()).toBe(2_000_000);
    expect(clock.provenOffsetMs()).toBe(4000);
  });

  it("ignores answers too slow to bound anything", () => {
    const clock = new ApiServerClock(() => 0);
    expect(clock.record({ sentWallMs: 0, receivedWallMs: 5000, serverDateMs: 60_000 })).toBe(false);
    expect(clock.notBehindMs()).toBe(0);
  });
});
