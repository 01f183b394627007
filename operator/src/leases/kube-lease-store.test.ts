import type { CoreV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseFleetSpec, type IdGeneratorFleet } from "../../../contract/fleet-spec.ts";
import { spaceLayoutOf } from "../../../contract/id-space-layout.ts";
import type { FleetCaches } from "../kube/fleet-caches.ts";
import { createOperatorMetrics } from "../metrics/operator-metrics.ts";
import { kubeLeaseStore } from "./kube-lease-store.ts";

type RawFleet = { metadata: { namespace: string; name: string }; spec: unknown; status?: object };

/** The store over an informer cache holding `fleets`; these two methods read nothing else. */
function storeOver(fleets: RawFleet[]) {
  const caches = { fleets: { list: () => fleets } } as unknown as FleetCaches;
  return kubeLeaseStore({} as CoreV1Api, caches, createOperatorMetrics(), {
    ledgerNamespace: "idfleet-system",
  });
}

const raw = (namespace: string, name: string, spec: object = {}, status?: object): RawFleet => ({
  metadata: { namespace, name },
  spec,
  ...(status ? { status } : {}),
});

const fleet = (namespace: string, name: string, spec: object = {}): IdGeneratorFleet => ({
  apiVersion: "idfleet.dev/v1alpha1",
  kind: "IdGeneratorFleet",
  metadata: { namespace, name, uid: `${namespace}-${name}` },
  spec: parseFleetSpec(spec),
});

const wideTime = { layout: { timestampBits: 42, workerIdBits: 9, sequenceBits: 12 } };

describe("kubeLeaseStore: the fleets of an id space", () => {
  it("sees every other fleet writing into the space, in any namespace, with its layout", () => {
    const store = storeOver([
      raw("team-a", "ids"), // itself
      raw("team-b", "ids"), // same name, another namespace: the same id space by default
      raw("team-c", "orders", { idSpace: { name: "ids" }, ...wideTime }),
      raw("team-d", "next", { idSpace: { name: "ids", layoutSuccession: true }, ...wideTime }),
      raw("team-a", "other"), // its own id space
    ]);
    expect(store.otherFleetsOfIdSpace(fleet("team-a", "ids"))).toEqual([
      { key: "team-b/ids", layout: spaceLayoutOf(parseFleetSpec({}).layout), layoutSuccession: false },
      {
        key: "team-c/orders",
        layout: spaceLayoutOf(parseFleetSpec(wideTime).layout),
        layoutSuccession: false,
      },
      { key: "team-d/next", layout: spaceLayoutOf(parseFleetSpec(wideTime).layout), layoutSuccession: true },
    ]);
  });

  it("leaves out a fleet whose spec does not parse (it gets no worker id either)", () => {
    const store = storeOver([raw("team-b", "ids", { layout: { timestampBits: "many" } })]);
    expect(store.otherFleetsOfIdSpace(fleet("team-a", "ids"))).toEqual([]);
  });

  it("counts a space as having had holders only once a fleet of it has reported status", () => {
    const team = fleet("team-a", "ids");
    expect(storeOver([raw("team-a", "ids")]).idSpaceHadHolders(team)).toBe(false);
    expect(storeOver([raw("team-b", "ids", {}, { observedGeneration: 1 })]).idSpaceHadHolders(team)).toBe(
      true,
    );
    expect(storeOver([raw("team-b", "other", {}, { observedGeneration: 1 })]).idSpaceHadHolders(team)).toBe(
      false,
    );
  });
});
