import { z } from "zod";
import { LEASE_DEFAULTS } from "../../../contract/fleet-defaults.ts";
import { formatIssues } from "../../../contract/id-layout.ts";

/** Environment variables that configure the operator's custom metrics API. */
export const CustomMetricsEnv = {
  enabled: "IDFLEET_CUSTOM_METRICS",
  port: "IDFLEET_CUSTOM_METRICS_PORT",
  serviceName: "IDFLEET_CUSTOM_METRICS_SERVICE",
  tlsCertFile: "IDFLEET_CUSTOM_METRICS_TLS_CERT_FILE",
  tlsKeyFile: "IDFLEET_CUSTOM_METRICS_TLS_KEY_FILE",
  windowSeconds: "IDFLEET_CUSTOM_METRICS_WINDOW_SECONDS",
} as const;

const E = CustomMetricsEnv;
const schema = z
  .object({
    [E.enabled]: z.enum(["true", "false"], { error: `${E.enabled} must be true or false` }).default("true"),
    [E.port]: z.coerce.number().int().min(1).max(65535).default(6443),
    [E.serviceName]: z.string().min(1).default("idfleet-custom-metrics"),
    [E.tlsCertFile]: z.string().min(1).optional(),
    [E.tlsKeyFile]: z.string().min(1).optional(),
    [E.windowSeconds]: z.coerce.number().int().min(1).max(3600).default(LEASE_DEFAULTS.renewIntervalSeconds),
  })
  .refine((e) => (e[E.tlsCertFile] === undefined) === (e[E.tlsKeyFile] === undefined), {
    error: `set both ${E.tlsCertFile} and ${E.tlsKeyFile} (a certificate from files), or neither (self-signed, kept in a Secret)`,
  });

/** The custom metrics settings of startCustomMetricsServer that come from the environment. */
export interface CustomMetricsSettings {
  readonly enabled: boolean;
  readonly port: number;
  readonly serviceName: string;
  readonly tlsFiles?: { readonly certFile: string; readonly keyFile: string };
  readonly windowSeconds: number;
}

/** Reads the custom metrics settings; throws naming each bad variable. Empty values count as unset. */
export function parseCustomMetricsEnv(env: Record<string, string | undefined>): CustomMetricsSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  // Kubernetes service links name a Service's address <SERVICE>_PORT: the Service
  // idfleet-custom-metrics sets IDFLEET_CUSTOM_METRICS_PORT=tcp://<ip>:443 unless the pod disables them.
  if (/^(tcp|udp|sctp):\/\//.test(cleaned[E.port] ?? ""))
    throw new Error(
      `invalid custom metrics environment: ${E.port} is "${cleaned[E.port]}", a service link of the Service idfleet-custom-metrics, not a port; set enableServiceLinks: false in the operator's pod spec (config/manager/deployment.yaml does) or set ${E.port} explicitly`,
    );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success)
    throw new Error(`invalid custom metrics environment: ${formatIssues(parsed.error.issues)}`);
  const e = parsed.data;
  const cert = e[E.tlsCertFile];
  const key = e[E.tlsKeyFile];
  return {
    enabled: e[E.enabled] === "true",
    port: e[E.port],
    serviceName: e[E.serviceName],
    ...(cert && key ? { tlsFiles: { certFile: cert, keyFile: key } } : {}),
    windowSeconds: e[E.windowSeconds],
  };
}
