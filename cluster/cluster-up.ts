/**
 * `npm run cluster:up`: a real single-node Kubernetes on this machine. etcd, kube-apiserver,
 * controller-manager, scheduler, containerd, kubelet, kube-proxy, CNI bridge networking, metrics-server
 * and CoreDNS, all started as host processes from binaries built by build-binaries.sh.
 * Idempotent: a healthy cluster is left as is; a partial one is torn down and rebuilt.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CLUSTER, CLUSTER_DIRS, CLUSTER_KUBECONFIG } from "./cluster-settings.ts";
import { clusterProcesses, readClusterState, writeClusterState, type ClusterState } from "./cluster-state.ts";
import { createNodeCerts } from "./cluster-certs.ts";
import { corednsManifests, metricsServerManifests } from "./cluster-addons.ts";
import {
  ComponentFailure,
  startComponent,
  waitForComponent,
  type RunningComponent,
} from "./component-process.ts";
import { startControlPlane } from "./control-plane.ts";
import { answers200 } from "./https-probe.ts";
import { ensureNodeAddress, ensureRule, setSysctl } from "./host-network.ts";
import { writeKubeconfig } from "./kubeconfig-file.ts";
import { kubectl } from "./kubectl.ts";
import { containerdConfig, cniConflist, corefile, kubeletConfig, kubeProxyConfig } from "./node-config.ts";
import { binary, REPO_ROOT } from "./paths.ts";
import { installCrds } from "./crd-install.ts";
import { clusterDown } from "./cluster-down.ts";
import { setTimeout as sleep } from "node:timers/promises";

const log = (message: string) => console.error(`[cluster:up] ${message}`);
const DEFAULT_KUBECONFIG = join(homedir(), ".kube", "config");

function launch(name: string, command: string, args: string[]): RunningComponent {
  return startComponent({
    name,
    command,
    args,
    logFile: join(CLUSTER_DIRS.logs, `${name}.log`),
    detached: true,
    pidFile: join(CLUSTER_DIRS.pids, `${name}.pid`),
  });
}

function script(relative: string, args: string[] = []): string {
  return execFileSync("bash", [join(REPO_ROOT, relative), ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

async function isHealthy(): Promise<boolean> {
  const state = readClusterState();
  const processes = clusterProcesses();
  if (!state || processes.length === 0 || processes.some((p) => !p.alive)) return false;
  try {
    await kubectl(["get", "--raw=/readyz"], { kubeconfig: CLUSTER_KUBECONFIG, timeoutMs: 10_000 });
    await kubectl(["wait", "node", CLUSTER.nodeName, "--for=condition=Ready", "--timeout=5s"], {
      kubeconfig: CLUSTER_KUBECONFIG,
      timeoutMs: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** Makes the cluster the current context of ~/.kube/config (like kind does). Returns the previous context. */
async function mergeIntoDefaultKubeconfig(
  caFile: string,
  cert: string,
  key: string,
  server: string,
): Promise<string | undefined> {
  mkdirSync(join(homedir(), ".kube"), { recursive: true });
  const options = { kubeconfig: DEFAULT_KUBECONFIG };
  const previous = existsSync(DEFAULT_KUBECONFIG)
    ? (await kubectl(["config", "current-context"], options).catch(() => "")).trim() || undefined
    : undefined;
  const name = CLUSTER.name;
  await kubectl(
    [
      "config",
      "set-cluster",
      name,
      `--server=${server}`,
      `--certificate-authority=${caFile}`,
      "--embed-certs=true",
    ],
    options,
  );
  await kubectl(
    [
      "config",
      "set-credentials",
      name,
      `--client-certificate=${cert}`,
      `--client-key=${key}`,
      "--embed-certs=true",
    ],
    options,
  );
  await kubectl(["config", "set-context", name, `--cluster=${name}`, `--user=${name}`], options);
  await kubectl(["config", "use-context", name], options);
  return previous === name ? undefined : previous;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(1_000);
  }
  throw new Error(`${what}: not reached after ${timeoutMs / 1000}s`);
}

