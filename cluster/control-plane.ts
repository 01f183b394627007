import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { binary } from "./paths.ts";
import { createClusterCerts, FRONT_PROXY_CLIENT_NAME, type ClusterCerts } from "./cluster-certs.ts";
import { answers200, probeGet } from "./https-probe.ts";
import { writeKubeconfig } from "./kubeconfig-file.ts";
import { startComponent, stopPid, waitForComponent, type RunningComponent } from "./component-process.ts";

/** Where and how one control plane runs. Shared by the integration globalSetup and `cluster:up`. */
export type ControlPlaneLayout = {
  /** Used in log file names and kubeconfig context names. */
  name: string;
  /** Working directory: pki/, etcd/, kubeconfig/ are created below it. */
  dir: string;
  logDir: string;
  /** The apiserver binds and advertises this address (loopback for integration, the node IP for the cluster). */
  apiAddress: string;
  apiPort: number;
  etcdClientPort: number;
  etcdPeerPort: number;
  controllerManagerPort: number;
  schedulerPort: number;
  serviceCidr: string;
  /** First IP of serviceCidr: the `kubernetes` Service. */
  serviceIp: string;
  /** Detached components outlive the starting process and are tracked by pid files in `pidDir`. */
  detached: boolean;
  pidDir?: string;
  withScheduler: boolean;
  apiServerArgs: string[];
  /** kube-controller-manager --controllers, e.g. "*" or "*,-nodeipam". */
  controllers: string;
  controllerManagerArgs: string[];
};

/** A running control plane: where to reach it, its PKI, and how to stop what was started. */
export type ControlPlane = {
  server: string;
  certs: ClusterCerts;
  kubeconfigDir: string;
  adminKubeconfig: string;
  components: RunningComponent[];
  stop: () => Promise<void>;
};

/** Component names, as used for log files, pid files and failure messages. */
export const ControlPlaneComponent = {
  etcd: "etcd",
  apiServer: "kube-apiserver",
  controllerManager: "kube-controller-manager",
  scheduler: "kube-scheduler",
} as const;

function launch(layout: ControlPlaneLayout, name: string, args: string[]): RunningComponent {
  return startComponent({
    name,
    command: binary(name),
    args,
    logFile: join(layout.logDir, `${name}.log`),
    detached: layout.detached,
    ...(layout.pidDir ? { pidFile: join(layout.pidDir, `${name}.pid`) } : {}),
  });
}

