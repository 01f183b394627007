import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { join } from "node:path";

/**
 * The generator's own Kubernetes API client: a few bounded JSON requests over node:https.
 * The generator reads and replaces one ConfigMap; @kubernetes/client-node would cost it
 * ~0.6 CPU-s and ~90 MiB at every start (docs/serving.md, "A light generator").
 */

/** Where the API server is and how to authenticate. */
export interface ApiServerAccess {
  /** Base URL, e.g. https://10.96.0.1:443. */
  server: string;
  /** PEM bundle the server's certificate must chain to (default: Node's public roots). */
  ca?: string | Buffer;
  /** A bearer token file, re-read as the kubelet rotates it. */
  tokenFile?: string;
  /** A fixed bearer token. */
  token?: string;
  /** A client certificate and key (PEM). */
  clientCert?: { cert: string | Buffer; key: string | Buffer };
}

/** The service-account mount of every pod, unless IDGEN_SERVICE_ACCOUNT_DIR says otherwise. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * Access as the pod's service account: KUBERNETES_SERVICE_HOST/PORT, the mounted CA and
 * token. IDGEN_SERVICE_ACCOUNT_DIR points elsewhere (benchmarks, a generator run by hand).
 */
export function inClusterAccess(env: Record<string, string | undefined> = process.env): ApiServerAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host)
    throw new Error(
      "lease mode needs the Kubernetes API: KUBERNETES_SERVICE_HOST is not set (run in a pod, or set IDGEN_WORKER_ID for standalone mode)",
    );
  const dir = env.IDGEN_SERVICE_ACCOUNT_DIR || SERVICE_ACCOUNT_DIR;
  let ca: Buffer;
  try {
    ca = readFileSync(join(dir, "ca.crt"));
  } catch (error) {
    throw new Error(`cannot read the service account's CA bundle: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca,
    tokenFile: join(dir, "token"),
  };
}

/** What came back: status, body text and the server's clock reading. */
export interface KubeApiResponse {
  status: number;
  body: string;
  /** The `Date` header, parsed (ms since the epoch), or null. */
  serverDateMs: number | null;
  sentWallMs: number;
  receivedWallMs: number;
}

/** No complete answer within the time allowed; the request was aborted (a write may still apply). */
export class KubeApiTimeout extends Error {}

/** Tokens are re-read at most this often (the kubelet rotates them well before expiry), and on a 401. */
export const TOKEN_REREAD_MS = 60_000;

/** The largest answer body accepted (a ConfigMap is at most 1 MiB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Sends JSON requests to one API server with bounded time and a current token. */
export class KubeApiClient {
  private readonly access: ApiServerAccess;
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private token: { value: string; readAtMs: number } | null = null;
  private readonly nowMs: () => number;

  constructor(access: ApiServerAccess, nowMs: () => number = Date.now) {
    this.access = access;
    this.base = new URL(access.server);
    this.nowMs = nowMs;
    const tls = this.base.protocol === "https:";
    // One kept-alive connection serves every renewal; TLS handshakes are the expensive part.
    const agentOptions = { keepAlive: true, maxSockets: 4 };
    this.agent = tls
      ? new HttpsAgent({
          ...agentOptions,
          ...(access.ca ? { ca: access.ca } : {}),
          ...(access.clientCert ? { cert: access.clientCert.cert, key: access.clientCert.key } : {}),
        })
      : new HttpAgent(agentOptions);
    this.send = tls ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  /**
   * One request, retried once with a freshly read token after a 401. Rejects with
   * KubeApiTimeout after `timeoutMs` (the socket is destroyed), or a network error.
   */
  async request(method: string, path: string, body: unknown, timeoutMs: number): Promise<KubeApiResponse> {
    const first = await this.once(method, path, body, timeoutMs, false);
    if (first.status !== 401 || !this.access.tokenFile) return first;
    return this.once(method, path, body, timeoutMs, true);
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private bearer(reread: boolean): string | undefined {
    if (this.access.token) return this.access.token;
    const file = this.access.tokenFile;
    if (!file) return undefined;
    const now = this.nowMs();
    if (reread || !this.token || now - this.token.readAtMs >= TOKEN_REREAD_MS) {
      try {
        this.token = { value: readFileSync(file, "utf8").trim(), readAtMs: now };
      } catch (error) {
        // A momentarily missing file (the kubelet swaps a symlink) keeps the last token.
        if (!this.token)
          throw new Error(`cannot read the service account token: ${(error as Error).message}`, {
            cause: error,
          });
      }
    }
    return this.token?.value;
  }

  private once(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    rereadToken: boolean,
  ): Promise<KubeApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const token = this.bearer(rereadToken);
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    return new Promise<KubeApiResponse>((resolve, reject) => {
      const sentWallMs = this.nowMs();
      const req = this.send(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ""),
          port: this.base.port,
          path,
          method,
          headers,
          agent: this.agent,
        },
        (res) =>
          collect(res, (error, text) => {
            if (error) return fail(error);
            clearTimeout(timer);
            const date = res.headers.date ? Date.parse(res.headers.date) : NaN;
            resolve({
              status: res.statusCode ?? 0,
              body: text,
              serverDateMs: Number.isNaN(date) ? null : date,
              sentWallMs,
              receivedWallMs: this.nowMs(),
            });
          }),
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new KubeApiTimeout(`${method} ${path}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on("error", (error) => fail(error));
      req.end(payload);
    });
  }
}

function collect(res: IncomingMessage, done: (error: Error | null, text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.destroy();
      done(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`), "");
      return;
    }
    chunks.push(chunk);
  });
  res.on("end", () => done(null, Buffer.concat(chunks).toString("utf8")));
  res.on("error", (error) => done(error, ""));
}
