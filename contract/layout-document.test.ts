import { describe, expect, it } from "vitest";
import { layoutMath } from "./id-layout-math.ts";
import { parseIdLayout } from "./id-layout.ts";
import { layoutDocument, layoutFromDocument } from "./layout-document.ts";

describe("layoutDocument", () => {
  it("describes the default layout", () => {
    expect(layoutDocument(layoutMath(parseIdLayout({})), "orders")).toEqual({
      timestampBits: 41,
      workerIdBits: 10,
      sequenceBits: 12,
      timeUnitMs: 1,
      epoch: "2024-01-01T00:00:00Z",
      idSpace: "orders",
      capacityIdsPerSecond: 4_096_000,
      timestampExhaustsAt: "2093-09-06T15:47:35.552Z",
      // 2^31 ms after the epoch: 41/10/12 IDs outgrow JavaScript numbers within a month.
      idsPassSafeIntegerAt: "2024-01-25T20:31:23.648Z",
    });
  });

  it("round-trips through JSON into the same layout math", () => {
    const math = layoutMath(
      parseIdLayout({ timestampBits: 39, workerIdBits: 16, sequenceBits: 8, timeUnitMs: 10 }),
    );
    const served = JSON.parse(JSON.stringify(layoutDocument(math, "default"))) as unknown;
    expect(layoutFromDocument(served)).toEqual(math);
  });

  it("names every bad field of a served document", () => {
    expect(() => layoutFromDocument("x")).toThrow("a layout document must be a JSON object");
    expect(() =>
      layoutFromDocument({ timestampBits: 41, workerIdBits: 40, sequenceBits: 12, timeUnitMs: 0 }),
    ).toThrow(
      "invalid layout document: workerIdBits must be a whole number from 1 to 31, got 40; timeUnitMs must be a whole number from 1 to 1000, got 0; epoch must be an RFC 3339 UTC timestamp, got undefined",
    );
    expect(() =>
      layoutFromDocument({
        timestampBits: 41,
        workerIdBits: 10,
        sequenceBits: 11,
        timeUnitMs: 1,
        epoch: "2024-01-01T00:00:00Z",
      }),
    ).toThrow(/must be 63, got 41 \+ 10 \+ 11 = 62/);
  });
});
