#!/bin/sh
# gst-hart — run the examples on the tiny fixture and check what they write
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# usage: examples.sh HART-APPSINK GST-LAUNCH EXAMPLES-DIR MODEL-DIR OUTPUT-DIR
# (registered by examples/meson.build with GST_PLUGIN_PATH set to the build's
# gst/ folder).  TAP output.
set -u

appsink=$1
GST_LAUNCH=$2
examples=$3
model=$4
out=$5
export GST_LAUNCH

rm -rf "$out"
mkdir -p "$out"

n=0
failed=0
ok () {
  n=$((n + 1))
  echo "ok $n - $1"
}
not_ok () {
  n=$((n + 1))
  failed=1
  echo "not ok $n - $1"
}
skip () {
  n=$((n + 1))
  echo "ok $n - $1 # SKIP $2"
}

# The first bytes of a file, as hex without spaces.
head_hex () {
  od -A n -t x1 -N "$2" "$1" 2>/dev/null | tr -d ' \n'
}

# A PNG of the fixture's size: signature, then IHDR with width and height
# 128 (0x80) as big-endian 32-bit numbers.
is_png_128 () {
  [ -s "$1" ] &&
    [ "$(head_hex "$1" 24)" = "89504e470d0a1a0a0000000d494844520000008000000080" ]
}

# RIFF....AVI
is_avi () {
  [ "$(head_hex "$1" 12 | cut -c1-8,17-24)" = "5249464641564920" ] &&
    [ "$(wc -c < "$1")" -gt 4096 ]
}

# ....ftyp
is_mp4 () {
  [ "$(head_hex "$1" 8 | cut -c9-16)" = "66747970" ] &&
    [ "$(wc -c < "$1")" -gt 4096 ]
}

# An .mp4 decodes with stock Debian plugins (qtdemux ! avdec_h264, from
# gstreamer1.0-libav), every frame, and is 4:2:0: the stream's profile is not
# High 4:4:4 and the decoder gives I420.  x264enc writes High 4:4:4 when
# videoconvert hands it Y444; libav decodes that, but most players and
# hardware decoders do not.  Its own plugin folder (HART_DECODE_PLUGIN_PATH,
# tests/meson.build) keeps libav's hundreds of elements out of the other
# tests' registry.
check_decodes () {
  if [ -z "${HART_DECODE_PLUGIN_PATH:-}" ] ||
      ! GST_PLUGIN_PATH=$HART_DECODE_PLUGIN_PATH \
        GST_REGISTRY_1_0="$out/decode-registry.bin" \
        gst-inspect-1.0 avdec_h264 > /dev/null 2>&1; then
    skip "$3: the MP4 decodes" "avdec_h264 missing (gstreamer1.0-libav)"
    return
  fi
  GST_PLUGIN_PATH=$HART_DECODE_PLUGIN_PATH \
    GST_REGISTRY_1_0="$out/decode-registry.bin" \
    "$GST_LAUNCH" -v filesrc location="$1" ! qtdemux ! avdec_h264 ! \
    fakesink silent=false > "$1.decode.log" 2>&1
  decoded=$(grep -c 'fakesink0: last-message = chain' "$1.decode.log")
  if [ "$decoded" -eq "$2" ] &&
      ! grep -q 'profile=(string)high-4:4:4' "$1.decode.log" &&
      grep -q 'avdec_h264.*format=(string)I420' "$1.decode.log"; then
    ok "$3: the MP4 is 4:2:0 and decodes with avdec_h264 ($2 frames)"
  else
    grep -o 'profile=(string)[^,]*\|format=(string)[A-Z0-9_]*' "$1.decode.log" |
      sort -u | sed 's/^/# /'
    not_ok "$3: the MP4 is 4:2:0 and decodes with avdec_h264 ($decoded of $2 frames)"
  fi
}

has_element () {
  gst-inspect-1.0 --exists "$1" 2>/dev/null ||
    gst-inspect-1.0 "$1" > /dev/null 2>&1
}

# ---- gst-launch recipes ----
export HART_MODEL_PATH="$model"
export HART_FRAMES=3

