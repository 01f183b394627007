#!/usr/bin/env bash
# `npm run down`: undoes `npm run up`. Deletes the fleets (letting the operator finish their finalizers),
# the demo namespace and the operator install, then stops the local cluster (`npm run cluster:down`:
# every process, mount, iptables rule, network device and temp dir it created).
# --keep-cluster stops after the operator, leaving the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_cluster=false
[ "${1:-}" = "--keep-cluster" ] && keep_cluster=true

KUBECONFIG="${IDFLEET_TMP:-/tmp/idfleet}/cluster/kubeconfig/admin.kubeconfig"
export KUBECONFIG
if [ -f "$KUBECONFIG" ] && "$(bash cluster/build-binaries.sh --print-bin-dir)/kubectl" get --raw /readyz >/dev/null 2>&1; then
  node scripts/demo-fleet.ts down
else
  printf '[down] no running cluster: nothing to delete inside it\n' >&2
fi
if [ "$keep_cluster" = false ]; then node cluster/cluster-down.ts; fi
