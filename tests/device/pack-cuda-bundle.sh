#!/bin/sh
# gst-hart — pack the CUDA build and its shared libraries for a GPU machine
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/device/pack-cuda-bundle.sh [BUILD_DIR]     (default build-devcuda)
#
# For tests/device/run-cuda-checks.sh on a machine that has a GPU and the
# CUDA runtime but no GStreamer, glib, json-glib or OpenBLAS and no network.
# Builds BUILD_DIR with -Dcuda=enabled -Dbuildtype=release -Donednn=disabled
# (only the targets below; oneDNN, the CPU's bf16 products, is 40 MB that
# the GPU checks do not use and would put the bundle past its size), then
# writes .devcuda/ at the top of the source tree (ignored by git
# through .git/info/exclude, so it travels as a carried path):
#   .devcuda/bundle.tar.xz   bin/      hart, test-backend-ops,
#                                      test-decoder, test-diffusion,
#                                      test-meaning (stripped)
#                            lib/      every shared library they load from
#                                      this machine (ldd), except glibc's
#                                      (libc, libm, libpthread, libdl, librt,
#                                      ld-linux) and CUDA's (libcudart,
#                                      libcublas, libcublasLt, libcuda),
#                                      which must come from the GPU machine
#                            lib-compat/ libstdc++ and libgcc_s, used there
#                                      only when the system has none (a newer
#                                      system copy must win: CUDA's libraries
#                                      may need its symbol versions)
#                            cuda-sonames.txt  the CUDA libraries to find
#                            MANIFEST  commit, compiler, file list
#   .devcuda/MANIFEST        the same, readable without unpacking
# libhart and libhartkernels are static libraries, linked into every
# program, so they need no copy of their own.  OpenBLAS alone is 36 MB, so
# the bundle is an xz tarball (about 10 MB; the carried paths of a device
# run may hold 15 MB).  The unpacked tree stays in BUILD_DIR/devcuda-stage
# for trying it here:
#   env -i LD_LIBRARY_PATH=BUILD_DIR/devcuda-stage/lib:BUILD_DIR/devcuda-stage/lib-compat \
#       BUILD_DIR/devcuda-stage/bin/hart --help
# The programs carry no RPATH into the build folder (only OpenBLAS's
# system folder, which LD_LIBRARY_PATH overrides), so a moved copy finds
# its libraries through LD_LIBRARY_PATH alone.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${1:-build-devcuda}
MAX_BYTES=15000000

TARGETS="tools/hart tests/ops/test-backend-ops
  tests/unit/test-decoder tests/unit/test-diffusion tests/meaning/test-meaning"

if [ ! -f "$BUILD/build.ninja" ]; then
  nice -n 15 meson setup "$BUILD" -Dcuda=enabled -Dbuildtype=release -Donednn=disabled \
    -Dexamples=false
else
  # no-op when already so; otherwise reconfigures on the next ninja
  meson configure "$BUILD" -Dcuda=enabled -Dbuildtype=release -Donednn=disabled \
    >/dev/null
fi
# shellcheck disable=SC2086
nice -n 15 ninja -C "$BUILD" -j 1 $TARGETS

STAGE="$BUILD/devcuda-stage"
rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/lib-compat"
: > "$STAGE/cuda-sonames.txt"

for target in $TARGETS; do
  cp "$BUILD/$target" "$STAGE/bin/"
  strip --strip-unneeded "$STAGE/bin/$(basename "$target")"
done

# ldd lines: "\tlibfoo.so.1 => /path/libfoo.so.1 (0x…)"
missing=0
for exe in "$STAGE"/bin/*; do
  ldd "$exe" | while read -r soname arrow path rest; do
    [ "$arrow" = "=>" ] || continue     # vdso, ld-linux
    case "$soname" in
      libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | \
      ld-linux*)
        continue ;;
      libcudart.so.* | libcublas.so.* | libcublasLt.so.* | libcuda.so.*)
        grep -qx "$soname" "$STAGE/cuda-sonames.txt" \
          || echo "$soname" >> "$STAGE/cuda-sonames.txt"
        continue ;;
    esac
    if [ "$path" = "not" ]; then
      echo "pack-cuda-bundle: $exe: $soname not found here" >&2
      echo 1 > "$STAGE/.missing"
      continue
    fi
    case "$soname" in
      libstdc++.so.* | libgcc_s.so.*) dest="$STAGE/lib-compat" ;;
      *) dest="$STAGE/lib" ;;
    esac
    [ -f "$dest/$soname" ] || cp -L "$path" "$dest/$soname"
  done
done
if [ -f "$STAGE/.missing" ]; then
  rm -f "$STAGE/.missing"
  missing=1
fi
[ "$missing" = 0 ] || { echo "pack-cuda-bundle: libraries missing" >&2; exit 1; }

{
  echo "gst-hart CUDA device bundle"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (+ local changes)')"
  echo "packed: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -m), $(ldd --version | head -n 1)"
  echo "nvcc: $(nvcc --version 2>/dev/null | tail -n 1 || echo unknown)"
  echo "build: $BUILD (-Dcuda=enabled -Dbuildtype=release -Donednn=disabled)"
  echo "needs from the GPU machine: $(tr '\n' ' ' < "$STAGE/cuda-sonames.txt")"
  echo "files:"
  (cd "$STAGE" && find bin lib lib-compat -type f -exec ls -l {} + \
    | awk '{ printf "  %10d  %s\n", $5, $9 }')
} > "$STAGE/MANIFEST"

rm -rf .devcuda
mkdir -p .devcuda
cp "$STAGE/MANIFEST" .devcuda/MANIFEST
tar -C "$STAGE" -cf - bin lib lib-compat cuda-sonames.txt MANIFEST \
  | nice -n 15 xz -9 -T1 > .devcuda/bundle.tar.xz

# keep .devcuda/ out of git without touching the tracked .gitignore
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
touch "$exclude"
grep -qx '/.devcuda/' "$exclude" || echo '/.devcuda/' >> "$exclude"

size=$(du -cb .devcuda | tail -n 1 | cut -f 1)
echo "pack-cuda-bundle: .devcuda/ is $size bytes" \
  "(unpacked $(du -sb "$STAGE" | cut -f 1) bytes in $STAGE)"
if [ "$size" -gt "$MAX_BYTES" ]; then
  echo "pack-cuda-bundle: larger than $MAX_BYTES bytes" >&2
  exit 1
fi
