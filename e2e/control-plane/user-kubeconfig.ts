import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { issueCert, CertUsage } from "../../cluster/pki.ts";
import { kubeconfigYaml } from "../../cluster/kubeconfig-file.ts";

/** Enough of a cluster to mint credentials for it. */
export type ClusterAccess = { server: string; caFile: string; clientCaFile: string; clientCaKeyFile: string };

function toKubeConfig(yamlText: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(yamlText);
  return kubeConfig;
}

/**
 * A KubeConfig authenticating as `user` in `groups`, with a client certificate signed by the cluster's
 * client CA: RBAC sees exactly that user and those groups.
 */
export async function kubeConfigForUser(
  cluster: ClusterAccess,
  user: string,
  groups: string[] = [],
): Promise<KubeConfig> {
  const dir = mkdtempSync(join(tmpdir(), "idfleet-user-"));
  const pair = await issueCert(
    dir,
    { cert: cluster.clientCaFile, key: cluster.clientCaKeyFile },
    { name: "user", commonName: user, organizations: groups, usage: CertUsage.client },
  );
  return toKubeConfig(
    kubeconfigYaml({
      name: user.replace(/[^a-zA-Z0-9-]/g, "-"),
      server: cluster.server,
      caFile: cluster.caFile,
      credentials: { clientCert: pair.cert, clientKey: pair.key },
    }),
  );
}

/**
 * A KubeConfig authenticating as ServiceAccount `namespace/name` with a short-lived token from the
 * TokenRequest API (the account must exist). `admin` is used to request the token.
 */
export async function kubeConfigForServiceAccount(
  admin: KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for serviceaccount ${namespace}/${name} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("admin kubeconfig has no current cluster");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...cluster, name: "cluster" }],
    users: [{ name: `${namespace}-${name}`, token }],
    contexts: [{ name: "sa", cluster: "cluster", user: `${namespace}-${name}`, namespace }],
    currentContext: "sa",
  });
  return kubeConfig;
}
