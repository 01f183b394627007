#!/usr/bin/env bash
# Builds etcd, the Kubernetes components and metrics-server from the Go module proxy.
# Output is cached outside the repo, keyed by version, and reused when present.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.15.0}"
CACHE_ROOT="${IDFLEET_CACHE:-$HOME/.cache/idfleet}"
BIN_DIR="$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-ms-$METRICS_SERVER_VERSION/bin"
# CoreDNS has its own cache key (added later; the main key stays valid) and is linked into BIN_DIR.
COREDNS_DIR="$CACHE_ROOT/coredns-$COREDNS_VERSION"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { printf '[build-binaries] %s\n' "$*" >&2; }

all_present() {
  for b in "${K8S_BINARIES[@]}" etcd metrics-server coredns; do
    [ -x "$BIN_DIR/$b" ] || return 1
  done
}

if [ "${1:-}" = "--print-bin-dir" ]; then
  echo "$BIN_DIR"
  exit 0
fi

if all_present; then
  log "cached: $BIN_DIR"
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { log "go is required (Go 1.24+) to build test infrastructure"; exit 1; }
mkdir -p "$BIN_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
start=$(date +%s)

# --- etcd: its own wrapper module, because it pins its own dependency versions ---
if [ ! -x "$BIN_DIR/etcd" ]; then
  log "building etcd $ETCD_VERSION"
  mkdir -p "$WORK/etcd"
  cat >"$WORK/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$WORK/etcd" && go mod init idfleet.local/etcd >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null \
    && go mod tidy >/dev/null \
    && go build -trimpath -o "$BIN_DIR/etcd.tmp" . && mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd")
fi

# --- kubernetes: wrapper module replacing every staging module with v0.X.Y ---
k8s_missing=0
for b in "${K8S_BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || k8s_missing=1; done
if [ "$k8s_missing" = 1 ]; then
  log "building kubernetes $K8S_VERSION (${K8S_BINARIES[*]})"
  staging_version="v0.${K8S_VERSION#v1.}"
  mkdir -p "$WORK/k8s"
  cd "$WORK/k8s"
  go mod init idfleet.local/k8s >/dev/null 2>&1
  gomod_path="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$gomod_path" ] || { log "could not download k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
  # Derive the staging modules from the release's own go.mod (replace => ./staging/...).
  mapfile -t staging < <(grep -E '=> \./staging/' "$gomod_path" | awk '{print $1}' | sort -u)
  [ "${#staging[@]}" -gt 10 ] || { log "found only ${#staging[@]} staging modules in $gomod_path"; exit 1; }
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    for m in "${staging[@]}"; do echo "replace $m => $m $staging_version"; done
  } >>go.mod
  cat >tools.go <<GO
//go:build tools

package tools

import (
$(for b in "${K8S_BINARIES[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done)
)
GO
  go mod tidy >/dev/null 2>&1 || go mod tidy
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  pkgs=()
  for b in "${K8S_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  mkdir -p "$WORK/out"
  go build -trimpath -ldflags "$ldflags" -o "$WORK/out/" "${pkgs[@]}"
  for b in "${K8S_BINARIES[@]}"; do mv "$WORK/out/$b" "$BIN_DIR/$b"; done
  cd - >/dev/null
fi

# --- metrics-server ---
if [ ! -x "$BIN_DIR/metrics-server" ]; then
  log "building metrics-server $METRICS_SERVER_VERSION"
  # The checksum database has no entry for some metrics-server tags (404 from sum.golang.org);
  # the module proxy still serves them, so skip only that module's sumdb lookup.
  GONOSUMDB=sigs.k8s.io/metrics-server GOBIN="$WORK/gobin" go install "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
  mv "$WORK/gobin/metrics-server" "$BIN_DIR/metrics-server"
fi

# --- coredns (in-cluster DNS, run as a host process by the local cluster) ---
if [ ! -x "$COREDNS_DIR/coredns" ]; then
  log "building coredns $COREDNS_VERSION"
  mkdir -p "$COREDNS_DIR"
  GOBIN="$WORK/gobin" go install "github.com/coredns/coredns@$COREDNS_VERSION"
  mv "$WORK/gobin/coredns" "$COREDNS_DIR/coredns"
fi
ln -sfn "$COREDNS_DIR/coredns" "$BIN_DIR/coredns"

log "done in $(( $(date +%s) - start ))s: $BIN_DIR"
echo "$BIN_DIR"
