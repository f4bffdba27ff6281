#!/bin/sh
# gst-hart — carry the official HART code to a GPU machine, for timing only
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   HART_MIRROR=/path/to/bare/mit-han-lab+hart \
#   HART_HARNESS=/path/to/official-harness tests/device/pack-official.sh
#
# Writes .official/ at the top of the source tree (ignored by git: the
# official code is never committed), for tests/device/time_official.py:
#   .official/hart-official.tar   `git archive` of the official repository
#                                 at HART_REV (default HEAD) — unmodified
#   .official/standins/           the harness's stand-ins for what that
#                                 code imports and a bare GPU machine lacks
#                                 in the version it expects: `transformers`
#                                 (the model classes' loading), 
#                                 `huggingface_hub`, and `hart_backend` (the
#                                 official compiled CUDA kernels — RMSNorm
#                                 and RoPE — written in plain PyTorch)
#   .official/st_io.py            the harness's safetensors reader
#   .official/COMMIT              the official commit
# A device run carries it with `carry: [".devcuda", ".official"]`;
# tests/device/run-cuda-bench.sh times the official code when it is there.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${HART_MIRROR:?set HART_MIRROR to a bare clone of github.com/mit-han-lab/hart}"
: "${HART_HARNESS:?set HART_HARNESS to the official-harness folder (stand-ins)}"
REV=${HART_REV:-HEAD}
DEST="$ROOT/.official"
rm -rf "$DEST"
mkdir -p "$DEST"
git --git-dir "$HART_MIRROR" rev-parse "$REV^{commit}" > "$DEST/COMMIT"
git --git-dir "$HART_MIRROR" archive --format=tar -o "$DEST/hart-official.tar" \
  "$(cat "$DEST/COMMIT")"
cp -r "$HART_HARNESS/standins" "$DEST/standins"
cp "$HART_HARNESS/st_io.py" "$DEST/st_io.py"
find "$DEST" -name __pycache__ -prune -exec rm -rf {} +
chmod -R u+w "$DEST"
echo "official code $(cat "$DEST/COMMIT") packed in $DEST ($(du -sh "$DEST" | cut -f1))"
