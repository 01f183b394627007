import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Paths of a PEM certificate and its private key. */
export type CertPair = { cert: string; key: string };

/** What a leaf certificate is for, by extended key usage. */
export const CertUsage = {
  client: "clientAuth",
  server: "serverAuth",
  both: "clientAuth,serverAuth",
} as const;
export type CertUsage = (typeof CertUsage)[keyof typeof CertUsage];

/** A leaf certificate request: subject CN/O and, for serving certs, SANs. */
export type LeafRequest = {
  name: string;
  commonName: string;
  organizations?: string[];
  usage: CertUsage;
  dnsNames?: string[];
  ips?: string[];
};

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

async function ecKey(path: string): Promise<void> {
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path]);
}

function subject(commonName: string, organizations: string[] = []): string {
  const escape = (value: string) => value.replace(/([/,+"\\<>;=])/g, "\\$1");
  return organizations.map((o) => `/O=${escape(o)}`).join("") + `/CN=${escape(commonName)}`;
}

/** Creates (or reuses, when both files exist) a self-signed CA in `dir`. */
export async function createCa(dir: string, name: string, commonName: string): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
  await ecKey(pair.key);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    pair.key,
    "-subj",
    subject(commonName),
    "-days",
    "3650",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    "-out",
    pair.cert,
  ]);
  return pair;
}

/** Issues (or reuses) a leaf certificate signed by `ca`. */
export async function issueCert(dir: string, ca: CertPair, request: LeafRequest): Promise<CertPair> {
  const pair = { cert: join(dir, `${request.name}.crt`), key: join(dir, `${request.name}.key`) };
  if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
  const csr = join(dir, `${request.name}.csr`);
  const ext = join(dir, `${request.name}.ext`);
  const sans = [
    ...(request.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(request.ips ?? []).map((ip) => `IP:${ip}`),
  ];
  writeFileSync(
    ext,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${request.usage}`,
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
    ].join("\n") + "\n",
  );
  await ecKey(pair.key);
  await openssl([
    "req",
    "-new",
    "-key",
    pair.key,
    "-subj",
    subject(request.commonName, request.organizations),
    "-out",
    csr,
  ]);
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-set_serial",
    `0x${randomBytes(16).toString("hex")}`,
    "-days",
    "3650",
    "-extfile",
    ext,
    "-out",
    pair.cert,
  ]);
  return pair;
}

/** An ECDSA key pair for signing service-account tokens. */
export async function createServiceAccountKey(dir: string): Promise<{ key: string; pub: string }> {
  const paths = { key: join(dir, "service-account.key"), pub: join(dir, "service-account.pub") };
  if (existsSync(paths.key) && existsSync(paths.pub)) return paths;
  await ecKey(paths.key);
  await openssl(["ec", "-in", paths.key, "-pubout", "-out", paths.pub]);
  return paths;
}
