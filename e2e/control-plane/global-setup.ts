import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { TestProject } from "vitest/node";
import { startControlPlane } from "../../cluster/control-plane.ts";
import { installCrds } from "../../cluster/crd-install.ts";
import { freePorts } from "../../cluster/free-port.ts";
import { IDFLEET_TMP, LOG_ROOT } from "../../cluster/paths.ts";
import { FRONT_PROXY_CLIENT_NAME } from "../../cluster/cluster-certs.ts";
import { addressInUse, ensureNodeAddress, removeDevice } from "../../cluster/host-network.ts";
import { randomInt } from "node:crypto";
import type { ControlPlaneInfo } from "./provided-context.ts";

/**
 * vitest globalSetup for the `integration` project: one real etcd + kube-apiserver (+ controller-manager,
 * for namespace deletion and garbage collection) on loopback, shared by every *.int.test.ts file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  mkdirSync(IDFLEET_TMP, { recursive: true });
  pruneOldLogs();
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
  let host: { device: string; ip: string } | undefined;
  // Safety net for an abrupt exit (vitest killed): nothing started here may outlive this process.
  const killAll = () => {
    for (const c of controlPlane.components) {
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (host) removeDevice(host.device);
  };
  process.once("exit", killAll);
  const teardown = async () => {
    process.off("exit", killAll);
    await controlPlane.stop();
    if (host) removeDevice(host.device);
    if (!process.env.IDFLEET_KEEP_CONTROL_PLANE_DIR) rmSync(dir, { recursive: true, force: true });
  };
  try {
    host = createHostAddress();
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
    ...(host ? { hostAddress: host.ip } : {}),
  };
  project.provide("kubeconfig", controlPlane.adminKubeconfig);
  project.provide("controlPlane", info);
  return teardown;
}

/** A per-run device with a random 10.251.x.y/32 address (see ControlPlaneInfo.hostAddress); root only. */
function createHostAddress(): { device: string; ip: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const ip = `10.251.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (addressInUse(ip)) continue;
    const device = `idfit${randomInt(0, 0xffffff).toString(16).padStart(6, "0")}`;
    ensureNodeAddress(device, ip);
    return { device, ip };
  }
  return undefined;
}

/** Integration runs each leave a log directory; keep those of the last day. */
function pruneOldLogs(maxAgeMs = 24 * 3600 * 1000): void {
  if (!existsSync(LOG_ROOT)) return;
  for (const entry of readdirSync(LOG_ROOT)) {
    if (!entry.startsWith("control-plane-")) continue;
    const path = join(LOG_ROOT, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > maxAgeMs) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed concurrently by another run
    }
  }
}
