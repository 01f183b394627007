import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";
import {
  bitString,
  boolean,
  explicit,
  implicit,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der-writer.ts";

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
} as const;

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = ip.includes("::") && tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return Buffer.concat(groups.map((g) => Buffer.from([parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff])));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

function toPem(label: string, der: Buffer): string {
  const b64 = der
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** What a certificate is for. */
export const CertificatePurpose = { server: "1.3.6.1.5.5.7.3.1", client: "1.3.6.1.5.5.7.3.2" } as const;
export type CertificatePurpose = (typeof CertificatePurpose)[keyof typeof CertificatePurpose];

function distinguishedName(commonName: string, organizations: readonly string[] = []): Buffer {
  return sequence(
    ...organizations.map((o) => set(sequence(objectIdentifier(OID.organization), utf8String(o)))),
    set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))),
  );
}

/**
 * Creates an ECDSA P-256 certificate, valid from an hour ago (clock skew) for `validDays`.
 * Without `issuer` it is self-signed and its own CA (basicConstraints CA, keyCertSign), so clients
 * can trust it directly as a caBundle. With `issuer` (a CA made by this function, identified by
 * its common name and key) it is signed by that CA.
 */
export function createCertificate(options: {
  commonName: string;
  organizations?: readonly string[];
  hosts?: readonly string[];
  purpose: CertificatePurpose;
  validDays: number;
  issuer?: { commonName: string; keyPem: string };
  now?: Date;
}): CertificateAndKey {
  const now = options.now ?? new Date();
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signingKey = options.issuer ? createPrivateKey(options.issuer.keyPem) : privateKey;
  const subject = distinguishedName(options.commonName, options.organizations);
  const issuer = options.issuer ? distinguishedName(options.issuer.commonName) : subject;
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive
  const hosts = options.hosts ?? [];
  const isCA = options.issuer === undefined;
  const extensions = sequence(
    extension(OID.basicConstraints, true, sequence(...(isCA ? [boolean(true)] : []))),
    // digitalSignature (bit 0), plus keyCertSign (bit 5) for a CA; trailing zero bits are unused.
    extension(
      OID.keyUsage,
      true,
      isCA ? bitString(Buffer.from([0x84]), 2) : bitString(Buffer.from([0x80]), 7),
    ),
    extension(OID.extKeyUsage, false, sequence(objectIdentifier(options.purpose))),
    ...(hosts.length > 0
      ? [
          extension(
            OID.subjectAltName,
            false,
            sequence(
              ...hosts.map((h) => (isIP(h) ? implicit(7, ipBytes(h)) : implicit(2, Buffer.from(h, "ascii")))),
            ),
          ),
        ]
      : []),
  );
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    issuer,
    sequence(
      time(new Date(now.getTime() - 3_600_000)),
      time(new Date(now.getTime() + options.validDays * 86_400_000)),
    ),
    subject,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, signingKey); // ECDSA: DER-encoded (r, s)
  const cert = sequence(tbs, algorithm, bitString(signature));
  return {
    certPem: toPem("CERTIFICATE", cert),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** A self-signed serving certificate for `hosts` (DNS names and IP addresses). */
export function createSelfSignedCertificate(options: {
  commonName: string;
  hosts: readonly string[];
  validDays: number;
  now?: Date;
}): CertificateAndKey {
  return createCertificate({ ...options, purpose: CertificatePurpose.server });
}
