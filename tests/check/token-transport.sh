#!/bin/sh
# gst-hart — token frames across files and processes, byte for byte
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# usage: token-transport.sh GST-LAUNCH MODEL-DIR OUTPUT-DIR
# (registered by tests/check/meson.build with GST_PLUGIN_PATH set to the
# build's gst/ folder and links to coreelements, tcp, gdp, multifile,
# playback).  TAP output.
#
#  - a file of token frames (hartsrc ! video/x-hart-tokens ! filesink) read
#    back with filesrc ! hartparse ! hartrefine (and with typefind first)
#    gives the pictures of hartsrc ! hartrefine, byte for byte;
#  - a damaged file is an error naming the byte offset, not a hang;
#  - the AR stage and the refinement in two processes over TCP on loopback
#    (gdppay ! tcpserversink, tcpclientsrc ! gdpdepay): an early client and
#    a client that connects after frames were sent both get pictures equal
#    to the single pipeline's frames of the same number (buffer offset).
# Every gst-launch-1.0 runs under `timeout`; background processes are killed
# on exit.
set -u

GST_LAUNCH=$1
model=$2
out=$3
LIMIT=${HART_TRANSPORT_TIMEOUT:-60}
FRAMES=8

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
show () {
  sed 's/^/# /' "$1" | tail -n 30
}

