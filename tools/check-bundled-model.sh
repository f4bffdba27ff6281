#!/bin/sh
# gst-hart — the bundled model changes only on purpose (repository weight)
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tools/check-bundled-model.sh [--update]
#
# Every committed version of a weights file stays in git history for good, and
# weights do not delta-compress: a retrain of shapes-64px costs every clone
# about 12 MB.  So the model is replaced only at release points
# (docs/bundled-model.md, "Repository weight"), and this check, run by CI,
# fails when data/models/ differs from data/models/MANIFEST (SHA-256 and size
# of each file): a file added, removed or changed, or more than BUDGET bytes
# in all.  --update rewrites the manifest from the files: do it in the one
# commit that replaces the model, at a release point, and nowhere else.
set -eu
cd "$(dirname "$0")/.."

# 13 MiB: the 12.3 MB of today's model (one transformer copy) plus headroom
# for a config or tokenizer change; a bigger model is a decision to record by
# raising this figure in the same commit
BUDGET=13631488
manifest=data/models/MANIFEST

list() {
  find data/models -type f ! -path "$manifest" | LC_ALL=C sort |
    while read -r f; do
      printf '%s  %s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" \
        "$(wc -c <"$f" | tr -d ' ')" "$f"
    done
}

if [ "${1:-}" = "--update" ]; then
  list >"$manifest"
  echo "wrote $manifest"
  exit 0
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM
list >"$tmp"
status=0
if ! diff -u --label "$manifest" --label "data/models/ (now)" "$manifest" "$tmp"; then
  echo "data/models/ is not what $manifest records.  The bundled model is" \
    "replaced only at release points (docs/bundled-model.md," \
    "\"Repository weight\"); then run tools/check-bundled-model.sh --update" \
    "in that commit." >&2
  status=1
fi
total=$(awk '{ s += $2 } END { print s + 0 }' "$tmp")
if [ "$total" -gt "$BUDGET" ]; then
  echo "data/models/ holds $total bytes, over the budget of $BUDGET" \
    "(tools/check-bundled-model.sh)" >&2
  status=1
fi
[ $status -ne 0 ] || echo "check-bundled-model: $(wc -l <"$tmp") files, $total bytes, as $manifest records"
exit $status
