#!/usr/bin/env bash
# Builds etcd (with etcdctl and etcdutl), the Kubernetes components, metrics-server and CoreDNS from the Go module proxy.
# Output is cached outside the repo, keyed by version, and reused when present.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
# metrics-server and CoreDNS are compiled in the Kubernetes wrapper module, against the same k8s.io
# modules, so the packages they share with the Kubernetes binaries (client-go, apiserver, ...) are
# compiled once. Pick releases built against a nearby Kubernetes minor: v0.8.0 uses 0.33, CoreDNS
# v1.14.0 uses 0.34 (v1.14.3+ moved to 0.35+). This halves a cold build on 2 cores.
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.0}"
CACHE_ROOT="${IDFLEET_CACHE:-$HOME/.cache/idfleet}"
BIN_DIR="$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-ms-$METRICS_SERVER_VERSION-coredns-$COREDNS_VERSION/bin"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
WRAPPED_BINARIES=("${K8S_BINARIES[@]}" metrics-server coredns)

log() { printf '[build-binaries] %s\n' "$*" >&2; }

# etcdctl saves a snapshot of the running etcd, etcdutl restores one (the chaos run's rollback fault).
ETCD_TOOLS=(etcdctl etcdutl)

all_present() {
  for b in "${WRAPPED_BINARIES[@]}" etcd "${ETCD_TOOLS[@]}"; do
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
# The checksum database has no entry for some metrics-server tags (404 from sum.golang.org);
# the module proxy still serves them, so skip only that module's sumdb lookup.
export GONOSUMDB="sigs.k8s.io/metrics-server"
# No symbol table or DWARF: these are test infrastructure, and linking eight large binaries
# without debug info takes a fraction of the time.
STRIP_LDFLAGS="-s -w"
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
    && go build -trimpath -ldflags "$STRIP_LDFLAGS" -o "$BIN_DIR/etcd.tmp" . && mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd")
  log "etcd built after $(( $(date +%s) - start ))s"
fi

# --- etcdctl and etcdutl: their own modules at the same release (a cache built before they were
# added gets only these two) ---
for tool in "${ETCD_TOOLS[@]}"; do
  [ -x "$BIN_DIR/$tool" ] && continue
  log "building $tool $ETCD_VERSION"
  mkdir -p "$WORK/$tool"
  (cd "$WORK/$tool" && go mod init "idfleet.local/$tool" >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/$tool/v3@$ETCD_VERSION" >/dev/null \
    && go build -trimpath -ldflags "$STRIP_LDFLAGS" -o "$BIN_DIR/$tool.tmp" "go.etcd.io/etcd/$tool/v3" \
    && mv "$BIN_DIR/$tool.tmp" "$BIN_DIR/$tool")
  log "$tool built after $(( $(date +%s) - start ))s"
done

# --- kubernetes, metrics-server, coredns: one wrapper module replacing every staging module with
# v0.X.Y, built by one `go build` so shared packages compile once ---
wrapped_missing=0
for b in "${WRAPPED_BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || wrapped_missing=1; done
if [ "$wrapped_missing" = 1 ]; then
  log "building kubernetes $K8S_VERSION (${K8S_BINARIES[*]}), metrics-server $METRICS_SERVER_VERSION, coredns $COREDNS_VERSION"
  staging_version="v0.${K8S_VERSION#v1.}"
  mkdir -p "$WORK/k8s/cmd/coredns"
  cd "$WORK/k8s"
  go mod init idfleet.local/k8s >/dev/null 2>&1
  gomod_path="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$gomod_path" ] || { log "could not download k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
  # Derive the staging modules from the release's own go.mod (replace => ./staging/...).
  mapfile -t staging < <(grep -E '=> \./staging/' "$gomod_path" | awk '{print $1}' | sort -u)
  [ "${#staging[@]}" -gt 10 ] || { log "found only ${#staging[@]} staging modules in $gomod_path"; exit 1; }
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "require sigs.k8s.io/metrics-server $METRICS_SERVER_VERSION"
    echo "require github.com/coredns/coredns $COREDNS_VERSION"
    for m in "${staging[@]}"; do echo "replace $m => $m $staging_version"; done
  } >>go.mod
  # CoreDNS with only the plugins the local cluster's Corefile uses (cluster/node-config.ts):
  # the full plugin set pulls in every cloud SDK and doubles the build.
  cat >cmd/coredns/main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/template"
)

func main() { coremain.Run() }
GO
  pkgs=()
  for b in "${K8S_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  pkgs+=("sigs.k8s.io/metrics-server/cmd/metrics-server" "./cmd/coredns")
  cat >tools.go <<GO
//go:build tools

package tools

import (
$(for p in "${pkgs[@]}"; do [ "$p" = ./cmd/coredns ] || echo "	_ \"$p\""; done)
)
GO
  go mod tidy >/dev/null 2>&1 || go mod tidy
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="$STRIP_LDFLAGS"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$WORK/out"
  go build -trimpath -ldflags "$ldflags" -o "$WORK/out/" "${pkgs[@]}"
  for b in "${WRAPPED_BINARIES[@]}"; do mv "$WORK/out/$b" "$BIN_DIR/$b"; done
  cd - >/dev/null
fi

log "done in $(( $(date +%s) - start ))s: $BIN_DIR"
echo "$BIN_DIR"
