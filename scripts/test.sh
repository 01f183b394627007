#!/usr/bin/env bash
# `npm test`: every check the project has, fastest-failing first. On a fresh machine it installs what
# it needs (Debian packages with apt-get, Kubernetes binaries from the Go module proxy, cached under
# ~/.cache/idfleet), starts the real control plane and the local cluster, and runs every suite.
# With CI=true the local cluster is removed at the end; otherwise it is left running for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."

source "$(pwd)/scripts/step-timings.sh"
# The project's own Node 24 first, also when the script is run without npm.
export PATH="$PWD/node_modules/.bin:$PATH"
summary() {
  local rc=$?
  printf '\n== timings\n' >&2
  print_timings
  if [ "${CI:-}" = "true" ]; then npm run --silent cluster:down || true; fi
  if [ "$rc" -ne 0 ]; then print_failures; fi
  if [ "$rc" -ne 0 ]; then printf '\nFAILED (exit %s): logs are under /tmp/idfleet/logs\n' "$rc" >&2; fi
  exit "$rc"
}
trap summary EXIT

step "lint" npm run --silent lint
step "typecheck" npm run --silent typecheck
step "unit tests" npm run --silent test:unit
step "host packages" bash cluster/install-host-deps.sh
step "NTP server for tests" npm run --silent test:deps
step "kubernetes binaries" bash cluster/build-binaries.sh
step "integration tests" npm run --silent test:integration
step "end-to-end tests" npm run --silent test:e2e
