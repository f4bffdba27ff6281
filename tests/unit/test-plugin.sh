#!/bin/sh
# gst-hart — the plugin loads and registers under GST_PLUGIN_PATH.
set -eu
out=$("$1" hart 2>&1) || { echo "$out"; exit 1; }
echo "$out"
echo "$out" | grep -q "Name *hart"
echo "$out" | grep -q "Image and video generation with HART"
