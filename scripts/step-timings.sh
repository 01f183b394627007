# Sourced by the top-level scripts: `step NAME CMD...` runs CMD under a heading, records how long it
# took and keeps its output in $STEP_LOG_DIR/<name>.log; `print_timings` lists every step's duration;
# `print_failures` repeats the failing tests of the step that failed, so the last lines of a long CI
# log say what broke.
timings=()
failed_step_log=""
STEP_LOG_DIR="${IDFLEET_TMP:-/tmp/idfleet}/logs/steps"
step() {
  local name="$1"
  shift
  printf '\n\033[1m== %s\033[0m\n' "$name" >&2
  mkdir -p "$STEP_LOG_DIR"
  local log="$STEP_LOG_DIR/${name// /-}.log"
  local start
  start=$(date +%s)
  failed_step_log="$log"
  "$@" 2>&1 | tee "$log"
  failed_step_log=""
  timings+=("$(printf '%-28s %5ss' "$name" "$(($(date +%s) - start))")")
}
print_timings() {
  printf '%s\n' "${timings[@]}" >&2
}
print_failures() {
  [ -n "$failed_step_log" ] && [ -f "$failed_step_log" ] || return 0
  printf '\n== failing tests (full output: %s)\n' "$failed_step_log" >&2
  # vitest prints each failure as " FAIL  <file> > <test>" followed by the error; strip colours.
  sed 's/\x1b\[[0-9;]*m//g' "$failed_step_log" | grep -A4 -E '^ *FAIL ' | grep -v '^ *$' | head -60 >&2 || true
}
