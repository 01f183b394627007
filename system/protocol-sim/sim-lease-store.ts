import type { V1ConfigMap } from "@kubernetes/client-node";
import { idSpaceNameOf, type IdGeneratorFleet } from "../../contract/fleet-spec.ts";
import {
  LEASE_COMPONENT,
  LeaseLabel,
  serializeLeaseData,
  serializeLedgerData,
} from "../../contract/lease-record.ts";
import type { ServerTimeSample } from "../../contract/server-time.ts";
import type { IdSpaceFleet, IdSpaceObjects, LeaseStore } from "../../operator/src/leases/lease-store.ts";
import type { PlanAction } from "../../operator/src/leases/worker-id-planner.ts";
import type { LinkState, SimApiServer, SimRequest, SimResponse, StoredObject } from "./sim-api-server.ts";
import type { SimProcess } from "./sim-kernel.ts";

/** Namespace of a simulated fleet unless it names another. */
export const SIM_NAMESPACE = "sim";
/** The operator's namespace, where ledgers live. */
const OPERATOR_NAMESPACE = "idfleet-system";

/** Key of a lease ConfigMap in the simulated API server: leases live in their fleet's namespace. */
export function simLeaseKey(namespace: string, configMapName: string): string {
  return `lease/${namespace}/${configMapName}`;
}

/**
 * The LeaseStore of a simulated operator process: every read and write goes over the
 * simulated network to the simulated API server, so the real LeaseSync sees lost requests,
 * late writes, 409s and 404s. It has no informer cache (`cached` always misses), so every
 * plan starts from a fresh read.
 */
export function simLeaseStore(
  proc: SimProcess,
  link: LinkState,
  api: SimApiServer,
  idSpaceHadLedger: () => boolean,
  world: {
    fleets: () => readonly IdSpaceFleet[];
    /** The ledger's name for a fleet (a mutation may put one in each namespace). */
    ledgerName: (fleet: IdGeneratorFleet) => string;
    /** Only the fleet's own namespace's leases are listed (a namespace-scoped install). */
    namespaceScoped?: boolean;
  },
  onServerTime: (sample: ServerTimeSample) => void = () => {},
): LeaseStore {
  const request = (req: SimRequest) =>
    new Promise<SimResponse>((resolve) => {
      const sentWallMs = proc.wallMs();
      api.send(proc, link, req, (res) => {
        // Let the awaiting LeaseSync run before simulated time moves on.
        proc.kernel.settleAfterEvent = true;
        if (res.serverDateMs !== undefined)
          onServerTime({ sentWallMs, receivedWallMs: proc.wallMs(), serverDateMs: res.serverDateMs });
        resolve(res);
      });
    });
  const ledgerKey = (fleet: IdGeneratorFleet) => `ledger/${world.ledgerName(fleet)}`;
  return {
    cached: () => undefined,

    async read(fleet): Promise<IdSpaceObjects> {
      const leases = await request({ op: "list", prefix: "lease/" });
      if (!leases.ok || !leases.list) throw failure(leases, "list leases");
      const ledger = await request({ op: "get", name: ledgerKey(fleet) });
      if (!ledger.ok && ledger.status !== 404) throw failure(ledger, "read ledger");
      return {
        // Every namespace's leases of the id space (the label selector of the real store).
        leases: [...leases.list]
          .filter(
            ([, obj]) => obj.labels?.[LeaseLabel.idSpace] === idSpaceNameOf(fleet.metadata.name, fleet.spec),
          )
          .filter(
            ([key]) => !world.namespaceScoped || key.startsWith(simLeaseKey(fleet.metadata.namespace, "")),
          )
          .map(([key, obj]) => {
            const [namespace = "", name = ""] = key.slice("lease/".length).split("/");
            return toConfigMap(namespace, name, obj);
          }),
        ledger:
          ledger.ok && ledger.object
            ? toConfigMap(OPERATOR_NAMESPACE, ledgerKey(fleet), ledger.object)
            : undefined,
      };
    },

    async apply(fleet, action: PlanAction) {
      const res = await request(toRequest(fleet, action, ledgerKey(fleet)));
      if (!res.ok) throw failure(res, action.kind);
      if (action.kind !== "write-ledger" || !res.object) return {};
      return {
        resourceVersion: res.object.resourceVersion,
        ...(action.resourceVersion === null ? { createdUid: res.object.uid } : {}),
      };
    },

    idSpaceHadHolders: () => idSpaceHadLedger(),

    otherFleetsOfIdSpace: (fleet) =>
      world.fleets().filter((f) => f.key !== `${fleet.metadata.namespace}/${fleet.metadata.name}`),
  };
}

function toConfigMap(namespace: string, name: string, obj: StoredObject): V1ConfigMap {
  return {
    metadata: {
      name,
      namespace,
      resourceVersion: obj.resourceVersion,
      uid: obj.uid,
      labels: obj.labels ?? {},
    },
    data: obj.data,
  };
}

/** A failed request as the real client reports it: 409 and 404 carry `code`, the rest is retried later. */
function failure(res: SimResponse, what: string): Error {
  const status = res.ok ? "empty answer" : res.status;
  const error = new Error(`${what}: ${status}`);
  return typeof status === "number" && (status === 409 || status === 404)
    ? Object.assign(error, { code: status })
    : error;
}

function toRequest(fleet: IdGeneratorFleet, action: PlanAction, ledgerName: string): SimRequest {
  const namespace = fleet.metadata.namespace;
  switch (action.kind) {
    case "write-ledger":
      return action.resourceVersion === null
        ? { op: "create", name: ledgerName, data: serializeLedgerData(action.ledger) }
        : {
            op: "replace",
            name: ledgerName,
            resourceVersion: action.resourceVersion,
            data: serializeLedgerData(action.ledger),
          };
    case "create-lease":
      return {
        op: "create",
        name: simLeaseKey(namespace, action.configMapName),
        data: serializeLeaseData(action.lease),
        labels: {
          [LeaseLabel.fleet]: fleet.metadata.name,
          [LeaseLabel.idSpace]: action.lease.idSpace,
          [LeaseLabel.component]: LEASE_COMPONENT,
        },
      };
    case "replace-lease":
      return {
        op: "replace",
        name: simLeaseKey(namespace, action.configMapName),
        resourceVersion: action.resourceVersion,
        data: serializeLeaseData(action.lease),
      };
    case "delete-lease":
      return {
        op: "delete",
        name: simLeaseKey(namespace, action.configMapName),
        resourceVersion: action.resourceVersion,
      };
  }
}
