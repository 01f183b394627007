#!/usr/bin/env bash
# `npm run up`: the main job on this machine. Installs what is missing (npm packages, Debian packages,
# Kubernetes binaries, all cached), brings up the local single-node cluster, builds and loads the images,
# installs the operator, applies config/samples/idfleet-sample.yaml (autoscaling on) into the namespace
# idfleet-demo (IDFLEET_DEMO_NAMESPACE), waits until the fleet is Ready, fetches IDs through its Service
# and prints them decoded, then `kubectl get idfleets -A` and what to try next. Safe to run again: every
# step leaves what is already there alone. `npm run down` removes it all.
set -euo pipefail
cd "$(dirname "$0")/.."

source "$(pwd)/scripts/step-timings.sh"
# The project's own Node 24 first, also when the script is run without npm.
export PATH="$PWD/node_modules/.bin:$PATH"
started=$(date +%s)
trap 'rc=$?; [ "$rc" -eq 0 ] || printf "\nnpm run up FAILED (exit %s): logs are under %s/logs\n" "$rc" "${IDFLEET_TMP:-/tmp/idfleet}" >&2' EXIT

# The project's own Node 24 (npm scripts put node_modules/.bin first on PATH).
if [ ! -x node_modules/.bin/node ]; then step "npm packages" npm ci; fi
step "host packages" bash cluster/install-host-deps.sh
step "kubernetes binaries" bash -c 'bash cluster/build-binaries.sh >/dev/null'
step "cluster" node cluster/cluster-up.ts
step "images" bash cluster/images/build-images.sh --load local
export KUBECONFIG="${IDFLEET_TMP:-/tmp/idfleet}/cluster/kubeconfig/admin.kubeconfig"
step "operator + sample fleet" node scripts/demo-fleet.ts up

printf '\n== npm run up took %ss\n' "$(($(date +%s) - started))" >&2
print_timings
