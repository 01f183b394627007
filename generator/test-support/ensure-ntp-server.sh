#!/usr/bin/env bash
# Installs chrony from Debian packages so the SNTP client tests can start a real NTP
# server on loopback. Idempotent: does nothing when chronyd is already installed.
# The package's own service is never started (the tests run their own chronyd with -x,
# which never touches the system clock).
set -euo pipefail

if command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-ntp-server: chronyd is missing and installing it needs root: run 'sudo apt-get install chrony'" >&2
  exit 1
fi

# Keep apt from starting the system chronyd (it would try to steer this machine's clock).
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' >"$guard"
  chmod 755 "$guard"
fi
cleanup() { if [ -n "$guard" ]; then rm -f "$guard"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chrony >/dev/null
echo "ensure-ntp-server: installed $(/usr/sbin/chronyd -v | head -1)"
