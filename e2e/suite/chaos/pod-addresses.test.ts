import { describe, expect, it } from "vitest";
import { PodAddresses } from "./pod-addresses.ts";

describe("pod addresses over a run", () => {
  const a = { uid: "uid-a", name: "f-0", ip: "10.0.0.5" };
  const b = { uid: "uid-b", name: "f-0", ip: "10.0.0.9" };
  const c = { uid: "uid-c", name: "f-1", ip: "10.0.0.5" };

  it("names the pod instance that had an address at a time, also after it left the API", () => {
    const seen = new PodAddresses();
    seen.note([a], 1000);
    seen.note([a], 2000);
    seen.note([b], 3000); // a was force-deleted; b replaces it under the same name
    expect(seen.at("10.0.0.5", 1500)?.uid).toBe("uid-a");
    expect(seen.at("10.0.0.5", 9000)?.uid).toBe("uid-a"); // a's process answering late
    expect(seen.at("10.0.0.9", 3500)?.uid).toBe("uid-b");
    expect(seen.at("10.0.0.7", 3500)).toBeUndefined();
  });

  it("takes the instance last seen with a reused address by then, and the first one before any was seen", () => {
    const seen = new PodAddresses();
    seen.note([a], 1000);
    seen.note([c], 5000);
    expect(seen.at("10.0.0.5", 4000)?.uid).toBe("uid-a");
    expect(seen.at("10.0.0.5", 6000)?.uid).toBe("uid-c");
    expect(seen.at("10.0.0.5", 500)?.uid).toBe("uid-a");
    expect(seen.at("10.0.0.5", 6000)).toMatchObject({ firstSeenMs: 5000, lastSeenMs: 5000 });
  });
});
