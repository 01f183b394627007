import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseCertificateBundle } from "./request-authentication.ts";
import {
  rotateServingCertificate,
  serviceHostNames,
  servingCertificateFromSecret,
  servingCertificateIsFresh,
  servingCertificateSecretData,
} from "./serving-certificate.ts";

const hosts = serviceHostNames("idfleet-custom-metrics", "idfleet-system");
const day = 86_400_000;

describe("serving certificate lifecycle", () => {
  const now = new Date("2026-11-21T10:00:00Z");
  const first = rotateServingCertificate(undefined, hosts, 365, now);

  it("covers the Service's DNS names", () => {
    expect(hosts).toContain("idfleet-custom-metrics.idfleet-system.svc");
    expect(servingCertificateIsFresh(first, hosts, now.getTime(), 30 * day)).toBe(true);
    expect(
      servingCertificateIsFresh(first, serviceHostNames("other", "idfleet-system"), now.getTime(), 30 * day),
    ).toBe(false);
    expect(servingCertificateIsFresh(undefined, hosts, now.getTime(), 30 * day)).toBe(false);
  });

  it("renews ahead of expiry and keeps trusting the previous certificate while it is valid", () => {
    const later = new Date(now.getTime() + 340 * day);
    expect(servingCertificateIsFresh(first, hosts, later.getTime(), 30 * day)).toBe(false);
    const second = rotateServingCertificate(first, hosts, 365, later);
    expect(parseCertificateBundle(second.caBundlePem).map((c) => c.fingerprint256)).toEqual([
      new X509Certificate(second.certPem).fingerprint256,
      new X509Certificate(first.certPem).fingerprint256,
    ]);
    const muchLater = new Date(now.getTime() + 400 * day);
    expect(
      parseCertificateBundle(rotateServingCertificate(first, hosts, 365, muchLater).caBundlePem),
    ).toHaveLength(1);
  });

  it("round-trips through Secret data and rejects incomplete Secrets", () => {
    expect(servingCertificateFromSecret(servingCertificateSecretData(first))).toEqual(first);
    expect(servingCertificateFromSecret({ "tls.crt": "bm9wZQ==" })).toBeUndefined();
    expect(servingCertificateFromSecret({ "tls.crt": "bm9wZQ==", "tls.key": "bm9wZQ==" })).toBeUndefined();
    expect(servingCertificateFromSecret(undefined)).toBeUndefined();
  });
});
