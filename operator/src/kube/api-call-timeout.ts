import { Observable, type ConfigurationOptions } from "@kubernetes/client-node";

/**
 * Runs one Kubernetes API call (client-node 2.x, object-parameter style: pass the given options
 * as the call's second argument) and gives up after `timeoutMs`, aborting the HTTP request too.
 * Lease renewals on both sides retry every second or two; without the abort, each request
 * abandoned while the API server hangs would hold a socket until the HTTP client's own timeout,
 * minutes later. An aborted write may still have been applied by the server: callers treat a
 * timeout as "unknown", never as "not written".
 */
export async function callWithTimeout<T>(
  call: (options: ConfigurationOptions) => Promise<T>,
  timeoutMs: number,
  timeoutError: () => Error,
): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(timeoutError());
      abort.abort();
    }, timeoutMs);
  });
  const promise = call({
    middleware: [
      {
        // The object-parameter API hands per-call middleware to its observable layer as is.
        pre: (context) => {
          context.setSignal(abort.signal);
          return new Observable(Promise.resolve(context));
        },
        post: (context) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: "append",
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => undefined);
  }
}
