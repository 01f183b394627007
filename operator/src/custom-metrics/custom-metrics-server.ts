import { SEQUENCE_UTILIZATION_METRIC } from "../../../contract/metric-names.ts";
import {
  ApiException,
  ApiregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import { LEASE_DEFAULTS } from "../../../contract/fleet-defaults.ts";
import { type IncomingMessage, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  authorizationAttributes,
  type CustomMetricsRequest,
  parseCustomMetricsRequest,
  statusBody,
} from "./custom-metrics-request.ts";
import { createOperatorLog, type OperatorLog } from "../log/operator-log.ts";
import { DelegatedAuthorizer } from "./delegated-authorizer.ts";
import { everything } from "./label-selector.ts";
import type { LeaseReportSource } from "./lease-reports.ts";
import { CUSTOM_METRICS_GROUP, sequenceUtilizationList } from "./metric-value-list.ts";
import {
  AUTHENTICATION_CONFIGMAP,
  type AuthenticationConfig,
  authenticateRequest,
  parseAuthenticationConfig,
} from "./request-authentication.ts";
import {
  rotateServingCertificate,
  serviceHostNames,
  type ServingCertificate,
  servingCertificateFromSecret,
  servingCertificateIsFresh,
  servingCertificateSecretData,
} from "./serving-certificate.ts";

/** Options of startCustomMetricsServer. */
export interface CustomMetricsServerOptions {
  /** The operator's own credentials (in-cluster): reads the auth ConfigMap, the TLS Secret, writes SubjectAccessReviews. */
  readonly kubeConfig: KubeConfig;
  /** Lease reports, from the operator's informer caches (leaseReportSourceFromCaches). */
  readonly source: LeaseReportSource;
  /** The operator's namespace: where its Service and the serving-certificate Secret live. */
  readonly namespace: string;
  /** Service the APIService points at (config/custom-metrics/api-service.yaml). Default idfleet-custom-metrics. */
  readonly serviceName?: string;
  /** HTTPS port. Default 6443; 0 picks a free port (tests). */
  readonly port?: number;
  /** Listen address. Default all interfaces. */
  readonly host?: string;
  /**
   * A serving certificate from files (cert-manager, say): then the operator neither writes the
   * Secret nor the APIService caBundle, and re-reads the files on every refresh. Without it the
   * operator keeps a self-signed certificate in the Secret `<serviceName>-tls` and puts it into
   * the APIServices' caBundle.
   */
  readonly tlsFiles?: { readonly certFile: string; readonly keyFile: string };
  /** APIServices whose caBundle the operator keeps current (self-signed mode). */
  readonly apiServices?: readonly string[];
  /** The window generators measure utilization over (their renewal interval), reported as windowSeconds. Default: the generators' default renew interval. */
  readonly windowSeconds?: number;
  /** How often to re-read the auth ConfigMap and the certificate and re-check caBundles. Default 1 minute. */
  readonly refreshIntervalMs?: number;
  /** Where it logs; the operator passes its own log. */
  readonly log?: OperatorLog;
}

/** A running server. */
export interface CustomMetricsServer {
  readonly port: number;
  /** PEM bundle the API server should trust for this server (what the APIService caBundle holds). */
  caBundlePem(): string;
  close(): Promise<void>;
}

const DEFAULT_SERVICE = "idfleet-custom-metrics";
const DEFAULT_API_SERVICES = [`v1beta2.${CUSTOM_METRICS_GROUP}`, `v1beta1.${CUSTOM_METRICS_GROUP}`];
const CERT_VALID_DAYS = 365;
const CERT_RENEW_BEFORE_MS = 90 * 86_400_000;
const FIELD_MANAGER = "idfleet-operator";

const statusCode = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

/** Loads (or creates, or renews) the self-signed serving certificate kept in a Secret shared by all replicas. */
async function ensureSecretCertificate(
  core: CoreV1Api,
  namespace: string,
  name: string,
  hosts: string[],
): Promise<ServingCertificate> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let existing;
    try {
      existing = await core.readNamespacedSecret({ name, namespace });
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
    const current = servingCertificateFromSecret(existing?.data);
    if (servingCertificateIsFresh(current, hosts, Date.now(), CERT_RENEW_BEFORE_MS)) return current;
    const next = rotateServingCertificate(current, hosts, CERT_VALID_DAYS, new Date());
    const body = {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: {
        name,
        namespace,
        labels: {
          "app.kubernetes.io/managed-by": "idfleet",
          "app.kubernetes.io/component": "custom-metrics",
        },
        ...(existing?.metadata?.resourceVersion
          ? { resourceVersion: existing.metadata.resourceVersion }
          : {}),
      },
      data: servingCertificateSecretData(next),
    };
    try {
      // The resourceVersion precondition makes concurrent replicas agree on one certificate.
      if (existing) await core.replaceNamespacedSecret({ name, namespace, body });
      else await core.createNamespacedSecret({ namespace, body });
      return next;
    } catch (err) {
      if (statusCode(err) !== 409) throw err; // another replica wrote first: use its certificate
    }
  }
  throw new Error(`could not settle the serving certificate in Secret ${namespace}/${name} after 5 attempts`);
}

