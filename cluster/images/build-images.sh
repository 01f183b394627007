#!/usr/bin/env bash
# Builds the images the e2e suite runs and loads them into the cluster:
#   - the Node base (public node:24-bookworm-slim, or a locally built equivalent; build-base-image.sh)
#   - idfleet/e2e-smoke (cluster/images/smoke), always
#   - idfleet/generator and idfleet/operator from Dockerfile.generator / Dockerfile.operator, when present
# and writes their names to e2e/.work/images.json (+ images.env) for the suite.
# usage: build-images.sh [--load local|kind|none] [--kind-cluster NAME]
#   --load local  docker save | ctr import into the local cluster's node (default when it is up)
#   --load kind   kind load docker-image into the kind cluster NAME (default idfleet)
set -euo pipefail
source "$(dirname "$0")/common.sh"

LOADER="${IDFLEET_IMAGE_LOADER:-auto}"
KIND_CLUSTER="${IDFLEET_KIND_CLUSTER:-idfleet}"
while [ $# -gt 0 ]; do
  case "$1" in
    --load) LOADER="$2"; shift 2 ;;
    --kind-cluster) KIND_CLUSTER="$2"; shift 2 ;;
    *) img_log "unknown argument $1"; exit 2 ;;
  esac
done
if [ "$LOADER" = auto ]; then
  if [ -S "$IDFLEET_TMP/cluster/containerd/containerd.sock" ]; then LOADER=local; else LOADER=none; fi
fi
logfile="$LOG_DIR/images.log"
start=$(date +%s)

bash "$(dirname "$0")/ensure-dockerd.sh"
BASE="$(bash "$(dirname "$0")/build-base-image.sh")"
img_log "base image: $BASE"

# Versioned tags, never :latest: package version + commit, plus a content hash for uncommitted changes.
version="$(node -p 'require(process.argv[1]).version' "$REPO_ROOT/package.json" 2>/dev/null || echo 0.0.0)"
if sha="$(git -C "$REPO_ROOT" rev-parse --short=10 HEAD 2>/dev/null)"; then
  if [ -n "$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null)" ]; then
    dirty="$( (git -C "$REPO_ROOT" diff HEAD; git -C "$REPO_ROOT" ls-files -z --others --exclude-standard \
      | (cd "$REPO_ROOT" && xargs -0 -r cat)) | sha256sum | cut -c1-8)"
    TAG="$version-$sha-dirty-$dirty"
  else
    TAG="$version-$sha"
  fi
else
  TAG="$version"
fi

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# Always asks docker to build: with nothing changed every step is a cache hit (under a second) and the
# image ID stays the same, so the tag can never keep content older than the Dockerfile, the sources or
# the base it was meant to be built from. Loading into the node then compares image IDs (load-into-node.sh).
build() { # build IMAGE CONTEXT DOCKERFILE
  local image="$1" context="$2" dockerfile="$3" before after
  before="$(image_id "$image")"
  # --network host: the build stage's `npm ci` reaches the npm registry the way this machine does.
  run_logged "docker build $image ($dockerfile)" "$logfile" "$DOCKER" build --network host \
    --build-arg "BASE_IMAGE=$BASE" --build-arg "BUILD_IMAGE=$BASE" --build-arg "RUNTIME_IMAGE=$BASE" \
    -f "$dockerfile" -t "$image" "$context"
  after="$(image_id "$image")"
  if [ "$before" = "$after" ]; then
    img_log "unchanged: $image (${after:7:12})"
  else
    img_log "built $image (${after:7:12})"
  fi
}

smoke_dir="$REPO_ROOT/cluster/images/smoke"
smoke_tag="$( (cat "$smoke_dir/Dockerfile" "$smoke_dir/server.mjs"; echo "$BASE") | sha256sum | cut -c1-12)"
SMOKE="idfleet/e2e-smoke:$smoke_tag"
build "$SMOKE" "$smoke_dir" "$smoke_dir/Dockerfile"
images=("$SMOKE")
# The product images, from Dockerfile.<component> at the repo root once the other halves add them.
declare -A PRODUCT=([generator]="" [operator]="")
for component in generator operator; do
  if [ -f "$REPO_ROOT/Dockerfile.$component" ]; then
    PRODUCT[$component]="idfleet/$component:$TAG"
    build "${PRODUCT[$component]}" "$REPO_ROOT" "$REPO_ROOT/Dockerfile.$component"
    images+=("${PRODUCT[$component]}")
  else
    img_log "no Dockerfile.$component yet: skipping the $component image"
  fi
done
GENERATOR="${PRODUCT[generator]}"
OPERATOR="${PRODUCT[operator]}"

# Every commit gets its own tag, and a product image whose content changed is ~360 MB, so docker drops
# this repository's older tags once their image is over two hours old (younger ones may belong to another
# checkout building right now). Untagging an image the current tag shares removes nothing. The node's
# copies are left to the kubelet's image garbage collection, which knows what running pods use.
prune_old_tags() {
  local image repo old created cutoff
  cutoff=$(( $(date +%s) - 7200 ))
  for image in "${images[@]}"; do
    repo="${image%:*}"
    "$DOCKER" images --format '{{.Repository}}:{{.Tag}}' "$repo" | while read -r old; do
      [ "$old" = "$image" ] && continue
      created="$("$DOCKER" image inspect -f '{{.Created}}' "$old" 2>/dev/null)" || continue
      [ "$(date -d "$created" +%s)" -lt "$cutoff" ] || continue
      if "$DOCKER" rmi "$old" >>"$logfile" 2>&1; then img_log "removed old tag $old"; fi
    done
  done
}
prune_old_tags

case "$LOADER" in
  local) bash "$(dirname "$0")/load-into-node.sh" "${images[@]}" ;;
  kind)
    for image in "${images[@]}"; do
      run_logged "kind load $image" "$logfile" kind load docker-image --name "$KIND_CLUSTER" "$image"
      img_log "loaded $image into kind cluster $KIND_CLUSTER"
    done
    ;;
  none) img_log "not loading images into any cluster" ;;
  *) img_log "unknown loader $LOADER (local|kind|none)"; exit 2 ;;
esac

json_or_null() { if [ -n "$1" ]; then printf '"%s"' "$1"; else printf null; fi; }
cat >"$WORK_DIR/images.json" <<JSON
{
  "base": "$BASE",
  "smoke": "$SMOKE",
  "generator": $(json_or_null "$GENERATOR"),
  "operator": $(json_or_null "$OPERATOR"),
  "loader": "$LOADER"
}
JSON
cat >"$WORK_DIR/images.env" <<ENV
IDFLEET_IMAGE_BASE=$BASE
IDFLEET_IMAGE_SMOKE=$SMOKE
IDFLEET_IMAGE_GENERATOR=$GENERATOR
IDFLEET_IMAGE_OPERATOR=$OPERATOR
ENV
img_log "images ready in $(( $(date +%s) - start ))s: $WORK_DIR/images.json"
