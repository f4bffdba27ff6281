#!/bin/sh
# gst-hart — the layering the build promises (docs/architecture.md, "Layers")
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-layers.sh PUBLIC_INCLUDE_ROOT PLUGIN_SO CC [CFLAGS…]
#
# 1. A file of gst/, tools/ or examples/ is compiled against the public
#    include root only: the public headers compile there, an engine-private
#    header or the op table does not.
# 2. The plugin exports GStreamer's entry points and nothing else.
# (3. An upward call between libhart's layers fails to link: the
#    layer-check-* programs of hart/meson.build, built by default.)
# Output is TAP.
set -u
public=$1 plugin=$2
shift 2
n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hart-layers-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "1..8"
compiles () { # HEADER CC [CFLAGS…]
  printf '#include "%s"\nint hart_layers_probe;\n' "$1" > "$scratch/probe.c"
  shift
  "$@" -fsyntax-only -I"$public" "$scratch/probe.c" > "$scratch/log" 2>&1
}
for header in hart/hart.h hart/text-encoder.h gst/gst-hart-meta.h; do
  if compiles "$header" "$@"; then ok "public: $header"
  else not_ok "public: $header"; sed 's/^/# /' "$scratch/log"; fi
done
for header in hart/weights.h hart/model-private.h kernels/backend.h \
    hart/json-read.h; do
  if compiles "$header" "$@"; then not_ok "private, yet reachable: $header"
  else ok "private: $header"; fi
done

exports=$(nm -D --defined-only "$plugin" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" = "gst_plugin_hart_get_desc gst_plugin_hart_register " ]; then
  ok "the plugin exports GStreamer's entry points only"
else
  not_ok "the plugin exports GStreamer's entry points only"
  echo "# exports: $exports"
fi
exit $failed
