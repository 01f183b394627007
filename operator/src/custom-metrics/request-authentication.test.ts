import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  authenticateRequest,
  parseAuthenticationConfig,
  parseCertificateBundle,
} from "./request-authentication.ts";
import { CertificatePurpose, createCertificate } from "./x509-certificate.ts";

function ca(commonName: string) {
  return {
    commonName,
    ...createCertificate({ commonName, purpose: CertificatePurpose.server, validDays: 10 }),
  };
}
function clientOf(issuer: ReturnType<typeof ca>, commonName: string, organizations: string[] = []) {
  const { certPem } = createCertificate({
    commonName,
    organizations,
    purpose: CertificatePurpose.client,
    validDays: 1,
    issuer,
  });
  return new X509Certificate(certPem);
}

const frontProxyCA = ca("front-proxy-ca");
const clientCA = ca("kubernetes-ca");
const config = parseAuthenticationConfig({
  "requestheader-client-ca-file": frontProxyCA.certPem,
  "requestheader-allowed-names": '["front-proxy-client"]',
  "requestheader-username-headers": '["X-Remote-User"]',
  "requestheader-group-headers": '["X-Remote-Group"]',
  "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
  "client-ca-file": clientCA.certPem,
});
const now = Date.now();
const proxy = clientOf(frontProxyCA, "front-proxy-client");
const headers = {
  "x-remote-user": ["system:serviceaccount:kube-system:horizontal-pod-autoscaler"],
  "x-remote-group": ["system:serviceaccounts", "system:serviceaccounts:kube-system"],
  "x-remote-extra-authentication.kubernetes.io%2fpod-name": ["kcm-0"],
};

describe("authenticateRequest", () => {
  it("takes the user from the front proxy's headers when its certificate checks out", () => {
    expect(authenticateRequest(proxy, headers, config, now)).toEqual({
      username: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
      groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      extra: { "authentication.kubernetes.io/pod-name": ["kcm-0"] },
    });
  });

  it("ignores the headers from anyone but the allowed front proxy", () => {
    expect(authenticateRequest(clientOf(frontProxyCA, "someone-else"), headers, config, now)).toBeUndefined();
    const stranger = ca("front-proxy-ca"); // same name, different key
    expect(
      authenticateRequest(clientOf(stranger, "front-proxy-client"), headers, config, now),
    ).toBeUndefined();
    expect(authenticateRequest(undefined, headers, config, now)).toBeUndefined();
  });

  it("refuses a front-proxy request without a user header, and an expired certificate", () => {
    expect(authenticateRequest(proxy, { "x-remote-group": ["system:masters"] }, config, now)).toBeUndefined();
    expect(authenticateRequest(proxy, headers, config, now + 3 * 86_400_000)).toBeUndefined();
  });

  it("accepts any front-proxy CN when no names are listed", () => {
    const open = { ...config, allowedNames: [] };
    expect(authenticateRequest(clientOf(frontProxyCA, "aggregator"), headers, open, now)?.username).toBe(
      "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
    );
  });

  it("authenticates a direct client certificate as CN with O groups, ignoring proxy headers", () => {
    expect(authenticateRequest(clientOf(clientCA, "alice", ["dev", "ops"]), headers, config, now)).toEqual({
      username: "alice",
      groups: ["dev", "ops", "system:authenticated"],
      extra: {},
    });
  });
});

describe("parseAuthenticationConfig", () => {
  it("reads an API server without a front proxy as one that cannot proxy to us", () => {
    const bare = parseAuthenticationConfig({ "client-ca-file": clientCA.certPem });
    expect(bare.requestHeaderCAs).toEqual([]);
    expect(bare.clientCAs).toHaveLength(1);
  });

  it("names a malformed key", () => {
    expect(() => parseAuthenticationConfig({ "requestheader-allowed-names": "front-proxy-client" })).toThrow(
      /requestheader-allowed-names must be a JSON array of strings, got front-proxy-client/,
    );
    expect(() => parseAuthenticationConfig({ "requestheader-allowed-names": "[1]" })).toThrow(
      /requestheader-allowed-names must be a JSON array of strings/,
    );
  });

  it("splits certificate bundles", () => {
    expect(parseCertificateBundle(frontProxyCA.certPem + clientCA.certPem).map((c) => c.subject)).toEqual([
      "CN=front-proxy-ca",
      "CN=kubernetes-ca",
    ]);
  });
});
