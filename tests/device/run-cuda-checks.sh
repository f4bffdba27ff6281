#!/bin/bash
# gst-hart — first checks of the CUDA backend on a GPU machine
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   bash tests/device/run-cuda-checks.sh
#
# Run from anywhere on the GPU machine, with .devcuda/ (written by
# tests/device/pack-cuda-bundle.sh on the build machine) at the top of the
# source tree.  Unpacks the bundle into a temporary folder, finds the CUDA
# libraries it names (cuda-sonames.txt) on this machine, then runs, each
# under `timeout`, within CUDA_CHECKS_BUDGET seconds in all (150):
#   1. nvidia-smi, and ldd of the bundled hart (what is still missing)
#   2. test-backend-ops test: every op case against its plain reference and
#      the PyTorch goldens on the CPU and on CUDA, and CUDA against the CPU
#   3. test-decoder, test-diffusion with HART_TEST_BACKEND=cuda
#   4. hart generate on the bundled shapes-64px model, --device cpu and
#      --device cuda, one prompt and a batch of four, --timings; the PNGs
#      compared pixel by pixel (compare-images.py)
#   5. test-meaning (48 pictures of the bundled model, read back and checked)
#      on CUDA and on the CPU: wall times, pictures and readings compared;
#      then in bf16 on CUDA, and `hart fidelity --device cuda` (bf16 against
#      fp32 on the GPU: per-scale logit error, KL, same codes, PSNR)
#   6. test-backend-ops perf: HART's op shapes on the CPU and on CUDA, with
#      their ratio, when time is left
# Each check's exit status and time go to a summary at the end; a failure
# never stops the script, which exits 0.  The log is $OUT/cuda-checks.log
# ($OUT set by the device runner) or ./cuda-checks.log; pictures go beside
# it (cuda-checks-images/).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 0
OUT_DIR=${OUT:-$ROOT}
LOG="$OUT_DIR/cuda-checks.log"
IMAGES="$OUT_DIR/cuda-checks-images"
BUDGET=${CUDA_CHECKS_BUDGET:-150}
START=$(date +%s)
DEADLINE=$((START + BUDGET))
MODEL="$ROOT/data/models/shapes-64px"
PROMPT1="a large red circle in the center on a blue background"
SUMMARY=""

elapsed () { echo $(($(date +%s) - START)); }

# run_check NAME SECONDS COMMAND… : COMMAND under timeout, at most SECONDS
# and never past the deadline; its status and time go to the summary.
run_check () {
  local name=$1 want=$2 left limit t0 rc tap
  shift 2
  left=$((DEADLINE - $(date +%s)))
  limit=$((want < left ? want : left))
  if [ "$limit" -lt 3 ]; then
    echo "=== $name: not run (budget spent)"
    SUMMARY+=$(printf '%-26s %-16s\n' "$name" "not run (time)")$'\n'
    return
  fi
  echo "=== $name (limit ${limit} s, at $(elapsed) s): $*"
  t0=$(date +%s.%N)
  timeout -k 3 "$limit" "$@" > "$WORK/check.out" 2>&1
  rc=$?
  cat "$WORK/check.out"
  tap=""
  if grep -q '^1\.\.' "$WORK/check.out"; then
    tap=$(printf 'ok %d, not ok %d, skip %d' \
      "$(grep -c '^ok ' "$WORK/check.out")" \
      "$(grep -c '^not ok ' "$WORK/check.out")" \
      "$(grep -c '# SKIP' "$WORK/check.out")")
  fi
  t0=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  case $rc in
    0) status="rc 0" ;;
    124 | 137) status="TIMEOUT ($rc)" ;;
    *) status="FAILED rc $rc" ;;
  esac
  echo "=== $name: $status, ${t0} s${tap:+, $tap}"
  SUMMARY+=$(printf '%-26s %-16s %7s s  %s' "$name" "$status" "$t0" \
    "$tap")$'\n'
}

# devcuda_setup, cuda_lib_dirs
# shellcheck source=tests/device/devcuda-env.sh
. "$ROOT/tests/device/devcuda-env.sh"

