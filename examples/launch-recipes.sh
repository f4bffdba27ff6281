#!/bin/sh
# gst-hart — gst-launch-1.0 recipes for hartsrc and hartrefine
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# usage: launch-recipes.sh RECIPE [OUTPUT]
#   still    OUTPUT.png   one picture
#   video    OUTPUT.mp4   8 frames, new sample per frame, composition held
#                         (.mp4: 4:2:0 x264enc ! mp4mux, needs gstreamer1.0-plugins-ugly;
#                          any other name: jpegenc ! avimux)
#   split    OUTPUT.avi   the same through hartsrc ! queue ! hartrefine
#   preview               live preview in a window (until Ctrl-C)
#
# Environment: HART_MODEL_PATH (a model folder, e.g. hart-0.7b-1024px; unset:
# hartsrc's default, the bundled shapes-64px model),
# HART_PROMPT, HART_FRAMES (video/split, default 8), GST_PLUGIN_PATH (the
# folder holding libgsthart.so, e.g. build/gst).  The examples/README.md shows
# the same pipelines written out.
set -eu

recipe=${1:-}
output=${2:-}
model=${HART_MODEL_PATH:-}
prompt=${HART_PROMPT:-a red fox in the snow}
frames=${HART_FRAMES:-8}
launch=${GST_LAUNCH:-gst-launch-1.0}

# The encoder and muxer for a file name.  4:2:0 before x264enc: left free,
# videoconvert hands it Y444 and x264enc writes High 4:4:4, which most players
# cannot decode.
encoder_for () {
  case "$1" in
    *.mp4) echo "video/x-raw,format=I420 ! x264enc ! mp4mux" ;;
    *.webm) echo "vp8enc ! webmmux" ;;
    *) echo "jpegenc ! avimux" ;;
  esac
}

case "$recipe" in
  still)
    "$launch" -q hartsrc ${model:+"model-path=$model"} prompt="$prompt" num-buffers=1 ! \
      videoconvert ! pngenc ! filesink location="${output:-hart.png}"
    ;;
  video)
    output=${output:-hart.mp4}
    # shellcheck disable=SC2046  # the encoder is several words on purpose
    "$launch" -q hartsrc ${model:+"model-path=$model"} prompt="$prompt" \
      num-buffers="$frames" seed-mode=increment keep-scales=4 ! \
      videoconvert ! $(encoder_for "$output") ! filesink location="$output"
    ;;
  split)
    output=${output:-hart.avi}
    # shellcheck disable=SC2046
    "$launch" -q hartsrc ${model:+"model-path=$model"} prompt="$prompt" \
      num-buffers="$frames" seed-mode=increment keep-scales=4 ! queue ! \
      hartrefine ${model:+"model-path=$model"} temporal-noise=true ! \
      videoconvert ! $(encoder_for "$output") ! filesink location="$output"
    ;;
  preview)
    # Frame n is stamped n seconds at 1/1; a frame that takes longer than
    # that to generate (the CPU backend) would arrive late and be dropped by a
    # synchronising sink, hence sync=false: show each frame as it comes.
    "$launch" hartsrc ${model:+"model-path=$model"} prompt="$prompt" is-live=true \
      seed-mode=increment keep-scales=4 ! video/x-raw,framerate=1/1 ! \
      videoconvert ! autovideosink sync=false
    ;;
  *)
    sed -n '5,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
