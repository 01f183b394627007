/**
 * The last steps of `npm run up` and the first of `npm run down`, on the cluster KUBECONFIG names:
 *   node scripts/demo-fleet.ts up    install the operator (images from e2e/.work/images.json), apply the
 *                                     sample fleet into the demo namespace, wait until it is Ready, fetch IDs
 *                                     through its Service and print them decoded, print `kubectl get idfleets -A`
 *   node scripts/demo-fleet.ts down  delete every fleet (the operator finishes their finalizers), then the
 *                                     demo namespace and the operator install (its APIServices first)
 */
import { kubectlPath } from "../cluster/kubectl.ts";
import { REPO_ROOT } from "../cluster/paths.ts";
import { k } from "../cluster/client/cluster-access.ts";
import { decodeFleetIds, stopFleetClient } from "../cluster/client/fleet-ids-client.ts";
import {
  fetchIdsThroughService,
  getIdFleetsTable,
  installOperator,
  OPERATOR_NAMESPACE,
  uninstallOperator,
  waitForFleetReady,
} from "../cluster/client/operator-install.ts";
import { join } from "node:path";

const NAMESPACE = process.env.IDFLEET_DEMO_NAMESPACE ?? "idfleet-demo";
const SAMPLE = join("config", "samples", "idfleet-sample.yaml");
const FLEET = "idfleet-sample";
const command = process.argv[2];
const log = (message: string) => console.error(`[${command ?? "demo-fleet"}] ${message}`);

async function up(): Promise<void> {
  let start = Date.now();
  const install = await installOperator();
  log(`operator ready (${install.operatorImage}, generator ${install.generatorImage}) in ${seconds(start)}`);

  start = Date.now();
  await k(["create", "namespace", NAMESPACE, "--dry-run=client", "-o", "yaml"]).then((yaml) =>
    k(["apply", "-f", "-"], { input: yaml }),
  );
  // Exactly what a user types; re-running `up` re-applies it unchanged.
  await k(["apply", "-n", NAMESPACE, "-f", join(REPO_ROOT, SAMPLE)]);
  log(`applied ${SAMPLE} in namespace ${NAMESPACE}; waiting for the fleet to be Ready`);
  const fleet = await waitForFleetReady(NAMESPACE, FLEET, 300_000);
  log(`fleet Ready in ${seconds(start)}`);

  const ids = await fetchIdsThroughService(NAMESPACE, FLEET, 6, { requests: 6 });
  await stopFleetClient(NAMESPACE);
  console.log(
    `\nIDs fetched through Service ${NAMESPACE}/${FLEET} (one request each, from a pod in the cluster):`,
  );
  const decoded = decodeFleetIds(fleet, ids);
  console.log(`  ${"id".padEnd(20)}  ${"time".padEnd(24)}  worker  sequence`);
  ids.forEach((id, i) => {
    const d = decoded[i];
    if (d)
      console.log(
        `  ${id.padEnd(20)}  ${d.time.toISOString()}  ${String(d.workerId).padStart(6)}  ${String(d.sequence).padStart(8)}`,
      );
  });

  console.log(`\n$ kubectl get idfleets -A\n${(await getIdFleetsTable()).text}`);
  const kubectl = kubectlPath();
  console.log(`Try next (kubectl is ${kubectl}; ~/.kube/config points at this cluster):
  kubectl -n ${NAMESPACE} describe idfleet ${FLEET}
  kubectl -n ${NAMESPACE} get statefulset,pods,svc,hpa,pdb,configmaps -l idfleet.dev/fleet=${FLEET}
  kubectl -n ${NAMESPACE} port-forward svc/${FLEET} 8080:80   # then: curl -s 'localhost:8080/v1/ids?count=3'
  kubectl -n ${NAMESPACE} patch idfleet ${FLEET} --type=merge -p '{"spec":{"autoscaling":{"enabled":false}}}'
  kubectl -n ${NAMESPACE} scale idfleet ${FLEET} --replicas=4    # with autoscaling on, the HPA keeps 2..6
  kubectl -n ${NAMESPACE} get hpa ${FLEET} -w
  kubectl get --raw '/apis/custom.metrics.k8s.io/v1beta2/namespaces/${NAMESPACE}/pods/*/idgen_sequence_utilization'
  kubectl -n ${OPERATOR_NAMESPACE} logs deploy/idfleet-operator
  npm run down                                             # removes the fleet, the operator and the cluster`);
}

async function down(): Promise<void> {
  const start = Date.now();
  const crd = await k(["get", "crd", "idgeneratorfleets.idfleet.dev", "--ignore-not-found", "-o", "name"]);
  if (crd.trim() !== "") {
    // Fleets first, while the operator runs: their finalizer needs it (and deleting the CRD waits for them).
    await k(["delete", "idfleets", "--all", "--all-namespaces", "--wait=true", "--timeout=300s"], {
      timeoutMs: 310_000,
    });
    log(`fleets deleted in ${seconds(start)}`);
  }
  await k(["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", "--timeout=120s"], {
    timeoutMs: 130_000,
  });
  // The custom metrics APIServices go first, while the operator still serves them.
  await uninstallOperator();
  log(`operator removed in ${seconds(start)}`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(0)}s`;
}

if (command === "up") await up();
else if (command === "down") await down();
else {
  console.error("usage: node scripts/demo-fleet.ts up|down");
  process.exit(2);
}
