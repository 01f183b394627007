import type { Kernel, Random, SimProcess } from "./sim-kernel.ts";
import { SIM_WALL_START_MS } from "./sim-layouts.ts";

/*
 * A simulated API server for ConfigMaps with the semantics the protocol relies on:
 * resourceVersion preconditions on replace and delete, AlreadyExists on create, and a
 * network that delays, loses requests, loses responses and times out, so a write the
 * client gave up on may still land later.
 */

/** A stored object. */
export interface StoredObject {
  resourceVersion: string;
  /** Assigned on create and kept by replaces, as metadata.uid is. */
  uid: string;
  /** Set on create and kept by replaces (every writer here replaces with the labels it read). */
  labels?: Record<string, string>;
  data: Record<string, string>;
}

/** A request, applied atomically when it reaches the server. */
export type SimRequest =
  | { op: "get"; name: string }
  | { op: "list"; prefix: string }
  | { op: "create"; name: string; data: Record<string, string>; labels?: Record<string, string> }
  | { op: "replace"; name: string; resourceVersion: string; data: Record<string, string> }
  | { op: "delete"; name: string; resourceVersion: string };

/** What the client sees; every answer the server sent carries its `Date` (true time, whole seconds). */
export type SimResponse = (
  | { ok: true; object: StoredObject | null; list?: Map<string, StoredObject> }
  | { ok: false; status: 404 | 409 | 500 | "timeout" }
) & { serverDateMs?: number };

/** Network behaviour between one process and the server, changed by faults. */
export interface LinkState {
  /** Until this true time every request or its response is lost. */
  partitionedUntil: number;
  /** The next request is held this long before it reaches the server: a write that lands after its sender gave up. */
  delayNextRequestMs?: number;
}

/** Called after every applied write (true time, name, the new object or null when deleted). */
export type WriteObserver = (name: string, object: StoredObject | null, writer: string) => void;

export class SimApiServer {
  private readonly objects = new Map<string, StoredObject>();
  private rv = 100;
  /** Until this true time the server answers 500. */
  downUntil = 0;
  readonly kernel: Kernel;
  private readonly random: Random;
  private readonly observer: WriteObserver;
  /** Probability that a request is delayed by a long time (a write that lands much later). */
  longDelayChance = 0.01;
  timeoutMs = 1000;

  constructor(kernel: Kernel, random: Random, observer: WriteObserver) {
    this.kernel = kernel;
    this.random = random;
    this.observer = observer;
  }

  /** Direct read, for invariant checks and the simulation's own bookkeeping (no network). */
  peek(name: string): StoredObject | undefined {
    return this.objects.get(name);
  }

  /** Deletes an object unconditionally, as a person with kubectl would (no network). */
  remove(name: string, writer: string): void {
    if (!this.objects.delete(name)) return;
    this.observer(name, null, writer);
  }

  /** A copy of every stored object, as an etcd snapshot would keep them. */
  snapshot(): ReadonlyMap<string, StoredObject> {
    return new Map([...this.objects].map(([name, obj]) => [name, { ...obj, data: { ...obj.data } }]));
  }

  /**
   * Puts every object back as `snapshot` had it (objects created since are gone, deleted
   * ones are back), the way `etcdutl snapshot restore --bump-revision --mark-compacted`
   * does: restored objects keep their old resourceVersions, and every later write gets a
   * resourceVersion past any handed out before the restore. No network; the server is
   * assumed stopped meanwhile.
   */
  restore(snapshot: ReadonlyMap<string, StoredObject>, writer: string): void {
    for (const name of [...this.objects.keys()]) if (!snapshot.has(name)) this.remove(name, writer);
    for (const [name, obj] of snapshot) {
      if (this.objects.get(name)?.resourceVersion === obj.resourceVersion) continue;
      const restored = { ...obj, data: { ...obj.data } };
      this.objects.set(name, restored);
      this.observer(name, restored, writer);
    }
    this.rv += 1_000_000;
  }

  /** Names of every stored object (for failure reports). */
  names(): string[] {
    return [...this.objects.keys()].sort();
  }

  private apply(req: SimRequest, writer: string): SimResponse {
    if (this.kernel.now < this.downUntil) return { ok: false, status: 500 };
    const current = "name" in req ? this.objects.get(req.name) : undefined;
    switch (req.op) {
      case "get":
        return current ? { ok: true, object: current } : { ok: false, status: 404 };
      case "list": {
        const list = new Map<string, StoredObject>();
        for (const [name, obj] of this.objects) if (name.startsWith(req.prefix)) list.set(name, obj);
        return { ok: true, object: null, list };
      }
      case "create": {
        if (current) return { ok: false, status: 409 };
        const obj = {
          resourceVersion: String(++this.rv),
          uid: `uid-${this.rv}`,
          ...(req.labels ? { labels: req.labels } : {}),
          data: { ...req.data },
        };
        this.objects.set(req.name, obj);
        this.observer(req.name, obj, writer);
        return { ok: true, object: obj };
      }
      case "replace": {
        if (!current) return { ok: false, status: 404 };
        if (current.resourceVersion !== req.resourceVersion) return { ok: false, status: 409 };
        const obj = { ...current, resourceVersion: String(++this.rv), data: { ...req.data } };
        this.objects.set(req.name, obj);
        this.observer(req.name, obj, writer);
        return { ok: true, object: obj };
      }
      case "delete": {
        if (!current) return { ok: false, status: 404 };
        if (current.resourceVersion !== req.resourceVersion) return { ok: false, status: 409 };
        this.objects.delete(req.name);
        this.observer(req.name, null, writer);
        return { ok: true, object: null };
      }
    }
  }

  /**
   * Sends `req` from `client`; `done` runs in the client (when it is not paused) with the
   * response, or with a timeout after `timeoutMs` (the client's own) of true time when the request or its
   * response was lost or is late. A late request still applies when it arrives.
   */
  send(
    client: SimProcess,
    link: LinkState,
    req: SimRequest,
    done: (res: SimResponse) => void,
    timeoutMs = this.timeoutMs,
  ): void {
    let answered = false;
    const answer = (res: SimResponse) => {
      if (answered) return;
      answered = true;
      client.deliver(() => done(res));
    };
    this.kernel.after(timeoutMs, () => answer({ ok: false, status: "timeout" }));
    const sentAt = this.kernel.now;
    if (sentAt < link.partitionedUntil && this.random.chance(0.5)) return; // request lost
    const forced = link.delayNextRequestMs;
    link.delayNextRequestMs = undefined;
    const delay =
      forced ??
      (this.random.chance(this.longDelayChance) ? this.random.int(500, 4000) : this.random.int(1, 25));
    this.kernel.after(delay, () => {
      const res = {
        ...this.apply(req, client.name),
        serverDateMs: Math.floor((SIM_WALL_START_MS + this.kernel.now) / 1000) * 1000,
      };
      if (this.kernel.now < link.partitionedUntil) return; // response lost
      this.kernel.after(this.random.int(1, 25), () => answer(res));
    });
  }
}
