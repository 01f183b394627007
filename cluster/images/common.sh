# Shared settings for the image scripts (sourced, not executed).
IDFLEET_TMP="${IDFLEET_TMP:-/tmp/idfleet}"
LOG_DIR="$IDFLEET_TMP/logs"
DOCKER_STATE_DIR="$IDFLEET_TMP/docker"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK_DIR="$REPO_ROOT/e2e/.work"
# Debian's docker client matches Debian's dockerd (20.10); a newer client on PATH would insist on buildx.
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
# The classic builder works offline once the base image is local; BuildKit-only Dockerfile syntax
# (RUN --mount, heredocs) is therefore not available to the project's Dockerfiles.
export DOCKER_BUILDKIT=0
mkdir -p "$LOG_DIR" "$WORK_DIR"

img_log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }

# Runs a command with its output in a log file; on failure names the step and prints the log's tail.
run_logged() {
  local step="$1" logfile="$2"
  shift 2
  if ! "$@" >>"$logfile" 2>&1; then
    img_log "FAILED: $step (log: $logfile)"
    tail -n 40 "$logfile" >&2
    return 1
  fi
}

image_present() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