main () {
  echo "gst-hart CUDA checks: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -n)," \
    "budget ${BUDGET} s"
  devcuda_setup || return
  # as the test suite: no more engine threads than the 16 cores lent (a
  # container may see more CPUs than its quota); OMP_NUM_THREADS for torch
  local n_cpus
  n_cpus=$(nproc 2> /dev/null || echo 16)
  export HART_NUM_THREADS=${HART_NUM_THREADS:-$((n_cpus < 16 ? n_cpus : 16))}
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$HART_NUM_THREADS}
  echo "HART_NUM_THREADS=$HART_NUM_THREADS (nproc $n_cpus)"
  mkdir -p "$IMAGES"

  # ---- 1. the machine ----
  run_check nvidia-smi 10 nvidia-smi -L
  timeout 10 nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv 2>&1
  echo "--- ldd hart (libraries still missing):"
  ldd "$BIN/hart" 2>&1 | grep -E 'not found|libcu' || true

  # ---- 2–3. op and module tests ----
  run_check backend-ops 40 "$BIN/test-backend-ops" test
  run_check decoder-cuda 10 env HART_TEST_BACKEND=cuda "$BIN/test-decoder" --tap
  run_check diffusion-cuda 10 env HART_TEST_BACKEND=cuda \
    "$BIN/test-diffusion" --tap

  # ---- 4. end to end: same seed and prompt, CPU vs CUDA ----
  local dev
  for dev in cpu cuda; do
    run_check "generate-1-$dev" 12 "$BIN/hart" generate \
      --model "$MODEL/hart" --prompt "$PROMPT1" --seed 1 --device "$dev" \
      --timings -o "$IMAGES/gen1-$dev.png"
  done
  run_check compare-generate-1 10 python3 "$ROOT/tests/device/compare-images.py" \
    "$IMAGES/gen1-cpu.png" "$IMAGES/gen1-cuda.png"
  for dev in cpu cuda; do
    mkdir -p "$IMAGES/batch4-$dev"
    run_check "generate-4-$dev" 12 "$BIN/hart" generate \
      --model "$MODEL/hart" --seed 2 --device "$dev" --timings \
      --prompt "a small yellow star at the top left on a black background" \
      --prompt "a large green square on the right on a striped white background" \
      --prompt "a purple triangle at the bottom" \
      --prompt "" -o "$IMAGES/batch4-$dev/img.png"
  done
  run_check compare-generate-4 10 python3 "$ROOT/tests/device/compare-images.py" \
    "$IMAGES/batch4-cpu" "$IMAGES/batch4-cuda"

  # ---- 5. 48 pictures: meaning checked, CPU vs CUDA ----
  for dev in cuda cpu; do
    run_check "meaning-$dev" 20 env HART_MEANING_MODEL="$MODEL" \
      HART_MEANING_DEVICE="$dev" HART_MEANING_SAVE_DIR="$IMAGES/meaning-$dev" \
      "$BIN/test-meaning" --tap
  done
  run_check compare-meaning 15 python3 "$ROOT/tests/device/compare-images.py" \
    "$IMAGES/meaning-cpu" "$IMAGES/meaning-cuda"
  run_check compare-meaning-readings 5 diff "$IMAGES/meaning-cpu/meaning.tsv" \
    "$IMAGES/meaning-cuda/meaning.tsv"

  # ---- 5b. bf16 on CUDA: the meaning test at its fp32 thresholds, and
  # the fidelity figures against CUDA's fp32 (docs/precision.md) ----
  run_check meaning-cuda-bf16 20 env HART_MEANING_MODEL="$MODEL" \
    HART_MEANING_DEVICE=cuda HART_MEANING_PRECISION=bf16 \
    "$BIN/test-meaning" --tap
  run_check fidelity-cuda-bf16 20 "$BIN/hart" fidelity --model "$MODEL/hart" \
    --prompt "$PROMPT1" --prompt "a purple triangle at the bottom" --device cuda

  # ---- 6. op rates of this machine, CPU and CUDA, if time is left ----
  if [ $((DEADLINE - $(date +%s))) -ge 20 ]; then
    run_check backend-ops-perf 20 "$BIN/test-backend-ops" perf --reps 2
  fi

  echo
  echo "=== summary ($(elapsed) s of ${BUDGET} s)"
  printf '%s' "$SUMMARY"
}

mkdir -p "$OUT_DIR"
# exit 0 whatever fails (above): a runner reads the log, not the status
WORK=$(mktemp -d "${TMPDIR:-/tmp}/devcuda.XXXXXX") \
  || { echo "cannot make a temporary folder" | tee "$LOG"; exit 0; }
main 2>&1 | tee "$LOG"
rm -rf "$WORK"
echo "log: $LOG"
exit 0
