import { X509Certificate } from "node:crypto";
import { parseCertificateBundle } from "./request-authentication.ts";
import { type CertificateAndKey, createSelfSignedCertificate } from "./x509-certificate.ts";

/** The serving identity: certificate, key, and the CA bundle clients (the APIService) trust. */
export interface ServingCertificate extends CertificateAndKey {
  /** PEM bundle: the current certificate plus a previous one still valid, so rotation never cuts off a replica. */
  readonly caBundlePem: string;
}

/** Keys of the Secret holding the serving certificate (the kubernetes.io/tls layout plus ca.crt). */
export const ServingSecretKey = { cert: "tls.crt", key: "tls.key", caBundle: "ca.crt" } as const;

/** The DNS names the aggregator may dial the operator's Service by. */
export function serviceHostNames(serviceName: string, namespace: string): string[] {
  return [
    serviceName,
    `${serviceName}.${namespace}`,
    `${serviceName}.${namespace}.svc`,
    `${serviceName}.${namespace}.svc.cluster.local`,
  ];
}

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

/** Reads a Secret's data (base64 values) into a serving certificate, or undefined if incomplete or unparsable. */
export function servingCertificateFromSecret(
  data: Record<string, string> | undefined,
): ServingCertificate | undefined {
  const certPem = decode(data, ServingSecretKey.cert);
  const keyPem = decode(data, ServingSecretKey.key);
  if (!certPem || !keyPem) return undefined;
  try {
    new X509Certificate(certPem);
  } catch {
    return undefined;
  }
  return { certPem, keyPem, caBundlePem: decode(data, ServingSecretKey.caBundle) || certPem };
}

/** The Secret data (base64 values) for a serving certificate. */
export function servingCertificateSecretData(cert: ServingCertificate): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return {
    [ServingSecretKey.cert]: b64(cert.certPem),
    [ServingSecretKey.key]: b64(cert.keyPem),
    [ServingSecretKey.caBundle]: b64(cert.caBundlePem),
  };
}

/**
 * Whether `current` can keep serving: it exists, covers every host name, and does not expire
 * within `renewBeforeMs`.
 */
export function servingCertificateIsFresh(
  current: ServingCertificate | undefined,
  hosts: readonly string[],
  nowMs: number,
  renewBeforeMs: number,
): current is ServingCertificate {
  if (current === undefined) return false;
  const cert = new X509Certificate(current.certPem);
  if (Date.parse(cert.validTo) - nowMs < renewBeforeMs) return false;
  return hosts.every((h) => cert.checkHost(h, { wildcards: false }) !== undefined);
}

/**
 * A new self-signed certificate for `hosts`. The CA bundle keeps the previous certificate while
 * it is still valid: replicas that have not reloaded yet keep being trusted.
 */
export function rotateServingCertificate(
  previous: ServingCertificate | undefined,
  hosts: readonly string[],
  validDays: number,
  now: Date,
): ServingCertificate {
  const next = createSelfSignedCertificate({
    commonName: hosts[0] ?? "idfleet-custom-metrics",
    hosts,
    validDays,
    now,
  });
  const stillValid = parseCertificateBundle(previous?.certPem).filter(
    (c) => Date.parse(c.validTo) > now.getTime(),
  );
  return { ...next, caBundlePem: [next.certPem, ...stillValid.map((c) => c.toString())].join("") };
}
