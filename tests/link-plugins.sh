#!/bin/sh
# gst-hart — a folder of links to the few system GStreamer plugins the tests
# use, for their GST_PLUGIN_PATH in place of the whole system plugin folder.
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# usage: link-plugins.sh PLUGINS-DIR OUT-DIR SUFFIX NAME…
# OUT-DIR/libgstNAME.SUFFIX → PLUGINS-DIR/libgstNAME.SUFFIX for each NAME.
#
# Why: every plugin on GST_PLUGIN_PATH lands in the registry each test
# process reads, and a large registry (plugins-bad, libav, …) grows GLib's
# quark table, whose old copy GLib leaks on purpose: LeakSanitizer then
# failed every element test (docs/robustness.md).  With only these plugins
# the tests see the same registry whatever the machine has installed.
#
# A link to a plugin that is not installed is made too: GStreamer skips a
# dangling link (g_stat fails), and the link starts working when the plugin
# is installed later, without reconfiguring.
set -eu
src=$1
out=$2
suffix=$3
shift 3
rm -rf "$out"
mkdir -p "$out"
for name in "$@"; do
  ln -s "$src/libgst$name.$suffix" "$out/libgst$name.$suffix"
done
