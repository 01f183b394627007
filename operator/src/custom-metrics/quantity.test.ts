import { describe, expect, it } from "vitest";
import { formatQuantity } from "./quantity.ts";

describe("formatQuantity", () => {
  it.each([
    [0, "0"],
    [-0, "0"],
    [0.25, "250m"],
    [0.5, "500m"],
    [1, "1"],
    [1.5, "1500m"],
    [0.001, "1m"],
    [0.0004, "400u"],
    [0.123456789, "123456789n"],
    [0.1234567891, "123456789n"],
    [2000, "2k"],
    [1_500_000, "1500k"],
    [-0.25, "-250m"],
    [3e12, "3T"],
  ])("%d -> %s", (value, expected) => {
    expect(formatQuantity(value)).toBe(expected);
  });

  it("keeps the digits a double holds (no 0.1 + 0.2 artefacts)", () => {
    expect(formatQuantity(0.1 + 0.2)).toBe("300m");
  });

  it("refuses values without a quantity form", () => {
    expect(() => formatQuantity(Number.NaN)).toThrow(/NaN cannot be written/);
    expect(() => formatQuantity(Number.POSITIVE_INFINITY)).toThrow(/Infinity/);
  });
});
