import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type { TestProject } from "vitest/node";
import { startControlPlane } from "../cluster/control-plane.ts";
import { installCrds } from "../cluster/crd-install.ts";
import { freePorts } from "../cluster/free-port.ts";
import { IDFLEET_TMP, LOG_ROOT } from "../cluster/paths.ts";
import { FRONT_PROXY_CLIENT_NAME } from "../cluster/cluster-certs.ts";
import type { ControlPlaneInfo } from "./provided-context.ts";

/**
 * vitest globalSetup for the `integration` project: one real etcd + kube-apiserver (+ controller-manager,
 * for namespace deletion and garbage collection) on loopback, shared by every *.int.test.ts file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  mkdirSync(IDFLEET_TMP, { recursive: true });
  const dir = mkdtempSync(join(IDFLEET_TMP, "control-plane-"));
  const logDir = join(LOG_ROOT, basename(dir));
  const [apiPort, etcdClientPort, etcdPeerPort, controllerManagerPort, schedulerPort] = await freePorts(5);
  const controlPlane = await startControlPlane({
    name: "idfleet-integration",
    dir,
    logDir,
    apiAddress: "127.0.0.1",
    apiPort: apiPort!,
    etcdClientPort: etcdClientPort!,
    etcdPeerPort: etcdPeerPort!,
    controllerManagerPort: controllerManagerPort!,
    schedulerPort: schedulerPort!,
    serviceCidr: "10.97.0.0/16",
    serviceIp: "10.97.0.1",
    detached: false,
    withScheduler: false,
    // Loopback cannot be an Endpoints address; nothing in-cluster needs to reach this apiserver.
    apiServerArgs: ["--endpoint-reconciler-type=none"],
    // No nodes here: the node controllers would only log; the rest (namespace, GC, workloads) is real.
    controllers: "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller",
    controllerManagerArgs: [],
  });
  // Safety net for an abrupt exit (vitest killed): the children must not outlive this process.
  const killAll = () => {
    for (const c of controlPlane.components) {
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", killAll);
  const teardown = async () => {
    process.off("exit", killAll);
    await controlPlane.stop();
    if (!process.env.IDFLEET_KEEP_CONTROL_PLANE_DIR) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await installCrds(controlPlane.adminKubeconfig);
  } catch (error) {
    await teardown();
    throw error;
  }
  const info: ControlPlaneInfo = {
    server: controlPlane.server,
    caFile: controlPlane.certs.ca.cert,
    certDir: controlPlane.certs.dir,
    clientCaFile: controlPlane.certs.clientCa.cert,
    clientCaKeyFile: controlPlane.certs.clientCa.key,
    requestHeaderCaFile: controlPlane.certs.frontProxyCa.cert,
    requestHeaderAllowedName: FRONT_PROXY_CLIENT_NAME,
    adminKubeconfig: controlPlane.adminKubeconfig,
    logDir,
  };
  project.provide("kubeconfig", controlPlane.adminKubeconfig);
  project.provide("controlPlane", info);
  return teardown;
}
