import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ApiServerAccess } from "../../generator/src/kube/kube-api-client.ts";

/**
 * The generator's ApiServerAccess for a KubeConfig's current cluster and user (a token or a
 * client certificate), so tests drive the generator's own client with test credentials.
 */
export function apiServerAccessOf(kubeConfig: KubeConfig): ApiServerAccess {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (!cluster || !user) throw new Error("the kubeconfig has no current cluster or user");
  const pem = (data: string | undefined, file: string | undefined) =>
    data ? Buffer.from(data, "base64") : file ? readFileSync(file) : undefined;
  const ca = pem(cluster.caData, cluster.caFile);
  const cert = pem(user.certData, user.certFile);
  const key = pem(user.keyData, user.keyFile);
  return {
    server: cluster.server,
    ...(ca ? { ca } : {}),
    ...(user.token ? { token: user.token } : {}),
    ...(cert && key ? { clientCert: { cert, key } } : {}),
  };
}
