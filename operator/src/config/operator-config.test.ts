import { describe, expect, it } from "vitest";
import { parseOperatorConfig } from "./operator-config.ts";

describe("operator config", () => {
  it("defaults, and takes the leader-election namespace and identity from the pod", () => {
    const c = parseOperatorConfig({ POD_NAMESPACE: "idfleet-system", POD_NAME: "idfleet-operator-abc" });
    expect(c).toEqual({
      generatorImage: "idfleet/generator:dev",
      host: "0.0.0.0",
      port: 8081,
      workers: 2,
      leaderElection: {
        namespace: "idfleet-system",
        name: "idfleet-operator",
        identity: "idfleet-operator-abc",
      },
      ledgerNamespace: "idfleet-system",
    });
  });

  it("reads every variable and names the bad ones", () => {
    const c = parseOperatorConfig({
      IDFLEET_GENERATOR_IMAGE: "registry.local/idfleet/generator:1.2",
      IDFLEET_PORT: "9000",
      IDFLEET_WORKERS: "4",
      IDFLEET_WATCH_NAMESPACE: "team-a",
      IDFLEET_LEADER_ELECTION_NAMESPACE: "ops",
      IDFLEET_IDENTITY: "me",
    });
    expect(c).toMatchObject({
      port: 9000,
      workers: 4,
      watchNamespace: "team-a",
      leaderElection: { namespace: "ops", identity: "me" },
    });
    expect(() => parseOperatorConfig({ IDFLEET_PORT: "http", IDFLEET_WORKERS: "0" })).toThrow(
      /IDFLEET_PORT.*IDFLEET_WORKERS/,
    );
  });
});
