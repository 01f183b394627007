import { createHash } from "node:crypto";
import { listMapKey } from "./list-map-keys.ts";

/** Annotation holding the hash of the last applied desired state, so removed fields are noticed too. */
export const APPLIED_HASH_ANNOTATION = "idfleet.dev/applied-hash";

type Json = unknown;

/** Any Kubernetes object, as far as the applied-hash annotation is concerned. */
export interface Annotated {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

/** Canonical JSON (sorted keys) of a value, so equal objects hash equally. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, Json>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value);
}

/** Short content hash of a desired object. */
export function desiredHash(desired: Json): string {
  return createHash("sha256").update(canonical(desired)).digest("hex").slice(0, 16);
}

/**
 * True when every field of `desired` is present in `live` with the same value. Fields the API
 * server or other managers add are ignored; they are not ours. Lists match element by element,
 * except lists server-side apply merges by key (list-map-keys.ts): there each desired entry must
 * be present under its key, and entries other managers added are theirs.
 */
export function containsDesired(live: Json, desired: Json, path = ""): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return false;
    const element = `${path}[]`;
    const key = listMapKey(path);
    if (key !== undefined) {
      return desired.every((d) => {
        const id = (d as Record<string, Json> | null)?.[key];
        const match = live.find((l) => id !== undefined && (l as Record<string, Json> | null)?.[key] === id);
        return match !== undefined && containsDesired(match, d, element);
      });
    }
    return live.length === desired.length && desired.every((d, i) => containsDesired(live[i], d, element));
  }
  if (desired && typeof desired === "object") {
    if (!live || typeof live !== "object") return false;
    return Object.entries(desired as Record<string, Json>).every(([k, v]) =>
      containsDesired((live as Record<string, Json>)[k], v, path ? `${path}.${k}` : k),
    );
  }
  return live === desired;
}

/** Adds the applied-hash annotation to a desired object (hash computed without it). */
export function withAppliedHash<T extends Annotated>(desired: T): T {
  const hash = desiredHash(desired);
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...desired.metadata?.annotations, [APPLIED_HASH_ANNOTATION]: hash },
    },
  };
}

// Objects listed through typed clients come without apiVersion and kind; the cache key already implies them.
function withoutTypeMeta(obj: Annotated): Annotated {
  const { apiVersion: _a, kind: _k, ...rest } = obj as Annotated & { apiVersion?: string; kind?: string };
  return rest;
}

/**
 * True when applying `desired` (already carrying its hash) would change nothing we own:
 * the live object carries the same hash (no field of ours was dropped since) and still
 * holds every field we want (nobody changed one of ours).
 */
export function isUpToDate(live: Json, desired: Annotated): boolean {
  const liveHash = (live as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata
    ?.annotations?.[APPLIED_HASH_ANNOTATION];
  return (
    liveHash !== undefined &&
    liveHash === desired.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] &&
    containsDesired(live, withoutTypeMeta(desired))
  );
}
