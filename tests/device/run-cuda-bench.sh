#!/bin/bash
# gst-hart — the engine at real size on a GPU machine: parity, then timings
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   bash tests/device/run-cuda-bench.sh
#
# Run from anywhere on the GPU machine, with .devcuda/ (written by
# tests/device/pack-cuda-bundle.sh on the build machine) at the top of the
# source tree; needs the machine's Python with PyTorch and numpy (for the
# random real-size weights) and about 7 GB of disk.  Within CUDA_BENCH_BUDGET
# seconds in all (420), each step under `timeout`:
#   1. test-backend-ops test: every op case on the CPU and on CUDA against
#      its plain reference and the PyTorch goldens, and CUDA against the
#      CPU.  Parity first: without a usable CUDA device nothing follows; a
#      failed case is shown and the timings still run (this machine is lent
#      once), marked as timings of a backend that failed its parity
#   1b. with CUDA_BENCH_SANITIZE_OPS (comma-separated ops): those ops' cases
#      on CUDA under compute-sanitizer's memcheck
#   1c. with CUDA_BENCH_PERF_OPS: test-backend-ops perf of those ops on CUDA
#      (HART's shapes, GFLOP/s)
#   2. tests/bench/bench_real_size.py --device cuda: random weights of the
#      real width and depth of hart-0.7b-1024px (made once), then
#      `hart bench --ops` at CUDA_BENCH_SIZES (512,1024) in
#      CUDA_BENCH_PRECISION (fp32; a list such as fp32,bf16 compares them),
#      CUDA_BENCH_REPEAT generations (3; the first cold): per stage times
#      and, op by op, where they go and at what rate.  The per-op table
#      synchronises the GPU after each op (kernels/op-timing.h): its
#      generation time is an upper bound; the stage table of a run without
#      --ops is the figure to quote (CUDA_BENCH_OPS=0).
#   2b. with CUDA_BENCH_PLAIN_PRECISION (e.g. bf16): the same again in those
#      precisions without --ops: the stage times to quote; at each of
#      CUDA_BENCH_BATCHES images per generation (1; "1,8" adds batch 8's
#      images/s, to set beside the official code's batch 8).
#   2c. with CUDA_BENCH_CANDIDATES (NAME=VALUE words, e.g.
#      "HART_CUDA_ATTENTION=mma,gemm HART_CUDA_GROUP_NORM=split"): the same
#      in CUDA_BENCH_CANDIDATE_PRECISION (fp32,bf16) with those switches
#      set: the kernels not yet the default, timed end to end (their
#      parity: step 1 runs every case of theirs on CUDA).
#   3. with .official/ carried (tests/device/pack-official.sh), the
#      official code on the same card, weights and context
#      (tests/device/time_official.py): in each of OFFICIAL_PRECISIONS
#      ("fp16 fp32": sample.py's fp16 autocast, then fp32), batches
#      OFFICIAL_BATCHES (1,8; fp32 batch 1 only), OFFICIAL_REPEAT (3) runs;
#      step 2 leaves it OFFICIAL_RESERVE seconds (150) of the budget.
# The log is $OUT/cuda-bench.log ($OUT set by the device runner) or
# ./cuda-bench.log; it exits 0 whatever failed (the log says).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 0
OUT_DIR=${OUT:-$ROOT}
LOG="$OUT_DIR/cuda-bench.log"
BUDGET=${CUDA_BENCH_BUDGET:-420}
SIZES=${CUDA_BENCH_SIZES:-512,1024}
PRECISION=${CUDA_BENCH_PRECISION:-fp32}
REPEAT=${CUDA_BENCH_REPEAT:-3}
OPS=${CUDA_BENCH_OPS:-1}
OFFICIAL_PRECISIONS=${OFFICIAL_PRECISIONS:-fp16 fp32}
OFFICIAL_BATCHES=${OFFICIAL_BATCHES:-1,8}
OFFICIAL_REPEAT=${OFFICIAL_REPEAT:-3}
OFFICIAL_RESERVE=${OFFICIAL_RESERVE:-150}
SANITIZE_OPS=${CUDA_BENCH_SANITIZE_OPS:-}
PERF_OPS=${CUDA_BENCH_PERF_OPS:-}
PLAIN_PRECISION=${CUDA_BENCH_PLAIN_PRECISION:-}
CANDIDATES=${CUDA_BENCH_CANDIDATES:-}
CANDIDATE_PRECISION=${CUDA_BENCH_CANDIDATE_PRECISION:-fp32,bf16}
BATCHES=${CUDA_BENCH_BATCHES:-1}
START=$(date +%s)

