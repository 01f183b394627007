/**
 * Lists of the objects the operator applies that the API server merges entry by entry under
 * server-side apply (`x-kubernetes-list-type: map` with a single key), by path with `[]` for
 * "any element", mapped to their key field. Entries other field managers add to such a list
 * (a sidecar, an env var, a volume) belong to them: an apply of ours neither removes them nor
 * conflicts with them, so they must not make the live object look out of date.
 *
 * Lists not named here are compared element by element. That is always safe (at worst a
 * needless apply); naming an atomic list here would hide a foreign entry the next apply would
 * remove, so only lists the API server really merges by key belong here.
 */
export const LIST_MAP_KEYS: Readonly<Record<string, string>> = {
  "spec.template.spec.containers": "name",
  "spec.template.spec.initContainers": "name",
  "spec.template.spec.containers[].env": "name",
  "spec.template.spec.initContainers[].env": "name",
  "spec.template.spec.containers[].volumeMounts": "mountPath",
  "spec.template.spec.initContainers[].volumeMounts": "mountPath",
  "spec.template.spec.volumes": "name",
  "spec.template.spec.imagePullSecrets": "name",
};

/** The key field of the list at `path` when server-side apply merges it by key, else undefined. */
export function listMapKey(path: string): string | undefined {
  return LIST_MAP_KEYS[path];
}
