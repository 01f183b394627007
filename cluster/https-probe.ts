import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";

/** TLS material for probing a component; omit cert/key for anonymous requests. */
export type ProbeTls = { caFile?: string; certFile?: string; keyFile?: string; insecure?: boolean };

/** GET `url` (http or https) with a short timeout; resolves to the status and body. */
export async function probeGet(
  url: string,
  tls: ProbeTls = {},
  timeoutMs = 3_000,
): Promise<{ status: number; body: string }> {
  const isHttps = url.startsWith("https:");
  const options = isHttps
    ? {
        ca: tls.caFile ? readFileSync(tls.caFile) : undefined,
        cert: tls.certFile ? readFileSync(tls.certFile) : undefined,
        key: tls.keyFile ? readFileSync(tls.keyFile) : undefined,
        rejectUnauthorized: !tls.insecure,
        timeout: timeoutMs,
      }
    : { timeout: timeoutMs };
  return new Promise((resolveProbe, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolveProbe({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** True when GET `url` answers 200. */
export async function answers200(url: string, tls: ProbeTls = {}): Promise<boolean> {
  return (await probeGet(url, tls)).status === 200;
}
