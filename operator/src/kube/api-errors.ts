/** HTTP status of a client-node API error, or undefined for other errors. */
export function apiStatus(err: unknown): number | undefined {
  if (
    err &&
    typeof err === "object" &&
    "code" in err &&
    typeof (err as { code: unknown }).code === "number"
  ) {
    return (err as { code: number }).code;
  }
  return undefined;
}

/** True for 404 Not Found. */
export const isNotFound = (err: unknown): boolean => apiStatus(err) === 404;
/** True for 409 Conflict (resourceVersion precondition failed, or already exists). */
export const isConflict = (err: unknown): boolean => apiStatus(err) === 409;

/** A one-line description of an API error for logs, events and conditions. */
export function describeError(err: unknown): string {
  if (err && typeof err === "object" && "body" in err) {
    const body = (err as { body: unknown }).body;
    try {
      const parsed =
        typeof body === "string"
          ? (JSON.parse(body) as { message?: string })
          : (body as { message?: string });
      if (parsed?.message) return `${apiStatus(err)}: ${parsed.message}`;
    } catch {
      // body was not JSON; fall through to the error's own message
    }
  }
  return err instanceof Error ? err.message : String(err);
}
