import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";

/** How a kubeconfig authenticates: a client certificate or a bearer token. */
export type KubeconfigCredentials = { clientCert: string; clientKey: string } | { token: string };

/** One cluster + user + context, certificates embedded so the file is self-contained. */
export type KubeconfigSpec = {
  name: string;
  server: string;
  caFile: string;
  credentials: KubeconfigCredentials;
  namespace?: string;
};

const base64File = (path: string) => readFileSync(path).toString("base64");

/** Renders a kubeconfig document. */
export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const user =
    "token" in spec.credentials
      ? { token: spec.credentials.token }
      : {
          "client-certificate-data": base64File(spec.credentials.clientCert),
          "client-key-data": base64File(spec.credentials.clientKey),
        };
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: spec.name,
        cluster: { server: spec.server, "certificate-authority-data": base64File(spec.caFile) },
      },
    ],
    users: [{ name: spec.name, user }],
    contexts: [
      {
        name: spec.name,
        context: {
          cluster: spec.name,
          user: spec.name,
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
        },
      },
    ],
    "current-context": spec.name,
  });
}

/** Writes a kubeconfig (mode 0600) and returns its path. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): string {
  writeFileSync(path, kubeconfigYaml(spec), { mode: 0o600 });
  return path;
}