if "$examples/launch-recipes.sh" still "$out/still.png" > "$out/still.log" 2>&1 &&
    is_png_128 "$out/still.png"; then
  ok "launch-recipes.sh still writes a 128×128 PNG"
else
  sed 's/^/# /' "$out/still.log"
  not_ok "launch-recipes.sh still writes a 128×128 PNG"
fi

if "$examples/launch-recipes.sh" split "$out/split.avi" > "$out/split.log" 2>&1 &&
    is_avi "$out/split.avi"; then
  ok "launch-recipes.sh split (hartsrc ! queue ! hartrefine) writes an AVI"
else
  sed 's/^/# /' "$out/split.log"
  not_ok "launch-recipes.sh split (hartsrc ! queue ! hartrefine) writes an AVI"
fi

if has_element x264enc; then
  if "$examples/launch-recipes.sh" video "$out/video.mp4" > "$out/video.log" 2>&1 &&
      is_mp4 "$out/video.mp4"; then
    ok "launch-recipes.sh video writes an MP4"
  else
    sed 's/^/# /' "$out/video.log"
    not_ok "launch-recipes.sh video writes an MP4"
  fi
  check_decodes "$out/video.mp4" "$HART_FRAMES" "launch-recipes.sh video"
else
  skip "launch-recipes.sh video writes an MP4" \
    "x264enc missing (gstreamer1.0-plugins-ugly)"
fi

# Without HART_MODEL_PATH the recipes use hartsrc's default, the bundled
# shapes-64px model: a 64×64 picture.
if env -u HART_MODEL_PATH "$examples/launch-recipes.sh" still "$out/bundled.png" \
    > "$out/bundled.log" 2>&1 &&
    [ "$(head_hex "$out/bundled.png" 24)" = "89504e470d0a1a0a0000000d494844520000004000000040" ]; then
  ok "launch-recipes.sh without HART_MODEL_PATH uses the bundled model"
else
  sed 's/^/# /' "$out/bundled.log"
  not_ok "launch-recipes.sh without HART_MODEL_PATH uses the bundled model"
fi

# ---- C example, frames through appsink ----
prompt_a="a red fox in the snow"
prompt_b="a lighthouse at night"
mkdir -p "$out/frames"
if "$appsink" --frames 6 --output-dir "$out/frames" "$model" "$prompt_a" \
    "$prompt_b" > "$out/frames.log" 2>&1; then
  ok "hart-appsink (frames) exits 0"
else
  sed 's/^/# /' "$out/frames.log"
  not_ok "hart-appsink (frames) exits 0"
fi

all_png=yes
for i in 0 1 2 3 4 5; do
  is_png_128 "$out/frames/frame-0000$i.png" || all_png=no
done
if [ $all_png = yes ] && [ ! -e "$out/frames/frame-00006.png" ]; then
  ok "hart-appsink wrote exactly 6 PNG frames"
else
  ls -l "$out/frames" | sed 's/^/# /'
  not_ok "hart-appsink wrote exactly 6 PNG frames"
fi

# GstHartMeta names the prompt of each frame: the first frames have the first
# prompt; the change (after frame 2) reaches the last frame at the latest.
if grep -q "^frame 0 pts .* prompt \"$prompt_a\"$" "$out/frames.log" &&
    grep -q "^frame 5 pts .* prompt \"$prompt_b\"$" "$out/frames.log"; then
  ok "the prompt change shows in the frames' GstHartMeta"
else
  sed 's/^/# /' "$out/frames.log"
  not_ok "the prompt change shows in the frames' GstHartMeta"
fi

# seed-mode=fixed: one prompt gives the same picture every frame; the other
# prompt gives another picture.
if cmp -s "$out/frames/frame-00000.png" "$out/frames/frame-00001.png" &&
    ! cmp -s "$out/frames/frame-00000.png" "$out/frames/frame-00005.png"; then
  ok "same prompt → same frame, new prompt → new frame"
else
  not_ok "same prompt → same frame, new prompt → new frame"
fi

# ---- C example, video with a prompt change ----
if "$appsink" --frames 4 --video "$out/change.avi" --increment \
    --keep-scales 2 --transition-frames 2 "$model" "$prompt_a" "$prompt_b" \
    > "$out/change.log" 2>&1 && is_avi "$out/change.avi" &&
    grep -q "^frame 2: changing the prompt" "$out/change.log"; then
  ok "hart-appsink --video writes an AVI with a prompt change at frame 2"
