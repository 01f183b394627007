import { describe, expect, it } from "vitest";
import { clientSettings } from "./client-options.ts";
import { parseEndpoint, urlForAddress } from "./endpoint-resolver.ts";
import { retryAfterMs } from "./retry-after.ts";

describe("client options", () => {
  it("applies defaults", () => {
    expect(clientSettings({ endpoints: ["http://ids:8080"] })).toMatchObject({
      maxAgeMs: 5000,
      maxBatch: 10_000,
    });
  });

  it("names every bad option and what it allows", () => {
    expect(() => clientSettings({ endpoints: [], maxAgeMs: -1, minBatch: 2.5 })).toThrow(
      /endpoints must be a non-empty array.*maxAgeMs must be a whole number from 10 to 3600000, got -1.*minBatch must be a whole number from 1 to 100000, got 2.5/,
    );
  });

  it("reads endpoints: names over plain http are spread over their addresses", () => {
    expect(parseEndpoint("http://orders-ids.shop.svc:80/")).toEqual({
      url: "http://orders-ids.shop.svc",
      hostname: "orders-ids.shop.svc",
    });
    expect(parseEndpoint("https://ids.example.com").hostname).toBeUndefined();
    expect(parseEndpoint("http://127.0.0.1:8080").hostname).toBeUndefined();
    expect(parseEndpoint("http://localhost:8080").hostname).toBeUndefined();
    expect(urlForAddress(parseEndpoint("http://ids:8080/base"), "fd00::5")).toBe(
      "http://[fd00::5]:8080/base",
    );
    expect(() => parseEndpoint("ids:8080")).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
    expect(() => parseEndpoint("not a url")).toThrow(/is not a URL; expected a base URL/);
    expect(() => parseEndpoint("http://ids/?x=1")).toThrow(/without \?query/);
  });

  it("reads Retry-After in seconds or as a date, capped", () => {
    expect(retryAfterMs("2", 0, 30_000)).toBe(2000);
    expect(retryAfterMs("3600", 0, 30_000)).toBe(30_000);
    expect(retryAfterMs(new Date(5000).toUTCString(), 1000, 30_000)).toBe(4000);
    expect(retryAfterMs("soon", 0, 30_000)).toBeUndefined();
    expect(retryAfterMs(null, 0, 30_000)).toBeUndefined();
  });
});
