import { X509Certificate } from "node:crypto";

/**
 * How the API server's aggregator identifies callers to an extension API server, as it publishes
 * it in kube-system/extension-apiserver-authentication (the keys `kube-apiserver` writes there).
 */
export interface AuthenticationConfig {
  /** CAs that sign the front proxy's (aggregator's) client certificates. */
  readonly requestHeaderCAs: readonly X509Certificate[];
  /** Common names a front-proxy certificate may carry; empty means any the CA signed. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
  /** CAs of ordinary client certificates (user = CN, groups = O), for direct callers. */
  readonly clientCAs: readonly X509Certificate[];
}

/** An authenticated caller, in SubjectAccessReview terms. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** Name of the ConfigMap (in kube-system) the API server publishes its client authentication in. */
export const AUTHENTICATION_CONFIGMAP = {
  namespace: "kube-system",
  name: "extension-apiserver-authentication",
} as const;

/** Splits a PEM bundle into certificates. Throws on a block that is not a certificate. */
export function parseCertificateBundle(pem: string | undefined): X509Certificate[] {
  const blocks = (pem ?? "").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

function jsonList(data: Record<string, string>, key: string): string[] {
  const raw = data[key];
  if (raw === undefined || raw === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) {
    throw new Error(`${AUTHENTICATION_CONFIGMAP.name}: ${key} must be a JSON array of strings, got ${raw}`);
  }
  return parsed;
}

/** Reads the ConfigMap's data. Missing requestheader keys mean the front proxy is not configured. */
export function parseAuthenticationConfig(data: Record<string, string> | undefined): AuthenticationConfig {
  const d = data ?? {};
  return {
    requestHeaderCAs: parseCertificateBundle(d["requestheader-client-ca-file"]),
    allowedNames: jsonList(d, "requestheader-allowed-names"),
    usernameHeaders: jsonList(d, "requestheader-username-headers"),
    uidHeaders: jsonList(d, "requestheader-uid-headers"),
    groupHeaders: jsonList(d, "requestheader-group-headers"),
    extraHeaderPrefixes: jsonList(d, "requestheader-extra-headers-prefix"),
    clientCAs: parseCertificateBundle(d["client-ca-file"]),
  };
}

/** Whether `cert` is signed directly by one of `cas` and is within its validity period. */
export function issuedByOneOf(
  cert: X509Certificate,
  cas: readonly X509Certificate[],
  nowMs: number,
): boolean {
  if (nowMs < Date.parse(cert.validFrom) || nowMs > Date.parse(cert.validTo)) return false;
  return cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
}

function commonName(cert: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(cert.subject)?.[1];
}

type Headers = Readonly<Record<string, readonly string[] | undefined>>;

function firstValue(headers: Headers, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers[name.toLowerCase()]?.find((v) => v !== "");
    if (value !== undefined) return value;
  }
  return undefined;
}

// What every authenticated request gets, as the generic API server's AuthenticatedGroupAdder does.
function withAuthenticatedGroup(groups: readonly string[]): string[] {
  return groups.includes("system:authenticated") ? [...groups] : [...groups, "system:authenticated"];
}

/**
 * Authenticates a request the way a delegating Kubernetes API server does, for the two kinds of
 * caller that present a client certificate:
 *  - the aggregator (front proxy): certificate signed by a requestheader CA, CN among the allowed
 *    names; the user comes from the X-Remote-User / X-Remote-Group / X-Remote-Extra-* headers;
 *  - a direct client: certificate signed by the client CA; user = CN, groups = O.
 * `peer` must be a certificate the TLS layer saw the client prove possession of; `headers` are
 * the request headers with every value kept (Node's `headersDistinct`).
 * Returns undefined when the caller is not authenticated.
 */
export function authenticateRequest(
  peer: X509Certificate | undefined,
  headers: Headers,
  config: AuthenticationConfig,
  nowMs: number,
): UserInfo | undefined {
  if (peer === undefined) return undefined;
  if (issuedByOneOf(peer, config.requestHeaderCAs, nowMs)) {
    const cn = commonName(peer);
    if (config.allowedNames.length > 0 && (cn === undefined || !config.allowedNames.includes(cn)))
      return undefined;
    const username = firstValue(headers, config.usernameHeaders);
    if (username === undefined) return undefined;
    const uid = firstValue(headers, config.uidHeaders);
    const groups = config.groupHeaders.flatMap((h) => headers[h.toLowerCase()] ?? []);
    const extra: Record<string, string[]> = {};
    for (const prefix of config.extraHeaderPrefixes.map((p) => p.toLowerCase())) {
      for (const [name, values] of Object.entries(headers)) {
        if (!name.startsWith(prefix) || values === undefined) continue;
        // The aggregator path-escapes extra keys (they may hold '/' and other characters).
        const key = decodeURIComponent(name.slice(prefix.length)).toLowerCase();
        extra[key] = [...(extra[key] ?? []), ...values];
      }
    }
    return { username, ...(uid ? { uid } : {}), groups: withAuthenticatedGroup(groups), extra };
  }
  if (issuedByOneOf(peer, config.clientCAs, nowMs)) {
    const username = commonName(peer);
    if (username === undefined || username === "") return undefined;
    const groups = [...peer.subject.matchAll(/^O=(.*)$/gm)].map((m) => m[1]!);
    return { username, groups: withAuthenticatedGroup(groups), extra: {} };
  }
  return undefined;
}
