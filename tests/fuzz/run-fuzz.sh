#!/bin/sh
# gst-hart — runs every libFuzzer target on its corpus for a bounded time.
#
#   tests/fuzz/run-fuzz.sh BUILD_DIR [SECONDS] [TARGET…]
#
# BUILD_DIR is a build configured with -Dfuzzing=true (see .ci/fuzz).  Each
# target starts from its committed seeds (tests/fuzz/corpus/<target>/) plus
# what earlier runs found (BUILD_DIR/fuzz-corpus/<target>/, where new inputs
# go, so the committed corpus is never written to).  A crash, a leak, a
# timeout (10 s per input), an out-of-memory (2 GB) or a UBSan report fails
# the run; the input is saved under BUILD_DIR/fuzz-artifacts/ and the log
# under BUILD_DIR/fuzz-logs/.  Prints executions per target.
#
# -max_len: libFuzzer reads every seed cut to -max_len, and without the
# option takes the largest seed but at most 1 MiB.  The JSON-facing targets
# get FUZZ_JSON_MAX_LEN (default 4 MiB) so the >1 MiB safetensors header
# and the 100,000-deep seeds of make-seeds.py arrive whole and mutations may
# grow past them (-len_control still starts mutations short); the others
# keep libFuzzer's default.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS] [TARGET…]}" && pwd)
SECONDS_EACH=${2:-20}
[ $# -ge 2 ] && shift 2 || shift $#
TARGETS=${*:-safetensors safetensors-index torchzip pickle config tokenizer-json prompt tokens draws}
JSON_MAX_LEN=${FUZZ_JSON_MAX_LEN:-4194304}

ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:allocator_may_return_null=1
LSAN_OPTIONS=suppressions=$HERE/../lsan.supp:print_suppressions=0
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
HART_NUM_THREADS=1
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS HART_NUM_THREADS

mkdir -p "$BUILD/fuzz-logs" "$BUILD/fuzz-artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hart-fuzz-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

failed=
printf '%-18s %10s %8s %6s %s\n' target executions exec/s cov result
for t in $TARGETS; do
  exe=$BUILD/tests/fuzz/fuzz-$t
  log=$BUILD/fuzz-logs/$t.log
  work=$BUILD/fuzz-corpus/$t
  mkdir -p "$work"
  if [ ! -x "$exe" ]; then
    echo "$t: $exe not built" >&2
    failed="$failed $t"
    continue
  fi
  case $t in
    config | tokenizer-json | safetensors | safetensors-index | draws)
      max_len=$JSON_MAX_LEN ;;
    *) max_len=0 ;;             # libFuzzer's default
  esac
  rc=0
  # TMPDIR: each target's scratch files live in a folder removed afterwards
  TMPDIR=$scratch "$exe" -max_total_time="$SECONDS_EACH" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 -max_len="$max_len" \
    -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
    "$work" "$HERE/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc, log $log)"
    failed="$failed $t"
  fi
  printf '%-18s %10s %8s %6s %s\n' "$t" "${execs:-?}" "${speed:-?}" \
    "${cov:-?}" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|runtime error|CRITICAL|SUMMARY|Test unit written' "$log" \
      | head -n 20 || true
  fi
done

if [ -n "$failed" ]; then
  echo "fuzzing failed:$failed" >&2
  exit 1
fi