async function up(): Promise<void> {
  const started = Date.now();
  // Fresh logs per bring-up (the previous generation is kept beside them), so a failure's tail is this run's.
  if (existsSync(CLUSTER_DIRS.logs)) {
    rmSync(`${CLUSTER_DIRS.logs}.previous`, { recursive: true, force: true });
    renameSync(CLUSTER_DIRS.logs, `${CLUSTER_DIRS.logs}.previous`);
  }
  for (const d of Object.values(CLUSTER_DIRS))
    if (!d.endsWith(".json") && !d.endsWith(".sock")) mkdirSync(d, { recursive: true });
  const previousState = readClusterState();

  // --- host network: the node's own address, forwarding, bridge netfilter, pod traffic through FORWARD ---
  log(`node address ${CLUSTER.nodeIp} on device ${CLUSTER.nodeDevice}`);
  ensureNodeAddress(CLUSTER.nodeDevice, CLUSTER.nodeIp);
  const sysctlsBefore: Record<string, string> = {};
  for (const [name, value] of [
    ["net.ipv4.ip_forward", "1"],
    ["net.bridge.bridge-nf-call-iptables", "1"],
  ] as const) {
    sysctlsBefore[name] = setSysctl(name, value);
  }
  // Docker sets FORWARD's policy to DROP; let pod traffic in and out of the pod bridge regardless.
  ensureRule("FORWARD", ["-i", CLUSTER.podBridge, "-j", "ACCEPT"], CLUSTER.iptablesComment);
  ensureRule("FORWARD", ["-o", CLUSTER.podBridge, "-j", "ACCEPT"], CLUSTER.iptablesComment);
  const state: ClusterState = {
    server: `https://${CLUSTER.nodeIp}:${CLUSTER.apiPort}`,
    nodeIp: CLUSTER.nodeIp,
    sysctlsBefore: previousState?.sysctlsBefore ?? sysctlsBefore,
    ...(previousState?.previousContext ? { previousContext: previousState.previousContext } : {}),
    startedAt: new Date().toISOString(),
  };
  writeClusterState(state);

  // --- control plane (the same code the integration tests use) ---
  log("control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler");
  const controlPlane = await startControlPlane({
    name: CLUSTER.name,
    dir: CLUSTER_DIRS.state,
    logDir: CLUSTER_DIRS.logs,
    apiAddress: CLUSTER.nodeIp,
    apiPort: CLUSTER.apiPort,
    etcdClientPort: CLUSTER.etcdClientPort,
    etcdPeerPort: CLUSTER.etcdPeerPort,
    controllerManagerPort: CLUSTER.controllerManagerPort,
    schedulerPort: CLUSTER.schedulerPort,
    serviceCidr: CLUSTER.serviceCidr,
    serviceIp: CLUSTER.apiServiceIp,
    detached: true,
    pidDir: CLUSTER_DIRS.pids,
    withScheduler: true,
    apiServerArgs: [],
    controllers: "*",
    controllerManagerArgs: [
      `--horizontal-pod-autoscaler-sync-period=${CLUSTER.hpaSyncPeriod}`,
      `--horizontal-pod-autoscaler-downscale-stabilization=${CLUSTER.hpaDownscaleStabilization}`,
      `--cluster-cidr=${CLUSTER.podCidr}`,
      "--allocate-node-cidrs=false",
    ],
  });
  const { certs } = controlPlane;
  const node = await createNodeCerts(certs, { nodeName: CLUSTER.nodeName, nodeIp: CLUSTER.nodeIp });
  const kubeconfigFor = (name: string, pair: { cert: string; key: string }) =>
    writeKubeconfig(join(controlPlane.kubeconfigDir, `${name}.kubeconfig`), {
      name: CLUSTER.name,
      server: controlPlane.server,
      caFile: certs.ca.cert,
      credentials: { clientCert: pair.cert, clientKey: pair.key },
    });

  // --- container runtime with a pause image built here ---
  log("containerd (CRI) and the pause image");
  script("cluster/images/ensure-dockerd.sh");
  const pauseImage = script("cluster/images/build-pause-image.sh");
  const containerdToml = join(CLUSTER_DIRS.containerd, "config.toml");
  writeFileSync(containerdToml, containerdConfig(pauseImage));
  writeFileSync(join(CLUSTER_DIRS.cniConf, "10-idfleet.conflist"), cniConflist());
  const containerd = launch("containerd", "containerd", ["--config", containerdToml]);
  await waitForComponent(containerd, "serving", async () => {
    execFileSync("ctr", ["--address", CLUSTER_DIRS.containerdSocket, "version"], {
      stdio: "ignore",
      timeout: 5_000,
    });
    return true;
  });
  script("cluster/images/load-into-node.sh", [pauseImage]);

  // --- kubelet ---
  log("kubelet");
  const resolvConf = join(CLUSTER_DIRS.kubelet, "resolv.conf");
  // No upstream resolvers for pods: names outside cluster.local are answered NXDOMAIN by CoreDNS.
  writeFileSync(resolvConf, "# idfleet local cluster: no upstream DNS\n");
  const kubeletYaml = join(CLUSTER_DIRS.kubelet, "config.yaml");
  writeFileSync(kubeletYaml, kubeletConfig(certs, node, resolvConf));
  const kubelet = launch("kubelet", binary("kubelet"), [
    `--config=${kubeletYaml}`,
    `--kubeconfig=${kubeconfigFor("kubelet", node.kubeletClient)}`,
    `--root-dir=${join(CLUSTER_DIRS.kubelet, "root")}`,
    `--hostname-override=${CLUSTER.nodeName}`,
    `--node-ip=${CLUSTER.nodeIp}`,
    // -999 (the default) needs CAP_SYS_RESOURCE; see containerdConfig.
    "--oom-score-adj=0",
    "--v=1",
  ]);
  await waitForComponent(kubelet, "healthy", () =>
    answers200(`http://127.0.0.1:${CLUSTER.kubeletHealthzPort}/healthz`),
  );
  const admin = controlPlane.adminKubeconfig;
  await waitForComponent(
    kubelet,
    "registered and Ready",
    async () => {
      await kubectl(["wait", "node", CLUSTER.nodeName, "--for=condition=Ready", "--timeout=2s"], {
        kubeconfig: admin,
        timeoutMs: 5_000,
      });
      return true;
    },
    120_000,
  );

  // --- kube-proxy ---
  log("kube-proxy (iptables)");
  const kubeProxyYaml = join(CLUSTER_DIRS.state, "kube-proxy.yaml");
  writeFileSync(kubeProxyYaml, kubeProxyConfig(kubeconfigFor("kube-proxy", node.kubeProxy)));
  const kubeProxy = launch("kube-proxy", binary("kube-proxy"), [`--config=${kubeProxyYaml}`, "--v=1"]);
  await waitForComponent(kubeProxy, "healthy", () =>
    answers200(`http://127.0.0.1:${CLUSTER.kubeProxyHealthzPort}/healthz`),
  );

  // --- add-ons as host processes: metrics-server and CoreDNS ---
  log("metrics-server (v1beta1.metrics.k8s.io) and CoreDNS");
  await kubectl(["apply", "--server-side", "--field-manager=idfleet-cluster", "-f", "-"], {
    kubeconfig: admin,
    input: metricsServerManifests(certs.ca.cert) + "---\n" + corednsManifests(),
  });
  const msKubeconfig = kubeconfigFor("metrics-server", node.metricsServerClient);
  const metricsServer = launch("metrics-server", binary("metrics-server"), [
    `--bind-address=${CLUSTER.nodeIp}`,
    `--secure-port=${CLUSTER.metricsServerPort}`,
    `--tls-cert-file=${node.metricsServerServing.cert}`,
    `--tls-private-key-file=${node.metricsServerServing.key}`,
    `--kubeconfig=${msKubeconfig}`,
    `--authentication-kubeconfig=${msKubeconfig}`,
    `--authorization-kubeconfig=${msKubeconfig}`,
    "--kubelet-preferred-address-types=InternalIP",
    `--kubelet-certificate-authority=${certs.ca.cert}`,
    "--kubelet-use-node-status-port",
    "--metric-resolution=15s",
  ]);
  const corefilePath = join(CLUSTER_DIRS.addons, "Corefile");
  writeFileSync(corefilePath, corefile(kubeconfigFor("coredns", node.corednsClient)));
  const coredns = launch("coredns", binary("coredns"), ["-conf", corefilePath]);
  await waitForComponent(
    coredns,
    "ready",
    () => answers200(`http://127.0.0.1:${CLUSTER.corednsReadyPort}/ready`),
    60_000,
  );
  await waitForComponent(
    metricsServer,
    "Available as v1beta1.metrics.k8s.io",
    async () => {
      await kubectl(
        ["wait", "apiservice/v1beta1.metrics.k8s.io", "--for=condition=Available", "--timeout=2s"],
        {
          kubeconfig: admin,
          timeoutMs: 5_000,
        },
      );
      return true;
    },
    120_000,
  );

  // --- the project's CRDs, when there are any; then make it the current context ---
  const crds = await installCrds(admin);
  if (crds.length > 0) log(`installed ${crds.length} CRD manifest(s)`);
  const previousContext = await mergeIntoDefaultKubeconfig(
    certs.ca.cert,
    certs.admin.cert,
    certs.admin.key,
    controlPlane.server,
  );
  writeClusterState({ ...state, ...(state.previousContext || !previousContext ? {} : { previousContext }) });
  await waitFor(
    "default ServiceAccount",
    async () => {
      await kubectl(["get", "serviceaccount", "default", "-n", "default"], {
        kubeconfig: admin,
        timeoutMs: 5_000,
      });
      return true;
    },
    60_000,
  );
  log(
    `up in ${((Date.now() - started) / 1000).toFixed(0)}s: context ${CLUSTER.name} in ${DEFAULT_KUBECONFIG}; kubectl: ${binary("kubectl")}`,
  );
}

async function main(): Promise<void> {
  if (await isHealthy()) {
    log(`already up (context ${CLUSTER.name}); kubectl: ${binary("kubectl")}`);
    return;
  }
  if (readClusterState() !== undefined || clusterProcesses().length > 0) {
    log("found a partial cluster: tearing it down first");
    await clusterDown();
  }
  try {
    await up();
  } catch (error) {
    if (error instanceof ComponentFailure) log(`FAILED component ${error.component}: ${error.message}`);
    else log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    log(`logs: ${CLUSTER_DIRS.logs}`);
    if (process.env.IDFLEET_KEEP_ON_FAILURE) {
      log(
        "IDFLEET_KEEP_ON_FAILURE set: leaving the partial cluster for inspection (npm run cluster:down removes it)",
      );
    } else {
      await clusterDown();
    }
    process.exitCode = 1;
  }
}

await main();