# devcuda_setup, cuda_lib_dirs
# shellcheck source=tests/device/devcuda-env.sh
. "$ROOT/tests/device/devcuda-env.sh"

left () { echo $((START + BUDGET - $(date +%s))); }
# The seconds a step may take: what is left, at most $1; 0 when less than
# $2 is left (`timeout 0` would mean no limit)
limit () {
  local l
  l=$(left)
  [ "$l" -gt "$1" ] && l=$1
  [ "$l" -ge "$2" ] || l=0
  echo "$l"
}

# tests/bench/bench_real_size.py on CUDA at SIZES: LABEL, seconds to leave
# for later steps, precisions, NAME=VALUE words for its environment (may be
# empty), then its extra flags.  Fails (1) when the budget is spent.
real_size () {
  local label=$1 reserve=$2 precision=$3 env_words=$4 lim
  shift 4
  lim=$(limit $(($(left) - reserve)) 30)
  echo "=== $label (limit $lim s)"
  [ "$lim" -gt 0 ] || { echo "budget spent"; return 1; }
  # shellcheck disable=SC2086  # a list of NAME=VALUE words
  timeout -k 5 "$lim" env $env_words python3 "$ROOT/tests/bench/bench_real_size.py" \
    --hart "$BIN/hart" --device cuda --sizes "$SIZES" --precision "$precision" \
    --repeat "$REPEAT" --work "$WORK/real-size" "$@"
  echo "=== ${label%%.*}: rc $?, $(($(date +%s) - START)) s in all"
}

