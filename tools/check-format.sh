#!/bin/sh
# gst-hart — check (or fix) the C style: GStreamer's gst-indent
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tools/check-format.sh [--fix] [FILE...]
#
# Runs GNU indent with the options of GStreamer's scripts/gst-indent (twice,
# as gst-indent does: one pass of GNU indent is not always idempotent) on a
# temporary copy of each C source (*.c) of gst/ hart/ kernels/ tools/
# examples/ tests/, or of the FILEs given, and fails listing the files whose
# copy differs, with the diff.  --fix rewrites those files in place instead.
# Headers are left alone, as GStreamer's pre-commit hook does (it indents
# *.c only): indent takes G_BEGIN_DECLS for a type and shifts every
# declaration after it.  CUDA sources (*.cu, *.cuh) are not C.  A passage
# that indent would mangle can be fenced with
# /* *INDENT-OFF* */ ... /* *INDENT-ON* */.
#
# Needs GNU indent (Debian package indent; $INDENT names another binary, e.g.
# gst-indent-1.0 or gindent).
set -eu
cd "$(dirname "$0")/.."

fix=no
if [ "${1:-}" = "--fix" ]; then
  fix=yes
  shift
fi
case "${1:-}" in
  -h|--help)
    sed -n '6,20s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  -*)
    echo "usage: $0 [--fix] [FILE...]" >&2
    exit 2
    ;;
esac

INDENT=${INDENT:-indent}
if ! "$INDENT" --version 2>/dev/null | grep -q GNU; then
  echo "$0: GNU indent not found (apt-get install indent, or set INDENT)" >&2
  exit 2
fi

# scripts/gst-indent of GStreamer; --ignore-profile so that a ~/.indent.pro
# cannot change the result
gst_indent() {
  "$INDENT" --ignore-profile \
    --braces-on-if-line \
    --case-brace-indentation0 \
    --case-indentation2 \
    --braces-after-struct-decl-line \
    --line-length80 \
    --no-tabs \
    --cuddle-else \
    --dont-line-up-parentheses \
    --continuation-indentation4 \
    --honour-newlines \
    --tab-size8 \
    --indent-level2 \
    --leave-preprocessor-space \
    "$@"
}

if [ $# -eq 0 ]; then
  dirs="gst hart kernels tools examples tests"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked files only: no build outputs, nothing generated
    set -- $(git ls-files -- $dirs | grep -E '\.c$')
  else
    set -- $(find $dirs -name '*.c' | sort)
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
bad=""
for f in "$@"; do
  gst_indent "$f" -o "$tmp/pass1.c" 2>"$tmp/err" || {
    echo "$f: indent failed:" >&2
    cat "$tmp/err" >&2
    exit 2
  }
  gst_indent "$tmp/pass1.c" -o "$tmp/pass2.c" 2>>"$tmp/err"
  if ! cmp -s "$f" "$tmp/pass2.c"; then
    if [ $fix = yes ]; then
      cp "$tmp/pass2.c" "$f"
      echo "reformatted $f"
    else
      diff -u --label "$f" --label "$f (gst-indent)" "$f" "$tmp/pass2.c" || true
      bad="$bad $f"
    fi
  fi
done

if [ -n "$bad" ]; then
  echo
  echo "Not in the gst-indent style (fix: tools/check-format.sh --fix FILE...):"
  for f in $bad; do echo "  $f"; done
  exit 1
fi
[ $fix = yes ] || echo "check-format: $# C files in the gst-indent style"
