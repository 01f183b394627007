#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image from Kubernetes' own build/pause/linux/pause.c, found in the
# Go module cache, compiled static, FROM scratch. Prints the image reference.
set -euo pipefail
source "$(dirname "$0")/common.sh"

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
PAUSE_TAG="${PAUSE_TAG:-3.10.1}"
IMAGE="idfleet.local/pause:$PAUSE_TAG-k8s-$K8S_VERSION"

if image_present "$IMAGE"; then
  echo "$IMAGE"
  exit 0
fi
moddir="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION"
if [ ! -f "$moddir/build/pause/linux/pause.c" ]; then
  (cd "$(mktemp -d)" && go mod download "k8s.io/kubernetes@$K8S_VERSION")
fi
src="$moddir/build/pause/linux/pause.c"
[ -f "$src" ] || { img_log "FAILED: $src not found after go mod download"; exit 1; }
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-idfleet" -o "$ctx/pause" "$src"
strip "$ctx/pause"
printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
run_logged "docker build $IMAGE" "$LOG_DIR/images.log" "$DOCKER" build --network none -t "$IMAGE" "$ctx"
img_log "built $IMAGE"
echo "$IMAGE"
