#!/bin/sh
# gst-hart — the exact recipe of the published data/models/shapes-64px
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/reference/train/train-bundled-model.sh [WORK_DIR [OUT_DIR]]
#
# Needs Debian's python3-torch, python3-numpy, python3-pil and the PyPI packages
# tokenizers (0.19) and transformers (4.42.2) for /usr/bin/python3.  About 2 h
# on 2 CPU cores (docs/bundled-model.md has the time of each stage).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/hart-train}
out=${2:-$here/../../../data/models/shapes-64px}
train() { /usr/bin/python3 "$here/train.py" "$work" --seed 1 "$@"; }

train --stage bpe
train --stage vae --vae-steps 1000
train --stage vae-resume --vae-steps 1500   # object-weighted loss from here on
train --stage encode --encode-count 16384
train --stage ar --ar-steps 3000 --ar-batch 32 --ar-stop 2500
train --stage ar-resume --ar-steps 800 --ar-batch 32 --ar-stop 500   # lr 3e-4, new schedule
train --stage decoder-ft --vae-steps 800
train --stage export --out "$out"
