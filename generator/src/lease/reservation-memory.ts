import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Where a pod keeps the reservations its generator processes sent, per worker id, so that a new
 * container of the same pod starts above them whatever happened to the lease meanwhile: an etcd
 * restore can take the lease back below ticks the previous process issued, and a new process
 * has no other memory of them (docs/lease-protocol.md, found by the simulation). The file lives
 * in the pod's `/tmp` emptyDir, which outlives a container but not the pod (a new pod gets a new
 * assignment with floors from the operator).
 */
export interface ReservationMemory {
  /** Highest reservation sent per worker id, by earlier processes of this pod too. */
  load(): ReadonlyMap<number, number>;
  /** Called before a write reserving up to `tick` on `workerId` is sent. */
  save(workerId: number, tick: number): void;
}

/**
 * Where the file of a pod lives: the generator container's `/tmp` is an emptyDir of the pod. The
 * pod's UID in the name keeps generators that share one `/tmp` (host processes in tests) apart.
 */
export function reservationFileOf(podUid: string): string {
  return `/tmp/idgen/lease-reservations-${podUid.replace(/[^\w-]/g, "_")}.json`;
}

/** A ReservationMemory in a JSON file; unreadable content counts as none (and is logged). */
export function fileReservationMemory(
  path: string,
  log: (message: string) => void = () => {},
): ReservationMemory {
  let known = new Map<number, number>();
  return {
    load() {
      try {
        const raw: unknown = JSON.parse(readFileSync(path, "utf8"));
        known = new Map(
          Object.entries(raw as Record<string, unknown>).flatMap(([w, t]) =>
            Number.isInteger(Number(w)) && Number.isSafeInteger(t) ? [[Number(w), t as number]] : [],
          ),
        );
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT")
          log(`reservation memory ${path} unreadable, starting without it: ${(error as Error).message}`);
      }
      return known;
    },
    save(workerId, tick) {
      if ((known.get(workerId) ?? -1) >= tick) return;
      known.set(workerId, tick);
      try {
        mkdirSync(dirname(path), { recursive: true });
        // Written whole, then renamed: a crash mid-write leaves the previous content.
        writeFileSync(`${path}.tmp`, JSON.stringify(Object.fromEntries(known)));
        renameSync(`${path}.tmp`, path);
      } catch (error) {
        log(`reservation memory ${path} not written: ${(error as Error).message}`);
      }
    },
  };
}
