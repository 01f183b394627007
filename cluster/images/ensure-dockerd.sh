#!/usr/bin/env bash
# Makes sure a Docker engine answers. Uses a running one when there is one; otherwise starts Debian's
# dockerd without its bridge or iptables rules (image builds use --network host), so it leaves no
# network state behind. `npm run cluster:down` stops a dockerd started here.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if "$DOCKER" info >/dev/null 2>&1; then
  exit 0
fi
command -v dockerd >/dev/null || { img_log "dockerd is missing: run bash cluster/install-host-deps.sh"; exit 1; }
mkdir -p "$DOCKER_STATE_DIR"
logfile="$LOG_DIR/dockerd.log"
img_log "starting dockerd (log: $logfile)"
setsid dockerd \
  --host unix:///var/run/docker.sock \
  --pidfile "$DOCKER_STATE_DIR/dockerd.pid" \
  --bridge=none --iptables=false --ip-masq=false --ip6tables=false --ip-forward=false \
  --storage-driver=overlay2 \
  >>"$logfile" 2>&1 </dev/null &
echo $! >"$DOCKER_STATE_DIR/started-by-idfleet.pid"
for _ in $(seq 1 120); do
  if "$DOCKER" info >/dev/null 2>&1; then
    img_log "dockerd is up"
    exit 0
  fi
  if ! kill -0 "$(cat "$DOCKER_STATE_DIR/started-by-idfleet.pid")" 2>/dev/null; then break; fi
  sleep 0.5
done
img_log "FAILED: dockerd did not come up (log: $logfile)"
tail -n 40 "$logfile" >&2
exit 1