else
  sed 's/^/# /' "$out/change.log"
  not_ok "hart-appsink --video writes an AVI with a prompt change at frame 2"
fi

# .mp4: 4:2:0, decodable (the C example builds its own pipeline).
if has_element x264enc; then
  if "$appsink" --frames 2 --video "$out/appsink.mp4" "$model" "$prompt_a" \
      > "$out/appsink-mp4.log" 2>&1 && is_mp4 "$out/appsink.mp4"; then
    ok "hart-appsink --video writes an MP4"
  else
    sed 's/^/# /' "$out/appsink-mp4.log"
    not_ok "hart-appsink --video writes an MP4"
  fi
  check_decodes "$out/appsink.mp4" 2 "hart-appsink --video x.mp4"
else
  skip "hart-appsink --video writes an MP4" \
    "x264enc missing (gstreamer1.0-plugins-ugly)"
fi

# A first argument that looks like a path but is no folder is an error, not
# the prompt.
"$appsink" -o "$out" /nonexistent/dir "x" > "$out/nopath.log" 2>&1
status=$?
if [ $status -eq 2 ] && grep -q "/nonexistent/dir" "$out/nopath.log"; then
  ok "hart-appsink: a missing model folder is an error naming it (status 2)"
else
  sed 's/^/# /' "$out/nopath.log"
  not_ok "hart-appsink: a missing model folder is an error naming it (status $status)"
fi

# The same in the Python example; its arguments are read before PyGObject is
# imported, so any python3 does.
if command -v python3 > /dev/null 2>&1; then
  python3 "$examples/hart-prompt.py" -o "$out" /nonexistent/dir "x" \
    > "$out/py-nopath.log" 2>&1
  status=$?
  if [ $status -eq 2 ] && grep -q "/nonexistent/dir" "$out/py-nopath.log"; then
    ok "hart-prompt.py: a missing model folder is an error naming it (status 2)"
  else
    sed 's/^/# /' "$out/py-nopath.log"
    not_ok "hart-prompt.py: a missing model folder is an error naming it (status $status)"
  fi
else
  skip "hart-prompt.py: a missing model folder" "no python3"
fi

# ---- Python example (PyGObject) ----
python=
for candidate in "${HART_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import gi; gi.require_version("Gst", "1.0");
gi.require_version("GstApp", "1.0"); from gi.repository import Gst, GstApp' \
      > /dev/null 2>&1; then
    python=$candidate
    break
  fi
done
if [ -n "$python" ]; then
  # the example makes its output folder (not made here)
  if "$python" "$examples/hart-prompt.py" --frames 4 --output-dir "$out/python" \
      "$model" "$prompt_a" "$prompt_b" > "$out/python.log" 2>&1 &&
      is_png_128 "$out/python/frame-00000.png" &&
      is_png_128 "$out/python/frame-00003.png" &&
      cmp -s "$out/frames/frame-00000.png" "$out/python/frame-00000.png"; then
    ok "hart-prompt.py writes 4 PNG frames, the first equal to the C example's"
  else
    sed 's/^/# /' "$out/python.log"
    not_ok "hart-prompt.py writes 4 PNG frames, the first equal to the C example's"
  fi
  # Python reads GstHartMeta (a GstCustomMeta) without C code: frame 0 has
  # the first prompt, and the seed, cfg and model of the C example's
  model_name=$(basename "$model")
  if grep -q "^frame 0 pts .* seed 1 draws of frame 0 cfg 4.5 model $model_name prompt \"$prompt_a\"$" \
      "$out/python.log"; then
    ok "hart-prompt.py reads each frame's GstHartMeta"
  else
    sed 's/^/# /' "$out/python.log"
    not_ok "hart-prompt.py reads each frame's GstHartMeta"
  fi
else
  skip "hart-prompt.py" "no python3 with PyGObject and Gst 1.0 (python3-gi, gir1.2-gstreamer-1.0)"
fi

echo "1..$n"
exit $failed
