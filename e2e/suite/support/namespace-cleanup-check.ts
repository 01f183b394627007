import { kJson } from "../../../cluster/client/cluster-access.ts";
import { waitFor } from "../../../cluster/client/wait-for.ts";

/*
 * vitest globalSetup of the e2e project. Test files delete their namespaces without waiting
 * (test-namespace.ts); this checks, once every file is done, that the deletions finished. A
 * namespace stuck in Terminating means something the suite installed breaks the cluster for its
 * users, as an unserved custom-metrics APIService once did (namespace deletion needs discovery
 * of every API group).
 */

interface NamespaceList {
  items: {
    metadata: { name: string };
    status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] };
  }[];
}

const DELETION_TIMEOUT_MS = 180_000;

/** Fails the run when a namespace of this run is still there DELETION_TIMEOUT_MS after the last file. */
export default function setup(): () => Promise<void> {
  return async () => {
    const left = () =>
      kJson<NamespaceList>(["get", "namespaces", "-l", "idfleet.dev/e2e=true"]).then((l) => l.items);
    try {
      await waitFor("the e2e namespaces to be deleted", async () => (await left()).length === 0, {
        timeoutMs: DELETION_TIMEOUT_MS,
        intervalMs: 3_000,
      });
    } catch {
      const stuck = (await left()).map((ns) => {
        const failing = (ns.status?.conditions ?? [])
          .filter((c) => c.status === "True")
          .map((c) => `${c.type}: ${c.message ?? ""}`);
        return `${ns.metadata.name} (${ns.status?.phase ?? "?"}) ${failing.join("; ")}`;
      });
      throw new Error(
        `namespaces of this e2e run were not deleted within ${DELETION_TIMEOUT_MS / 1000} s:\n  ${stuck.join("\n  ")}`,
      );
    }
  };
}