main () {
  local rc lim parity=passed
  echo "gst-hart CUDA bench: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -n)," \
    "budget ${BUDGET} s, sizes $SIZES, $PRECISION, repeat $REPEAT, ops $OPS"
  devcuda_setup || return
  timeout 10 nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv 2>&1

  echo "--- python: $(timeout 60 python3 -c 'import torch, numpy
torch.zeros(1).numpy()
print("torch", torch.__version__, "numpy", numpy.__version__)' 2>&1 | tail -n 1)"

  lim=$(limit 90 10)
  echo "=== 1. parity: test-backend-ops test (limit $lim s)"
  [ "$lim" -gt 0 ] || { echo "budget spent"; return; }
  timeout -k 3 "$lim" "$BIN/test-backend-ops" test > "$WORK/parity.out" 2>&1
  rc=$?
  grep -v '^ok ' "$WORK/parity.out" | grep -v '# SKIP' | tail -n 60
  echo "=== parity: rc $rc, ok $(grep -c '^ok ' "$WORK/parity.out")," \
    "not ok $(grep -c '^not ok ' "$WORK/parity.out")," \
    "skip $(grep -c '# SKIP' "$WORK/parity.out")"
  if grep -q "SKIP no usable CUDA device" "$WORK/parity.out"; then
    echo "no usable CUDA device: no timings"
    return
  fi
  if [ $rc -ne 0 ]; then
    parity="FAILED (rc $rc): the timings below are of a backend that failed its parity"
    echo "$parity"
  fi

  if [ -n "$SANITIZE_OPS" ]; then
    lim=$(limit 90 10)
    echo "=== 1b. compute-sanitizer memcheck, CUDA, ops $SANITIZE_OPS (limit $lim s)"
    if ! command -v compute-sanitizer > /dev/null; then
      echo "no compute-sanitizer on this machine"
    elif [ "$lim" -gt 0 ]; then
      timeout -k 3 "$lim" compute-sanitizer --tool memcheck --error-exitcode 9 \
        "$BIN/test-backend-ops" test --backend=cuda --op="$SANITIZE_OPS" \
        > "$WORK/sanitize.out" 2>&1
      rc=$?
      grep -v '^ok ' "$WORK/sanitize.out" | grep -v '# SKIP' | tail -n 30
      echo "=== memcheck: rc $rc, ok $(grep -c '^ok ' "$WORK/sanitize.out")," \
        "not ok $(grep -c '^not ok ' "$WORK/sanitize.out")"
    fi
  fi
  if [ -n "$PERF_OPS" ]; then
    lim=$(limit 90 10)
    echo "=== 1c. op timings on CUDA: test-backend-ops perf, ops $PERF_OPS (limit $lim s)"
    if [ "$lim" -gt 0 ]; then
      timeout -k 3 "$lim" "$BIN/test-backend-ops" perf \
        --backend=cuda --op="$PERF_OPS" 2>&1 | grep -v '^ok \|^1\.\.' | tail -n 60
    else
      echo "budget spent"
    fi
  fi

  # leave the official code its share when it is carried
  local reserve=0
  [ -f "$ROOT/.official/hart-official.tar" ] && reserve=$OFFICIAL_RESERVE
  local ops_flag=()
  [ "$OPS" = 1 ] || ops_flag=(--no-ops)
  real_size "2. real size, $PRECISION (parity $parity)" "$reserve" "$PRECISION" \
    "" ${ops_flag[@]+"${ops_flag[@]}"} || return
  [ -n "$PLAIN_PRECISION" ] && real_size \
    "2b. real size, $PLAIN_PRECISION, stage times only (no per-op synchronisation)" \
    "$reserve" "$PLAIN_PRECISION" "" --no-ops --batches "$BATCHES"
  [ -n "$CANDIDATES" ] && real_size \
    "2c. real size, $CANDIDATE_PRECISION, with the candidate kernels ($CANDIDATES), stage times only" \
    "$reserve" "$CANDIDATE_PRECISION" "$CANDIDATES" --no-ops

  # 3. the official code on the same card, the same weights and context
  if [ ! -f "$ROOT/.official/hart-official.tar" ]; then
    echo "=== 3. official code: not carried (tests/device/pack-official.sh)"
    return
  fi
  local p b
  for p in $OFFICIAL_PRECISIONS; do
    b=$OFFICIAL_BATCHES
    [ "$p" = fp32 ] && b=1
    lim=$(limit 100000 30)
    echo "=== 3. official code, $p, batches $b (limit $lim s)"
    [ "$lim" -gt 0 ] || { echo "budget spent"; return; }
    PYTHONUNBUFFERED=1 timeout -k 5 "$lim" python3 "$ROOT/tests/device/time_official.py" \
      --official "$ROOT/.official" --ckpt "$WORK/real-size/real/hart-0.7b-1024px" \
      --context "$WORK/real-size/context.safetensors" --batches "$b" \
      --repeat "$OFFICIAL_REPEAT" --precision "$p" --out "$OUT_DIR" 2>&1 \
      | grep -v -e 'UserWarning' -e 'warnings.warn' -e '^torch.Size'
    echo "=== official $p: rc ${PIPESTATUS[0]}, $(($(date +%s) - START)) s in all"
  done
}

mkdir -p "$OUT_DIR"
# exit 0 whatever fails (above): a runner reads the log, not the status
WORK=$(mktemp -d "${TMPDIR:-/tmp}/devcuda.XXXXXX") \
  || { echo "cannot make a temporary folder" | tee "$LOG"; exit 0; }
main 2>&1 | tee "$LOG"
rm -rf "$WORK"
echo "log: $LOG"
exit 0
