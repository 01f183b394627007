#!/usr/bin/env bash
# Loads docker images into the local cluster node's containerd (namespace k8s.io).
# usage: load-into-node.sh IMAGE...
set -euo pipefail
source "$(dirname "$0")/common.sh"
SOCKET="${IDFLEET_CONTAINERD_SOCKET:-$IDFLEET_TMP/cluster/containerd/containerd.sock}"
[ -S "$SOCKET" ] || { img_log "no node containerd at $SOCKET: run npm run cluster:up"; exit 1; }
for image in "$@"; do
  if ! "$DOCKER" save "$image" | ctr --address "$SOCKET" -n k8s.io images import - >>"$LOG_DIR/images.log" 2>&1; then
    img_log "FAILED: loading $image into the node (log: $LOG_DIR/images.log)"
    tail -n 20 "$LOG_DIR/images.log" >&2
    exit 1
  fi
  img_log "loaded $image into the node"
done
