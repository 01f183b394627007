# Sourced by the top-level scripts: `step NAME CMD...` runs CMD under a heading and records how long
# it took; `print_timings` lists every step's duration.
timings=()
step() {
  local name="$1"
  shift
  printf '\n\033[1m== %s\033[0m\n' "$name" >&2
  local start
  start=$(date +%s)
  "$@"
  timings+=("$(printf '%-28s %5ss' "$name" "$(($(date +%s) - start))")")
}
print_timings() {
  printf '%s\n' "${timings[@]}" >&2
}
