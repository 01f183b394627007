import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { LEASE_COMPONENT, LeaseLabel, parseLeaseData } from "../../../contract/lease-record.ts";
import { fleetSelectorString } from "../../../operator/src/reconcile/fleet-naming.ts";
import type { LeaseSighting } from "./id-audit.ts";
import { PodAddresses } from "./pod-addresses.ts";

/** A fleet pod as the chaos run addresses it. */
export type FleetPod = { name: string; uid: string; ip: string; ready: boolean; terminating: boolean };

/**
 * Polls the fleet's pods and lease ConfigMaps through the API server every `intervalMs` while a
 * chaos run goes on. API errors (the API server is restarted on purpose) keep the last view.
 */
export class FleetObserver {
  pods: FleetPod[] = [];
  readonly sightings = new Map<string, LeaseSighting>();
  /** Which pod instance had which IP when (to attribute answers a client only knows by IP). */
  readonly addresses = new PodAddresses();
  apiErrors = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly core: CoreV1Api;
  private readonly namespace: string;
  private readonly fleet: string;
  private readonly intervalMs: number;

  constructor(kubeconfigPath: string, namespace: string, fleet: string, intervalMs = 500) {
    this.namespace = namespace;
    this.fleet = fleet;
    this.intervalMs = intervalMs;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.pollOnce().catch(() => this.apiErrors++);
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    // One last look, so leases written just before the end are seen.
    await this.pollOnce().catch(() => this.apiErrors++);
  }

  async pollOnce(): Promise<void> {
    const [pods, leases] = await Promise.all([
      this.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: fleetSelectorString(this.fleet),
      }),
      this.core.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: `${LeaseLabel.component}=${LEASE_COMPONENT},${LeaseLabel.fleet}=${this.fleet}`,
      }),
    ]);
    this.pods = pods.items.flatMap((p) => {
      const pod = toFleetPod(p);
      return pod ? [pod] : [];
    });
    const polledAt = Date.now();
    this.addresses.note(this.pods, polledAt);
    for (const cm of leases.items) {
      try {
        const lease = parseLeaseData(cm.data);
        const key = `${lease.holderUid}/${lease.workerId}`;
        const seen = this.sightings.get(key);
        if (seen) seen.lastSeenMs = polledAt;
        else
          this.sightings.set(key, {
            podUid: lease.holderUid,
            workerId: lease.workerId,
            firstSeenMs: polledAt,
            lastSeenMs: polledAt,
          });
      } catch {
        // A lease mid-write by hand or of another version: not a sighting.
      }
    }
  }
}

function toFleetPod(p: V1Pod): FleetPod | undefined {
  const ip = p.status?.podIP;
  // Terminating pods stay: they may still answer, and what they answer must be unique too.
  if (!p.metadata?.name || !p.metadata.uid || !ip) return undefined;
  const ready = (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
  return {
    name: p.metadata.name,
    uid: p.metadata.uid,
    ip,
    ready,
    terminating: Boolean(p.metadata.deletionTimestamp),
  };
}