/** Puts caBundle into each APIService that exists and does not skip TLS verification. Writes nothing when current. */
async function ensureCaBundles(
  api: ApiregistrationV1Api,
  names: readonly string[],
  caBundlePem: string,
  log: OperatorLog,
) {
  const caBundle = Buffer.from(caBundlePem, "utf8").toString("base64");
  for (const name of names) {
    let current;
    try {
      current = await api.readAPIService({ name });
    } catch (err) {
      if (statusCode(err) === 404) {
        log(
          "warn",
          `APIService ${name} does not exist; apply config/custom-metrics to serve metrics to the HPA`,
        );
        continue;
      }
      if (statusCode(err) === 403) {
        throw new Error(
          `cannot read APIService ${name} (HTTP 403): bind the operator's ServiceAccount to ClusterRole ` +
            `idfleet-custom-metrics-apiservices (config/custom-metrics/rbac.yaml), or set IDFLEET_CUSTOM_METRICS=false`,
          { cause: err },
        );
      }
      throw err;
    }
    if (current.spec?.insecureSkipTLSVerify) {
      log("info", `APIService ${name} skips TLS verification; leaving its caBundle alone`);
      continue;
    }
    if (current.spec?.caBundle === caBundle) continue;
    await api.patchAPIService(
      { name, body: { spec: { caBundle } }, fieldManager: FIELD_MANAGER },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    log("info", `APIService ${name}: caBundle set to the operator's serving certificate`);
  }
}

async function readAuthenticationConfig(core: CoreV1Api): Promise<AuthenticationConfig> {
  try {
    const cm = await core.readNamespacedConfigMap(AUTHENTICATION_CONFIGMAP);
    return parseAuthenticationConfig(cm.data);
  } catch (err) {
    const code = statusCode(err);
    if (code === 403 || code === 404) {
      throw new Error(
        `cannot read ConfigMap ${AUTHENTICATION_CONFIGMAP.namespace}/${AUTHENTICATION_CONFIGMAP.name} (HTTP ${code}): ` +
          `bind the operator's ServiceAccount to Role extension-apiserver-authentication-reader in kube-system ` +
          `(config/custom-metrics/rbac.yaml), or set IDFLEET_CUSTOM_METRICS=false`,
        { cause: err },
      );
    }
    throw err;
  }
}

function send(res: ServerResponse, code: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function forbiddenMessage(
  username: string,
  request: CustomMetricsRequest,
  path: string,
  reason: string,
): string {
  const why = reason ? `: ${reason}` : "";
  if (request.kind === "podMetric") {
    return (
      `pods.${CUSTOM_METRICS_GROUP} "${request.podName}" is forbidden: User "${username}" cannot get resource ` +
      `"pods/${SEQUENCE_UTILIZATION_METRIC}" in API group "${CUSTOM_METRICS_GROUP}" in the namespace "${request.namespace}"${why}`
    );
  }
  return `forbidden: User "${username}" cannot get path "${path}"${why}`;
}

/**
 * Starts the custom metrics API (custom.metrics.k8s.io v1beta2 and v1beta1) that the HPA reads
 * `idgen_sequence_utilization` from, through the API server's aggregation layer. Callers are
 * authenticated by the aggregator's front-proxy client certificate (or a client certificate of
 * the cluster CA) and authorized by SubjectAccessReview. Resolves once the server listens.
 */
export async function startCustomMetricsServer(
  options: CustomMetricsServerOptions,
): Promise<CustomMetricsServer> {
  const log = options.log ?? createOperatorLog();
  const serviceName = options.serviceName ?? DEFAULT_SERVICE;
  const hosts = serviceHostNames(serviceName, options.namespace);
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const registration = options.kubeConfig.makeApiClient(ApiregistrationV1Api);
  const authorizer = new DelegatedAuthorizer(options.kubeConfig);
  const windowSeconds = options.windowSeconds ?? LEASE_DEFAULTS.renewIntervalSeconds;

  const loadCertificate = async (): Promise<ServingCertificate> => {
    if (options.tlsFiles) {
      const [certPem, keyPem] = await Promise.all([
        readFile(options.tlsFiles.certFile, "utf8"),
        readFile(options.tlsFiles.keyFile, "utf8"),
      ]);
      return { certPem, keyPem, caBundlePem: certPem };
    }
    return ensureSecretCertificate(core, options.namespace, `${serviceName}-tls`, hosts);
  };

  let auth = await readAuthenticationConfig(core);
  let cert = await loadCertificate();
  if (auth.requestHeaderCAs.length === 0) {
    log(
      "warn",
      "the API server publishes no requestheader CA: the aggregator cannot authenticate to this server (start kube-apiserver with --requestheader-client-ca-file and --proxy-client-cert-file)",
    );
  }
  const secureContext = () => ({
    cert: cert.certPem,
    key: cert.keyPem,
    // Client certificates are checked against these CAs during the handshake; which CA signed one
    // (front proxy or cluster CA) is decided per request in authenticateRequest.
    ca: [...auth.requestHeaderCAs, ...auth.clientCAs].map((c) => c.toString()),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://localhost");
    const socket = req.socket as TLSSocket;
    const peer = socket.authorized ? socket.getPeerX509Certificate() : undefined;
    const user = authenticateRequest(peer, req.headersDistinct, auth, Date.now());
    if (user === undefined) {
      send(
        res,
        401,
        statusBody(
          401,
          "Unauthorized",
          "Unauthorized: present the aggregator's front-proxy client certificate or a cluster client certificate",
        ),
      );
      return;
    }
    const request = parseCustomMetricsRequest(req.method ?? "GET", url.pathname, url.searchParams);
    const decision = await authorizer.authorize(user, authorizationAttributes(request, url.pathname));
    if (!decision.allowed) {
      send(
        res,
        403,
        statusBody(403, "Forbidden", forbiddenMessage(user.username, request, url.pathname, decision.reason)),
      );
      return;
    }
    switch (request.kind) {
      case "error":
        send(res, request.code, statusBody(request.code, request.reason, request.message));
        return;
      case "groupList":
        send(res, 200, apiGroupList());
        return;
      case "group":
        send(res, 200, apiGroup());
        return;
      case "resourceList":
        send(res, 200, apiResourceList(request.version));
        return;
      case "podMetric": {
        const single = request.podName !== "*";
        const reports = options.source
          .listLeaseReports(request.namespace, single ? everything : request.selector)
          .filter((r) => !single || r.podName === request.podName);
        const list = sequenceUtilizationList(reports, {
          version: request.version,
          metricSelector: request.metricSelector,
          nowMs: Date.now(),
          windowSeconds,
        });
        if (single && list.items.length === 0) {
          send(
            res,
            404,
            statusBody(
              404,
              "NotFound",
              `the server could not find the metric ${SEQUENCE_UTILIZATION_METRIC} for pods ${request.podName}`,
            ),
          );
          return;
        }
        send(res, 200, list);
        return;
      }
    }
  };

  const server: Server = createServer(
    { ...secureContext(), requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log("error", "custom metrics request failed", {
          path: req.url,
          error: err instanceof Error ? err.message : String(err),
        });
        if (!res.headersSent)
          send(res, 500, statusBody(500, "InternalError", "internal error; see the operator's log"));
      });
    },
  );

  if (!options.tlsFiles)
    await ensureCaBundles(registration, options.apiServices ?? DEFAULT_API_SERVICES, cert.caBundlePem, log);

  const refresh = async () => {
    auth = await readAuthenticationConfig(core);
    cert = await loadCertificate();
    server.setSecureContext(secureContext());
    if (!options.tlsFiles)
      await ensureCaBundles(registration, options.apiServices ?? DEFAULT_API_SERVICES, cert.caBundlePem, log);
  };
  const timer = setInterval(() => {
    refresh().catch((err: unknown) =>
      log("error", "custom metrics refresh failed; serving with the previous settings", {
        error: err instanceof Error ? err.message : String(err),
      }),
    );
  }, options.refreshIntervalMs ?? 60_000);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 6443, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log("info", "custom metrics API listening", { port, service: `${options.namespace}/${serviceName}` });

  return {
    port,
    caBundlePem: () => cert.caBundlePem,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
