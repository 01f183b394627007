#!/usr/bin/env bash
# Installs the Debian packages the test cluster needs, only when some are missing.
# containerd/runc/CNI plugins run the node; docker.io builds the images; debootstrap builds
# the local base image when the public one cannot be pulled; gcc+libc6-dev compile the pause image;
# libfaketime is mounted into a generator pod by the chaos e2e run to skew its clock;
# prometheus brings promtool, which evaluates the alert rules in config/monitoring (its service
# is never started: the policy-rc.d guard below).
set -euo pipefail

PACKAGES=(
  containerd runc containernetworking-plugins docker.io
  iptables conntrack socat iproute2 util-linux ca-certificates
  openssl debootstrap gcc libc6-dev libfaketime prometheus
)

log() { printf '[install-host-deps] %s\n' "$*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  log "all present"
  exit 0
fi

[ "$(id -u)" = 0 ] || { log "run as root to install: ${missing[*]}"; exit 1; }
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends keeps docker.io from pulling in extras; policy-rc.d stops the
# package scripts from starting dockerd/containerd with their default configs (the cluster
# scripts start them with their own).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}"
log "done"