/** Flags shared by controller-manager and scheduler: one kubeconfig for all API access, HTTPS on loopback. */
function loopbackComponentArgs(kubeconfig: string, securePort: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${securePort}`,
    "--leader-elect=false",
    "--profiling=false",
  ];
}

/** Starts etcd, kube-apiserver, kube-controller-manager (and kube-scheduler) and waits until each is healthy. */
export async function startControlPlane(layout: ControlPlaneLayout): Promise<ControlPlane> {
  for (const d of [layout.dir, layout.logDir, ...(layout.pidDir ? [layout.pidDir] : [])])
    mkdirSync(d, { recursive: true });
  const certs = await createClusterCerts(join(layout.dir, "pki"), {
    apiIps: [layout.apiAddress],
    serviceIp: layout.serviceIp,
  });
  const kubeconfigDir = join(layout.dir, "kubeconfig");
  mkdirSync(kubeconfigDir, { recursive: true });
  const server = `https://${layout.apiAddress}:${layout.apiPort}`;
  const kubeconfigFor = (name: string, pair: { cert: string; key: string }) =>
    writeKubeconfig(join(kubeconfigDir, `${name}.kubeconfig`), {
      name: layout.name,
      server,
      caFile: certs.ca.cert,
      credentials: { clientCert: pair.cert, clientKey: pair.key },
    });
  const adminKubeconfig = kubeconfigFor("admin", certs.admin);
  const cmKubeconfig = kubeconfigFor(ControlPlaneComponent.controllerManager, certs.controllerManager);
  const schedulerKubeconfig = kubeconfigFor(ControlPlaneComponent.scheduler, certs.scheduler);

  const components: RunningComponent[] = [];
  const stop = async () => {
    for (const c of [...components].reverse()) await stopPid(c.pid);
  };
  try {
    const etcdUrl = `http://127.0.0.1:${layout.etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${layout.etcdPeerPort}`;
    const etcd = launch(layout, ControlPlaneComponent.etcd, [
      `--name=${layout.name}`,
      `--data-dir=${join(layout.dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${layout.name}=${peerUrl}`,
      // A throwaway test cluster: durability across power loss is not worth the fsync latency.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ]);
    components.push(etcd);
    await waitForComponent(etcd, "healthy", async () =>
      (await probeGet(`${etcdUrl}/health`)).body.includes('"true"'),
    );

    const apiServer = launch(layout, ControlPlaneComponent.apiServer, [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${layout.apiAddress}`,
      `--advertise-address=${layout.apiAddress}`,
      `--secure-port=${layout.apiPort}`,
      `--tls-cert-file=${certs.apiServer.cert}`,
      `--tls-private-key-file=${certs.apiServer.key}`,
      `--client-ca-file=${certs.clientCa.cert}`,
      "--authorization-mode=Node,RBAC",
      "--anonymous-auth=true",
      `--service-cluster-ip-range=${layout.serviceCidr}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${certs.serviceAccount.pub}`,
      `--service-account-signing-key-file=${certs.serviceAccount.key}`,
      "--allow-privileged=true",
      "--enable-admission-plugins=NodeRestriction",
      `--kubelet-client-certificate=${certs.apiServerKubeletClient.cert}`,
      `--kubelet-client-key=${certs.apiServerKubeletClient.key}`,
      `--kubelet-certificate-authority=${certs.ca.cert}`,
      "--kubelet-preferred-address-types=InternalIP,Hostname",
      // Aggregation layer: metrics-server and the custom metrics adapter run as host processes.
      `--requestheader-client-ca-file=${certs.frontProxyCa.cert}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_NAME}`,
      "--requestheader-username-headers=X-Remote-User",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      `--proxy-client-cert-file=${certs.frontProxyClient.cert}`,
      `--proxy-client-key-file=${certs.frontProxyClient.key}`,
      "--enable-aggregator-routing=true",
      "--profiling=false",
      ...layout.apiServerArgs,
    ]);
    components.push(apiServer);
    const adminTls = { caFile: certs.ca.cert, certFile: certs.admin.cert, keyFile: certs.admin.key };
    await waitForComponent(apiServer, "ready", () => answers200(`${server}/readyz`, adminTls), 120_000);

    const controllerManager = launch(layout, ControlPlaneComponent.controllerManager, [
      ...loopbackComponentArgs(cmKubeconfig, layout.controllerManagerPort),
      `--cert-dir=${join(layout.dir, "controller-manager-certs")}`,
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${certs.serviceAccount.key}`,
      `--root-ca-file=${certs.ca.cert}`,
      `--cluster-signing-cert-file=${certs.clientCa.cert}`,
      `--cluster-signing-key-file=${certs.clientCa.key}`,
      `--service-cluster-ip-range=${layout.serviceCidr}`,
      `--controllers=${layout.controllers}`,
      ...layout.controllerManagerArgs,
    ]);
    components.push(controllerManager);

    if (layout.withScheduler) {
      const scheduler = launch(
        layout,
        ControlPlaneComponent.scheduler,
        loopbackComponentArgs(schedulerKubeconfig, layout.schedulerPort),
      );
      components.push(scheduler);
      await waitForComponent(scheduler, "healthy", () =>
        answers200(`https://127.0.0.1:${layout.schedulerPort}/healthz`, { insecure: true }),
      );
    }
    await waitForComponent(controllerManager, "healthy", () =>
      answers200(`https://127.0.0.1:${layout.controllerManagerPort}/healthz`, { insecure: true }),
    );
    return { server, certs, kubeconfigDir, adminKubeconfig, components, stop };
  } catch (error) {
    if (!layout.detached) await stop();
    throw error;
  }
}
