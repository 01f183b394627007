/** A pod instance and the address it had while an observer saw it. */
export type AddressSighting = {
  uid: string;
  name: string;
  ip: string;
  firstSeenMs: number;
  lastSeenMs: number;
};

/**
 * Which pod instance an address stood for over a run, from repeated looks at the fleet's pods:
 * a client that only knows the IP it asked (a refill from a pod behind a headless Service) learns
 * which pod instance answered.
 */
export class PodAddresses {
  private readonly byUid = new Map<string, AddressSighting>();

  /** Records one look at the pods, taken at `atMs`. */
  note(pods: readonly { uid: string; name: string; ip: string }[], atMs: number): void {
    for (const p of pods) {
      const seen = this.byUid.get(p.uid);
      if (seen && seen.ip === p.ip) seen.lastSeenMs = atMs;
      else this.byUid.set(p.uid, { uid: p.uid, name: p.name, ip: p.ip, firstSeenMs: atMs, lastSeenMs: atMs });
    }
  }

  /**
   * The pod instance that had `ip` at `atMs`: of those seen with it, the last one first seen by
   * then (a pod deleted by force may answer after it left the API; an address is reused only
   * once its old sandbox is gone), else the first one seen with it. Undefined if none was.
   */
  at(ip: string, atMs: number): AddressSighting | undefined {
    const withIp = [...this.byUid.values()]
      .filter((s) => s.ip === ip)
      .sort((a, b) => a.firstSeenMs - b.firstSeenMs);
    return withIp.filter((s) => s.firstSeenMs <= atMs).at(-1) ?? withIp[0];
  }
}
