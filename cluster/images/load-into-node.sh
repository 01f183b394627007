#!/usr/bin/env bash
# Loads docker images into the local cluster node's containerd (namespace k8s.io), only where the node
# does not already hold that exact content under that name. The docker image ID is the digest of the
# image's config, which `docker save | ctr import` keeps, so a name whose manifest names that config
# digest holds the same image:
#   - the name is there with that content: nothing to do;
#   - the content is there under another name (the CRI keeps every image as sha256:<image id> too; an
#     unchanged image under a new commit's tag): the name is pointed at it (ctr images tag, instant);
#   - otherwise: docker save | ctr import (10-20 s for a product image).
# A name holding other content (rebuilt sources, same tag) is always replaced.
# usage: load-into-node.sh IMAGE...
set -euo pipefail
source "$(dirname "$0")/common.sh"
SOCKET="${IDFLEET_CONTAINERD_SOCKET:-$IDFLEET_TMP/cluster/containerd/containerd.sock}"
[ -S "$SOCKET" ] || { img_log "no node containerd at $SOCKET: run npm run cluster:up"; exit 1; }
node_ctr() { ctr --address "$SOCKET" -n k8s.io "$@"; }

# docker's short names as containerd stores them: idfleet/x:1 -> docker.io/idfleet/x:1, node:24 ->
# docker.io/library/node:24; a first component with a dot or port, or localhost, is a registry.
containerd_name() {
  local image="$1" first="${1%%/*}"
  if [[ "$image" != */* ]]; then
    echo "docker.io/library/$image"
  elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then
    echo "$image"
  else
    echo "docker.io/$image"
  fi
}

# node_holds NAME ID: the node has NAME and its manifest's config is ID.
node_holds() {
  local manifest
  manifest="$(node_ctr images ls "name==$1" 2>/dev/null | awk 'NR > 1 { print $3 }')"
  [ -n "$manifest" ] && node_ctr content get "$manifest" 2>/dev/null | grep -q "\"digest\":\"$2\""
}

for image in "$@"; do
  id="$("$DOCKER" image inspect -f '{{.Id}}' "$image")"
  name="$(containerd_name "$image")"
  if node_holds "$name" "$id"; then
    img_log "unchanged in the node: $image (${id:7:12})"
    continue
  fi
  if node_holds "$id" "$id" && node_ctr images tag --force "$id" "$name" >>"$LOG_DIR/images.log" 2>&1 \
    && node_holds "$name" "$id"; then
    img_log "tagged in the node: $image (same content as an image already there, ${id:7:12})"
    continue
  fi
  if ! "$DOCKER" save "$image" | node_ctr images import - >>"$LOG_DIR/images.log" 2>&1; then
    img_log "FAILED: loading $image into the node (log: $LOG_DIR/images.log)"
    tail -n 20 "$LOG_DIR/images.log" >&2
    exit 1
  fi
  node_holds "$name" "$id" || { img_log "FAILED: $name in the node is not image ${id:7:12} after the import"; exit 1; }
  img_log "loaded $image into the node (${id:7:12})"
done
