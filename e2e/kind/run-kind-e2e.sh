#!/usr/bin/env bash
# npm run e2e:kind: the same e2e suite on a kind cluster (for machines that can pull kind's node image).
#   1. installs kind from the Go module proxy (cached by version) unless one is on PATH
#   2. creates the kind cluster from e2e/kind/kind-config.yaml (reused when it exists)
#   3. installs metrics-server from the locally built binary
#   4. builds the project's images and `kind load`s them
#   5. runs vitest --project e2e with KUBECONFIG pointing at the kind cluster
# --delete removes the cluster afterwards. Needs a running Docker engine with its normal networking.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$REPO_ROOT"
source cluster/images/common.sh

KIND_VERSION="${KIND_VERSION:-v0.33.0}"
CLUSTER_NAME="${IDFLEET_KIND_CLUSTER:-idfleet}"
CACHE_ROOT="${IDFLEET_CACHE:-$HOME/.cache/idfleet}"
KUBECONFIG_FILE="$WORK_DIR/kind-$CLUSTER_NAME.kubeconfig"
DELETE_AFTER=0
[ "${1:-}" = "--delete" ] && DELETE_AFTER=1
log() { printf '[e2e:kind] %s\n' "$*" >&2; }

if command -v kind >/dev/null; then
  KIND="$(command -v kind)"
else
  KIND="$CACHE_ROOT/kind-$KIND_VERSION/kind"
  if [ ! -x "$KIND" ]; then
    log "installing kind $KIND_VERSION from the Go module proxy"
    GOBIN="$(dirname "$KIND")" go install "sigs.k8s.io/kind@$KIND_VERSION"
  fi
fi
export PATH="$(dirname "$KIND"):$PATH"
if ! "$DOCKER" info >/dev/null 2>&1; then
  log "FAILED: kind needs a running Docker engine (with bridge networking and iptables); start one first"
  exit 1
fi

BIN_DIR="$(bash cluster/build-binaries.sh)"
export IDFLEET_KUBECTL="${IDFLEET_KUBECTL:-$BIN_DIR/kubectl}"

if ! "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "creating kind cluster $CLUSTER_NAME (log: $LOG_DIR/kind-create.log)"
  run_logged "kind create cluster" "$LOG_DIR/kind-create.log" \
    "$KIND" create cluster --name "$CLUSTER_NAME" --config e2e/kind/kind-config.yaml --kubeconfig "$KUBECONFIG_FILE" --wait 180s
else
  "$KIND" get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_FILE"
fi
export KUBECONFIG="$KUBECONFIG_FILE"

# metrics-server image from the binary we built: FROM scratch, loaded like the project's images.
MS_IMAGE="idfleet.local/metrics-server:$(basename "$(dirname "$BIN_DIR")" | sed 's/.*-ms-//')"
if ! image_present "$MS_IMAGE"; then
  ctx="$(mktemp -d)"
  cp "$BIN_DIR/metrics-server" "$ctx/metrics-server"
  printf 'FROM scratch\nCOPY metrics-server /metrics-server\nUSER 1000:1000\nENTRYPOINT ["/metrics-server"]\n' >"$ctx/Dockerfile"
  run_logged "docker build $MS_IMAGE" "$LOG_DIR/images.log" "$DOCKER" build --network none -t "$MS_IMAGE" "$ctx"
  rm -rf "$ctx"
fi
run_logged "kind load $MS_IMAGE" "$LOG_DIR/images.log" "$KIND" load docker-image --name "$CLUSTER_NAME" "$MS_IMAGE"
sed "s#METRICS_SERVER_IMAGE#$MS_IMAGE#" e2e/kind/metrics-server.yaml | "$IDFLEET_KUBECTL" apply --server-side -f - >/dev/null
"$IDFLEET_KUBECTL" wait apiservice/v1beta1.metrics.k8s.io --for=condition=Available --timeout=180s >/dev/null

bash cluster/images/build-images.sh --load kind --kind-cluster "$CLUSTER_NAME"
if ls crds/*.yaml >/dev/null 2>&1; then "$IDFLEET_KUBECTL" apply --server-side -f crds/ >/dev/null; fi

status=0
vitest run --project e2e || status=$?
if [ "$DELETE_AFTER" = 1 ]; then "$KIND" delete cluster --name "$CLUSTER_NAME"; fi
exit "$status"
