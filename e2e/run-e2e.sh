#!/usr/bin/env bash
# npm run test:e2e: the e2e suite on the local cluster. Brings the cluster up when it is not (a running
# one is reused as is), builds the images and loads them into the node, then runs vitest --project e2e.
# The cluster is left running afterwards (npm run cluster:down removes it).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO_ROOT"
log() { printf '[test:e2e] %s\n' "$*" >&2; }

start=$(date +%s)
bash cluster/install-host-deps.sh
bash cluster/build-binaries.sh >/dev/null
node cluster/cluster-up.ts
bash cluster/images/build-images.sh --load local
log "cluster and images ready in $(( $(date +%s) - start ))s"
# Pods come and go during the suite and the kubelet deletes their logs with them; keep copies
# (under /tmp/idfleet/logs/pod-logs) so a failure can be read afterwards.
node cluster/pod-log-mirror.ts &
mirror=$!
trap 'kill "$mirror" 2>/dev/null; wait "$mirror" 2>/dev/null || true' EXIT
# The suite talks to whatever KUBECONFIG names; here, the local cluster's admin kubeconfig.
export KUBECONFIG="${IDFLEET_TMP:-/tmp/idfleet}/cluster/kubeconfig/admin.kubeconfig"
vitest run --project e2e "$@"
