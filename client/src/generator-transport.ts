import { retryAfterMs } from "./retry-after.ts";

/** How one GET to a generator ended. */
export type GetOutcome =
  | { kind: "ok"; body: Uint8Array }
  /** An HTTP error status; code and message from the generator's `{error:{code,message}}` body. */
  | { kind: "status"; status: number; code: string; message: string; retryAfterMs: number | undefined }
  /** No HTTP answer: connection refused or reset, DNS failure, malformed response. */
  | { kind: "unreachable"; message: string }
  | { kind: "timeout"; message: string };

/** The client's only I/O towards generators: a port, so tests drive the client with fake ones. */
export interface GeneratorTransport {
  get(url: string, timeoutMs: number): Promise<GetOutcome>;
  /** Aborts whatever is in flight (close). */
  close(): void;
}

/** Retry-After values above this are read as this (the endpoint is probed again then). */
export const MAX_RETRY_AFTER_MS = 30_000;

/** Reads `{error:{code,message}}`; falls back to the status text. */
function errorOf(status: number, text: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === "string") {
      return { code: parsed.error.code, message: String(parsed.error.message ?? "") };
    }
  } catch {
    // not the generator's error shape
  }
  return { code: `HTTP_${status}`, message: text.slice(0, 200) };
}

/** What a fetch rejection means: a timeout, or why the connection failed (its cause's code). */
function failureOf(error: unknown, timedOut: boolean, timeoutMs: number): GetOutcome {
  if (timedOut) return { kind: "timeout", message: `no answer within ${timeoutMs} ms` };
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = cause?.code ?? cause?.message ?? (error as Error).message;
  return { kind: "unreachable", message };
}

/** The transport over Node's fetch (keep-alive connections, one pool per origin). */
export function fetchTransport(now: () => number = Date.now): GeneratorTransport {
  const closing = new AbortController();
  return {
    async get(url, timeoutMs) {
      const timeout = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        timeout.abort();
      }, timeoutMs);
      const signal = AbortSignal.any([timeout.signal, closing.signal]);
      try {
        const response = await fetch(url, { signal });
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (response.ok) return { kind: "ok", body: bytes };
        const { code, message } = errorOf(response.status, new TextDecoder().decode(bytes));
        return {
          kind: "status",
          status: response.status,
          code,
          message,
          retryAfterMs: retryAfterMs(response.headers.get("retry-after"), now(), MAX_RETRY_AFTER_MS),
        };
      } catch (error) {
        if (closing.signal.aborted) return { kind: "unreachable", message: "client closed" };
        return failureOf(error, timedOut, timeoutMs);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closing.abort();
    },
  };
}
