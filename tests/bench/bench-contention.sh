#!/bin/sh
# gst-hart — throughput next to a busy process (issue #18, defect 3):
# `hart generate --frames 8` on the bundled model, quiet and next to one
# process that spins on a core, for one or more builds, interleaved so that
# every build sees the same machine.  Prints each run's wall time and the
# median per (build, condition).
# usage: tests/bench/bench-contention.sh REPS BUILD_DIR [BUILD_DIR…]
#   e.g. tests/bench/bench-contention.sh 5 ../wt-pool-old/build build
set -eu
reps=${1:?usage: $0 REPS BUILD_DIR...}
shift
out=$(mktemp -d)
trap 'rm -rf "$out"; [ -n "${busy:-}" ] && kill "$busy" 2> /dev/null || true' EXIT

run () { # BUILD CONDITION
  start=$(date +%s.%N)
  "$1/tools/hart" generate --frames 8 --seed-mode increment -q \
    -p "a red circle" -o "$out/x.png" 2> /dev/null
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc)
  echo "$1 $2 $t" | tee -a "$out/times"
}

for r in $(seq "$reps"); do
  for b in "$@"; do
    run "$b" quiet
  done
  sh -c 'while :; do :; done' &
  busy=$!
  sleep 0.2
  for b in "$@"; do
    run "$b" busy
  done
  kill "$busy"
  wait "$busy" 2> /dev/null || true
  busy=
done

echo "median of $reps (s):"
for b in "$@"; do
  for c in quiet busy; do
    m=$(awk -v b="$b" -v c="$c" '$1 == b && $2 == c { print $3 }' \
      "$out/times" | sort -n | awk '{ v[NR] = $1 } END {
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    echo "$b $c $m"
  done
done
