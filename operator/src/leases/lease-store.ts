import type { V1ConfigMap } from "@kubernetes/client-node";
import type { IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import type { SpaceLayout } from "../../../contract/id-space-layout.ts";
import type { PlanAction } from "./worker-id-planner.ts";

/** The lease ConfigMaps of an id space (every namespace in scope) and its ledger, as read. */
export interface IdSpaceObjects {
  leases: V1ConfigMap[];
  /** Undefined when the ledger does not exist. */
  ledger: V1ConfigMap | undefined;
}

/**
 * Where lease sync reads and writes (the port between LeaseSync and the Kubernetes API): the
 * operator runs it on the API server and its informer caches (kube-lease-store.ts), the lease
 * simulation on its simulated API server, so both drive the very same LeaseSync. Writes fail
 * with an error whose numeric `code` is 409 or 404 when a precondition fails or the object is
 * gone (kube/api-errors.ts reads it); any other failure is retried by the caller later.
 */
export interface LeaseStore {
  /** The id space's objects from the informer caches, or undefined when they do not hold its ledger. */
  cached(fleet: IdGeneratorFleet): IdSpaceObjects | undefined;
  /** The id space's objects, read from the API server. */
  read(fleet: IdGeneratorFleet): Promise<IdSpaceObjects>;
  /**
   * Applies one planned write with its precondition; returns a created ledger's uid and the
   * resourceVersion a ledger write produced.
   */
  apply(
    fleet: IdGeneratorFleet,
    action: PlanAction,
  ): Promise<{ createdUid?: string; resourceVersion?: string }>;
  /**
   * Whether a fleet of this fleet's id space (in any namespace) has reported status: its first
   * reconcile creates the ledger before it writes status, so a ledger missing after that was lost.
   */
  idSpaceHadHolders(fleet: IdGeneratorFleet): boolean;
  /**
   * The other fleets of this fleet's id space that exist (every namespace in scope, deleting
   * ones too), as `namespace/name` with their layout and whether they declare a succession.
   */
  otherFleetsOfIdSpace(fleet: IdGeneratorFleet): readonly IdSpaceFleet[];
}

/** A fleet of an id space, as the layout rules see it. */
export interface IdSpaceFleet {
  /** namespace/name (fleetKey). */
  key: string;
  layout: SpaceLayout;
  layoutSuccession: boolean;
}

/** The clocks lease sync reads: wall for ticks and assignment numbers, monotonic for every wait. */
export interface LeaseSyncClock {
  wallMs(): number;
  monoMs(): number;
}
