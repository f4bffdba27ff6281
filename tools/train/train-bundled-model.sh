#!/bin/sh
# gst-hart — the exact recipe of the published data/models/shapes-64px
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tools/train/train-bundled-model.sh [WORK_DIR [OUT_DIR [DEVICE]]]
#
# WORK_DIR: default /tmp/hart-train; OUT_DIR: default WORK_DIR/model.
# DEVICE: cuda (default; the published run used one NVIDIA H200, about 10 min
# of training in all) or cpu (the same maths; about 11.5 h on 2 cores, the AR
# stage most of it; docs/bundled-model.md has the time of each stage).
#
# Needs torch (>= 2.0 for cuda; Debian's python3-torch 1.13 does the cpu run),
# numpy and the PyPI package tokenizers; $PYTHON (default python3) runs it.
# The export stage and sample.py also use transformers (4.42 here) to check
# the text encoder against its Qwen2 implementation.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/hart-train}
# OUT_DIR defaults to WORK_DIR/model, outside the checkout: a retrain replaces
# data/models/shapes-64px only at a release point (docs/bundled-model.md,
# "Repository weight"; tools/check-bundled-model.sh --update in that commit)
out=${2:-$work/model}
device=${3:-cuda}
py=${PYTHON:-python3}
train() { "$py" "$here/train.py" "$work" --seed 1 --threads "$(nproc)" "$@"; }

train --stage bpe
# 81 920 rendered scenes; the autoencoder (2100 steps of 64, trained through
# the decoder's output clamp as the published run was), the codes of every
# scene, then the text encoder + AR transformer + diffusion head (4600 steps
# of 256).  The published run fixed both step counts with --vae-seconds 110
# and --ar-seconds 220 on the H200 and logged them; those are the counts.
train --device "$device" --stage render,vae,encode,ar --render-count 81920 \
  --vae-steps 2100 --vae-batch 64 --vae-clamp \
  --ar-steps 4600 --ar-batch 256 --ar-lr 1.5e-3
# decoder fine-tune without the clamp, the codes frozen: 5000 steps of 64 on
# the first 40 960 scenes (the published run: --ft-seconds 175)
train --device "$device" --stage render,decoder-ft --render-count 40960 \
  --ft-steps 5000 --vae-batch 64 --ft-lr 1e-3
train --stage export --out "$out"
