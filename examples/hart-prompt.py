#!/usr/bin/env python3
# gst-hart — example: hartsrc from Python (PyGObject), prompt changed while playing
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pull frames from hartsrc through an appsink, change the prompt half way,
and write every frame as OUTPUT_DIR/frame-NNNNN.png through a second pipeline
(appsrc ! videoconvert ! pngenc ! multifilesink).

    GST_PLUGIN_PATH=build/gst python3 examples/hart-prompt.py \\
        --frames 8 --output-dir out hart-0.7b-1024px "a red fox" "a snowy owl"

The model folder is the first argument when it is a folder, else --model, else
$HART_MODEL_PATH, else hartsrc's default: the bundled shapes model.  A first
argument that looks like a path (it starts with '/', '.' or '~', or has a '/'
and no space) but is not a folder is an error (exit status 2).  Needs the Debian
packages python3-gi and gir1.2-gstreamer-1.0 (and gir1.2-gst-plugins-base-1.0
for GstApp).
"""

import argparse
import os
import sys

# Imported here, reported after the arguments are read (their mistakes first).
try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstApp", "1.0")
    from gi.repository import Gst, GstApp  # noqa: E402,F401  (GstApp: appsink/appsrc methods)
    GI_ERROR = None
except (ImportError, ValueError) as gi_error:
    GI_ERROR = gi_error


def pop_error(pipeline):
    """Print an error waiting on the pipeline's bus, if any."""
    message = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
    if message is not None:
        error, detail = message.parse_error()
        print(f"error from {message.src.get_name()}: {error.message}\n  {detail}",
              file=sys.stderr)


def describe_frame(buffer):
    """What the frame's GstHartMeta says about its origin.  The meta is a
    GstCustomMeta: a GstStructure that PyGObject reads, no C code needed."""
    meta = buffer.get_custom_meta("GstHartMeta")
    if meta is None:
        return "(no GstHartMeta)"
    s = meta.get_structure()
    seed = s.get_uint64("seed")[1]
    frame = s.get_uint("frame")[1]
    cfg = s.get_double("cfg-scale")[1]
    # the prompt last: it may hold any character
    return (f"seed {seed} draws of frame {frame} cfg {cfg:g} "
            f'model {s.get_string("model")} prompt "{s.get_string("prompt")}"')


def looks_like_path(argument):
    """A prompt has spaces and no slashes; a path starts with '/', '.' or '~',
    or has a '/' and no space ("models/hart-0.7b-1024px")."""
    return (argument.startswith(("/", ".", "~"))
            or ("/" in argument and " " not in argument))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", metavar="[MODEL-FOLDER] [PROMPT [SECOND-PROMPT]]",
                        help="the model folder when the first is a folder, then the prompts")
    parser.add_argument("-m", "--model",
                        help="HART release folder (default: $HART_MODEL_PATH, else the "
                        "bundled model)")
    parser.add_argument("-n", "--frames", type=int, default=8)
    parser.add_argument("-o", "--output-dir", default=".")
    parser.add_argument("-i", "--increment", action="store_true",
                        help="seed-mode=increment: a new sample every frame")
    parser.add_argument("-k", "--keep-scales", type=int, default=0)
    parser.add_argument("-t", "--transition-frames", type=int, default=0)
    args = parser.parse_args()
    words = list(args.words)
    if words and os.path.isdir(words[0]):
        args.model = words.pop(0)
    elif words and looks_like_path(words[0]):
        parser.error(f"{words[0]}: no such model folder (a prompt has spaces and "
                     "no '/'; give the model with --model DIR)")
    elif not args.model:
        args.model = os.environ.get("HART_MODEL_PATH") or None
    if len(words) > 2:
        parser.error("at most two prompts")
    args.prompt = words[0] if words else "a red apple on a wooden table"
    args.second_prompt = words[1] if len(words) > 1 else "a green pear on a blue plate"
    if args.frames < 1:
        parser.error("--frames must be at least 1")

    if GI_ERROR is not None:
        print(f"PyGObject with Gst 1.0 and GstApp 1.0: {GI_ERROR} (Debian: python3-gi, "
              "gir1.2-gstreamer-1.0, gir1.2-gst-plugins-base-1.0)", file=sys.stderr)
        return 1
    Gst.init(None)
    source = Gst.ElementFactory.make("hartsrc", "source")
    if source is None:
        print("no element hartsrc: set GST_PLUGIN_PATH to the folder holding "
              "libgsthart.so", file=sys.stderr)
        return 1
    if args.model:  # else hartsrc's default, the bundled model
        source.set_property("model-path", args.model)
    source.set_property("prompt", args.prompt)
    source.set_property("keep-scales", args.keep_scales)
    source.set_property("transition-frames", args.transition_frames)
    Gst.util_set_object_arg(source, "seed-mode",
                            "increment" if args.increment else "fixed")

    pipeline = Gst.parse_launch(
        "videoconvert name=convert ! video/x-raw,format=RGB ! "
        "appsink name=sink sync=false max-buffers=1")
    pipeline.add(source)
    source.link(pipeline.get_by_name("convert"))
    sink = pipeline.get_by_name("sink")

    # made if missing, as a user expects of an output folder
    try:
        os.makedirs(args.output_dir, exist_ok=True)
    except OSError as error:
        print(f"cannot make the output folder {args.output_dir}: {error}", file=sys.stderr)
        return 1
    location = os.path.join(args.output_dir, "frame-%05d.png")
    writer = Gst.parse_launch(
        "appsrc name=frames format=time ! videoconvert ! pngenc ! "
        f'multifilesink location="{location}"')
    frames_in = writer.get_by_name("frames")

    writer.set_state(Gst.State.PLAYING)
    ok = pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    if not ok:
        pop_error(pipeline)

    for index in range(args.frames if ok else 0):
        sample = sink.pull_sample()
        if sample is None:
            pop_error(pipeline)
            print(f"the stream ended after {index} frames", file=sys.stderr)
            ok = False
            break
        buffer = sample.get_buffer()
        print(f"frame {index} pts {buffer.pts / Gst.SECOND:.3f} s "
              f"{describe_frame(buffer)}")
        if frames_in.emit("push-sample", sample) != Gst.FlowReturn.OK:
            print(f"the PNG writer refused frame {index}", file=sys.stderr)
            ok = False
        if index + 1 == args.frames // 2:
            # Applies from the next frame hartsrc starts.
            print(f'changing the prompt to "{args.second_prompt}"')
            source.set_property("prompt", args.second_prompt)

    pipeline.set_state(Gst.State.NULL)
    frames_in.emit("end-of-stream")
    message = writer.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if message.type == Gst.MessageType.ERROR:
        error, detail = message.parse_error()
        print(f"PNG writer: {error.message}\n  {detail}", file=sys.stderr)
        ok = False
    writer.set_state(Gst.State.NULL)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
