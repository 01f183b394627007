#!/usr/bin/env bash
# Prints the Node.js base image the project's images build on. Uses the public node:24-bookworm-slim
# when it is local or can be pulled; otherwise builds (once, then reuses) a local equivalent:
# Debian bookworm (debootstrap --variant=minbase from this machine's configured Debian mirror) + the
# project's own Node binary (node_modules/node) + npm from the npm registry.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PUBLIC_BASE="${IDFLEET_PUBLIC_BASE_IMAGE:-node:24-bookworm-slim}"
NODE_BIN="$REPO_ROOT/node_modules/node/bin/node"
[ -x "$NODE_BIN" ] || { img_log "FAILED: $NODE_BIN missing: run npm ci first"; exit 1; }
NODE_VERSION="$("$NODE_BIN" --version)"
NODE_VERSION="${NODE_VERSION#v}"
LOCAL_BASE="idfleet.local/node:$NODE_VERSION-bookworm"
logfile="$LOG_DIR/base-image.log"

if [ -n "${IDFLEET_BASE_IMAGE:-}" ]; then echo "$IDFLEET_BASE_IMAGE"; exit 0; fi
if image_present "$PUBLIC_BASE"; then echo "$PUBLIC_BASE"; exit 0; fi
if image_present "$LOCAL_BASE"; then echo "$LOCAL_BASE"; exit 0; fi
if [ "${IDFLEET_TRY_PUBLIC_PULL:-1}" = 1 ] && timeout 60 "$DOCKER" pull "$PUBLIC_BASE" >>"$logfile" 2>&1; then
  echo "$PUBLIC_BASE"
  exit 0
fi
img_log "public $PUBLIC_BASE cannot be pulled: building $LOCAL_BASE (log: $logfile)"

# The Debian mirror this machine's apt already uses (deb822 "URIs:" or one-line "deb URI bookworm").
mirror="${IDFLEET_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' || true)"
fi
if [ -z "$mirror" ]; then
  mirror="$(awk '/^URIs:/ {uri=$2} /^Suites:/ && / bookworm( |$)/ && uri !~ /security/ {print uri; exit}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
fi
[ -n "$mirror" ] || { img_log "FAILED: no Debian bookworm mirror in /etc/apt/sources.list*; set IDFLEET_DEBIAN_MIRROR"; exit 1; }
command -v debootstrap >/dev/null || { img_log "FAILED: debootstrap missing: run bash cluster/install-host-deps.sh"; exit 1; }

work="$(mktemp -d "$IDFLEET_TMP/base-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
start=$(date +%s)
run_logged "debootstrap bookworm from $mirror" "$logfile" \
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror"

# Node from the project's own npm dependency, npm from the npm registry.
install -D -m 0755 "$NODE_BIN" "$rootfs/usr/local/bin/node"
npm_tgz="$(cd "$work" && npm pack "npm@${IDFLEET_BASE_NPM_VERSION:-11}" --silent 2>>"$logfile" | tail -n1)"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# Trust what this machine trusts (a registry behind a TLS-inspecting proxy needs its CA for `npm ci`).
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
# The same unprivileged user as the official image: node, uid/gid 1000.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# Slim it like the -slim image: no apt lists, docs or caches.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

run_logged "docker import $LOCAL_BASE" "$logfile" sh -c "tar -C '$rootfs' -c . | '$DOCKER' import \
  --change 'ENV NODE_VERSION=$NODE_VERSION' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD [\"node\"]' - '$LOCAL_BASE'"
"$DOCKER" run --rm --network none "$LOCAL_BASE" node -e 'process.exit(process.versions.node ? 0 : 1)' >>"$logfile" 2>&1 \
  || { img_log "FAILED: $LOCAL_BASE does not run node"; tail -n 20 "$logfile" >&2; exit 1; }
img_log "built $LOCAL_BASE in $(( $(date +%s) - start ))s"
echo "$LOCAL_BASE"