pids=
cleanup () {
  for pid in $pids; do
    kill "$pid" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

launch () {
  timeout "$LIMIT" "$GST_LAUNCH" "$@"
}

RAW=video/x-raw,format=RGB

# ---- token files ----

launch -q hartsrc model-path="$model" num-buffers=3 seed-mode=increment ! \
  video/x-hart-tokens ! filesink location="$out/x.tok" > "$out/write.log" 2>&1
launch -q hartsrc model-path="$model" num-buffers=3 seed-mode=increment ! \
  hartrefine model-path="$model" ! $RAW ! filesink location="$out/whole.rgb" \
  > "$out/whole.log" 2>&1
if [ -s "$out/x.tok" ] && [ -s "$out/whole.rgb" ] &&
    [ "$(wc -c < "$out/whole.rgb")" -eq $((3 * 128 * 128 * 3)) ]; then
  ok "hartsrc wrote 3 token frames and 3 pictures"
else
  show "$out/write.log"
  show "$out/whole.log"
  not_ok "hartsrc wrote 3 token frames and 3 pictures"
fi

for head in "" "typefind !"; do
  name="filesrc ! ${head:+$head }hartparse ! hartrefine"
  # shellcheck disable=SC2086 # $head is one element and a link, or nothing
  launch -q filesrc location="$out/x.tok" ! $head hartparse ! \
    hartrefine model-path="$model" ! $RAW ! filesink location="$out/parsed.rgb" \
    > "$out/parsed.log" 2>&1
  if cmp -s "$out/parsed.rgb" "$out/whole.rgb"; then
    ok "$name: the pictures of hartsrc ! hartrefine"
  else
    show "$out/parsed.log"
    not_ok "$name: the pictures of hartsrc ! hartrefine"
  fi
done

# A file cut inside its third frame: the first two pictures, then an error
# naming the third frame's offset.
frame_size=$(($(wc -c < "$out/x.tok") / 3))
head -c $((2 * frame_size + 1000)) "$out/x.tok" > "$out/cut.tok"
launch filesrc location="$out/cut.tok" ! hartparse ! \
  hartrefine model-path="$model" ! $RAW ! filesink location="$out/cut.rgb" \
  > "$out/cut.log" 2>&1
status=$?
if [ $status -ne 0 ] && [ $status -ne 124 ] &&
    grep -q "ends inside a frame at byte offset $((2 * frame_size))\." "$out/cut.log" &&
    [ "$(wc -c < "$out/cut.rgb")" -eq $((2 * 128 * 128 * 3)) ]; then
  ok "a truncated file: two pictures, then an error naming offset $((2 * frame_size))"
else
  show "$out/cut.log"
  not_ok "a truncated file: two pictures, then an error naming the offset (status $status)"
fi

# ---- two processes over TCP ----

has_element () {
  gst-inspect-1.0 --exists "$1" 2>/dev/null
}
if ! has_element gdppay || ! has_element tcpserversink; then
  n=$((n + 1))
  echo "ok $n - two processes over TCP # SKIP gdppay (gstreamer1.0-plugins-bad) or tcpserversink (-base) missing"
  echo "1..$n"
  exit $failed
fi

# the reference: one process, frames numbered from 0
mkdir -p "$out/ref" "$out/early" "$out/late"
launch -q hartsrc model-path="$model" num-buffers=$FRAMES seed-mode=increment ! \
  hartrefine model-path="$model" ! $RAW ! \
  multifilesink location="$out/ref/%05d.rgb" > "$out/ref.log" 2>&1

# The server picks a free port (port=0) and gst-launch -v prints it
# (current-port).  Paced at 2 frames a second by the sink's clock
# (sync=true), so that the late client connects while frames are still to
# come.  Not a live source: a live hartsrc skips the frames whose time
# passed while it was generating (on a slow machine, or under the
# sanitizers), and every frame number must be in the reference.
launch -v hartsrc model-path="$model" num-buffers=$FRAMES seed-mode=increment \
  ! video/x-hart-tokens,framerate=2/1 ! gdppay ! \
  tcpserversink host=127.0.0.1 port=0 sync=true > "$out/server.log" 2>&1 &
server=$!
pids="$pids $server"
port=
i=0
while [ $i -lt 300 ] && [ -z "$port" ]; do
  port=$(sed -n 's/.*current-port = \([1-9][0-9]*\).*/\1/p' "$out/server.log" |
    head -n 1)
  [ -n "$port" ] || sleep 0.1
  i=$((i + 1))
done

# gst-launch -m prints multifilesink's message for each file: its name and
# the buffer offset, which hartsrc sets to the frame number and GDP and
# hartrefine carry.
client () { # NAME
  launch -m tcpclientsrc host=127.0.0.1 port="$port" ! gdpdepay ! \
    hartrefine model-path="$model" ! $RAW ! \
    multifilesink post-messages=true location="$out/$1/%05d.rgb" \
    > "$out/$1.log" 2>&1
}

if [ -z "$port" ]; then
  show "$out/server.log"
  not_ok "tcpserversink listens"
else
  ok "tcpserversink listens on 127.0.0.1:$port"
  client early &
  early=$!
  pids="$pids $early"
  # the late client connects once the early one has a picture: frames
  # were sent before it came
  i=0
  while [ $i -lt 600 ] && [ ! -s "$out/early/00000.rgb" ]; do
    sleep 0.1
    i=$((i + 1))
  done
  client late &
  late=$!
  pids="$pids $late"
  wait $server
  server_status=$?
  wait $early
  early_status=$?
  wait $late
  late_status=$?
  if [ $server_status -eq 0 ] && [ $early_status -eq 0 ] && [ $late_status -eq 0 ]; then
    ok "server and both clients exit 0"
  else
    show "$out/server.log"
    show "$out/early.log"
    show "$out/late.log"
    not_ok "server and both clients exit 0 (status $server_status, $early_status, $late_status)"
  fi

  # NAME: "FILE OFFSET" lines; checks each picture against the reference
  # of its frame number, and that the numbers follow each other
  check_client () {
    sed -n 's/.*GstMultiFileSink, filename=(string)\([^,]*\),.*offset=(guint64)\([0-9]*\),.*/\1 \2/p' \
      "$out/$1.log" > "$out/$1.frames"
    got=0 bad=0 first= prev=
    while read -r file offset; do
      got=$((got + 1))
      [ -n "$first" ] || first=$offset
      if [ -n "$prev" ] && [ "$offset" -ne $((prev + 1)) ]; then
        bad=$((bad + 1))
        echo "# $1: frame $offset after frame $prev"
      fi
      prev=$offset
      if ! cmp -s "$file" "$out/ref/$(printf %05d "$offset").rgb"; then
        bad=$((bad + 1))
        echo "# $1: $file (frame $offset) differs from the single pipeline's"
      fi
    done < "$out/$1.frames"
    echo "# $1: $got frames, from frame ${first:-none}"
  }
  check_client early
  early_first=$first early_got=$got
  if [ "$got" -ge 3 ] && [ "$bad" -eq 0 ]; then
    ok "early client: $got pictures, each equal to the single pipeline's frame"
  else
    show "$out/early.log"
    not_ok "early client: $got pictures ($bad wrong or out of order)"
  fi
  check_client late
  if [ "$got" -ge 1 ] && [ "$bad" -eq 0 ] && [ -n "$early_first" ] &&
      [ "$first" -gt "$early_first" ]; then
    ok "late client: joins at frame $first, $got pictures equal to the single pipeline's"
  else
    show "$out/late.log"
    not_ok "late client: $got pictures from frame ${first:-none} ($bad wrong; early client from ${early_first:-none}, $early_got)"
  fi
fi

echo "1..$n"
exit $failed
