import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileReservationMemory, reservationFileOf } from "./reservation-memory.ts";

const dirs: string[] = [];
const fileIn = () => {
  const dir = mkdtempSync(join(tmpdir(), "reservations-"));
  dirs.push(dir);
  return join(dir, "idgen", "lease-reservations.json");
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("reservation memory (the pod's emptyDir)", () => {
  it("gives a new process of the pod the highest reservation an earlier one sent, per worker id", () => {
    const path = fileIn();
    const earlier = fileReservationMemory(path);
    expect([...earlier.load()]).toEqual([]);
    earlier.save(3, 1_000);
    earlier.save(3, 900); // never lowered
    earlier.save(5, 70);
    expect([...fileReservationMemory(path).load()]).toEqual([
      [3, 1_000],
      [5, 70],
    ]);
  });

  it("starts without memory, and says so, when the file does not parse", () => {
    const path = fileIn();
    fileReservationMemory(path).save(1, 1);
    writeFileSync(path, "{not json");
    const said: string[] = [];
    const memory = fileReservationMemory(path, (m) => said.push(m));
    expect([...memory.load()]).toEqual([]);
    expect(said[0]).toMatch(/unreadable/);
    memory.save(1, 5);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ 1: 5 });
  });

  it("names the file after the pod, in the pod's /tmp emptyDir", () => {
    expect(reservationFileOf("6f1c-42")).toBe("/tmp/idgen/lease-reservations-6f1c-42.json");
    expect(reservationFileOf("../x")).toBe("/tmp/idgen/lease-reservations-___x.json");
  });
});
