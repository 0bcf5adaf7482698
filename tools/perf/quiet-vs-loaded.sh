#!/usr/bin/env bash
# Wall time of example commands on a quiet machine and with every core kept busy by other processes
# (one `yes > /dev/null` per core), for one or more builds of the examples program. Prints one line per run:
#   rep<N> <quiet|loaded> <label> <command> <seconds>
# Usage: tools/perf/quiet-vs-loaded.sh [--reps N] LABEL=PATH/TO/CnnLstm.Examples [LABEL=...]
# Run it from the repository root (the examples read ../shared/data from there). docs/performance.md has the table
# it produced, comparing commit 13c509a (built in a separate worktree) with the thread policy.
set -euo pipefail
reps=2
if [ "${1:-}" = "--reps" ]; then reps=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [--reps N] LABEL=PATH/TO/CnnLstm.Examples ..." >&2; exit 2; }
cores=$(nproc)
run() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
for rep in $(seq 1 "$reps"); do
  for job in "regression" "sentiment --limit 2000"; do
    for build in "$@"; do
      label=${build%%=*}
      binary=${build#*=}
      # shellcheck disable=SC2086 # the job is a command and its arguments
      printf 'rep%s quiet  %s %s %.1f\n' "$rep" "$label" "$job" "$(run "$binary" $job)"
      pids=()
      for _ in $(seq 1 "$cores"); do yes >/dev/null & pids+=($!); done
      # shellcheck disable=SC2086
      printf 'rep%s loaded %s %s %.1f\n' "$rep" "$label" "$job" "$(run "$binary" $job)"
      kill "${pids[@]}"
      wait "${pids[@]}" 2>/dev/null || true
    done
  done
done
