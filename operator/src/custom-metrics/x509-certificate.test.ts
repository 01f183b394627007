import { X509Certificate, createPrivateKey } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer } from "node:tls";
import { describe, expect, it } from "vitest";
import { createSelfSignedCertificate } from "./x509-certificate.ts";

const hosts = ["idfleet-custom-metrics.idfleet-system.svc", "idfleet-custom-metrics", "127.0.0.1", "::1"];

describe("createSelfSignedCertificate", () => {
  const now = new Date("2026-11-21T10:00:00Z");
  const { certPem, keyPem } = createSelfSignedCertificate({
    commonName: "idfleet-custom-metrics",
    hosts,
    validDays: 365,
    now,
  });
  const cert = new X509Certificate(certPem);

  it("writes a certificate OpenSSL parses, signed by its own key", () => {
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(cert.subject).toBe("CN=idfleet-custom-metrics");
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.ca).toBe(true);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(new Date(cert.validFrom).toISOString()).toBe("2026-11-21T09:00:00.000Z");
    expect(new Date(cert.validTo).toISOString()).toBe("2027-11-21T10:00:00.000Z");
    expect(cert.subjectAltName).toBe(
      "DNS:idfleet-custom-metrics.idfleet-system.svc, DNS:idfleet-custom-metrics, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(cert.checkHost("idfleet-custom-metrics.idfleet-system.svc")).toBe(
      "idfleet-custom-metrics.idfleet-system.svc",
    );
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("writes GeneralizedTime for dates from 2050", () => {
    const late = createSelfSignedCertificate({
      commonName: "x",
      hosts: ["x.svc"],
      validDays: 30,
      now: new Date("2050-06-01T00:00:00Z"),
    });
    expect(new Date(new X509Certificate(late.certPem).validTo).toISOString()).toBe(
      "2050-07-01T00:00:00.000Z",
    );
  });

  it("serves TLS that a client trusting only this certificate accepts for its host names", async () => {
    const fresh = createSelfSignedCertificate({ commonName: "idfleet-custom-metrics", hosts, validDays: 1 });
    const server = createServer({ cert: fresh.certPem, key: fresh.keyPem }, (s) => s.end("ok"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const handshake = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, servername, ca: fresh.certPem }, () => {
          socket.setEncoding("utf8");
          socket.once("data", (d: string) => resolve(d));
        });
        socket.once("error", reject);
      });
    try {
      await expect(handshake("idfleet-custom-metrics.idfleet-system.svc")).resolves.toBe("ok");
      await expect(handshake("someone-else.svc")).rejects.toThrow(/Hostname\/IP does not match/);
    } finally {
      server.close();
    }
  });
});
