#!/usr/bin/env python3
# gst-hart — a Python application reads GstHartMeta and the progress messages
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A PyGObject application runs

    hartsrc num-buffers=2 seed-mode=increment ! appsink

and reads, without any C code of the plugin, each buffer's GstHartMeta
(a GstCustomMeta: prompt, seed, frame, cfg-scale, model, fingerprint,
precision) and
the frame index and PTS of the "hart-progress" messages.

Usage: meta-app.py TINY_MODEL_DIR
Output is TAP; skips without PyGObject.
"""
import os
import sys

# The python with PyGObject: $HART_PYTHON (.ci/sanitize's ASan wrapper),
# else this one, else Debian's (meson may have found another python3).
if not os.environ.get("HART_META_APP_REEXEC"):
    os.environ["HART_META_APP_REEXEC"] = "1"
    for candidate in (os.environ.get("HART_PYTHON"), "/usr/bin/python3"):
        if candidate and os.access(candidate, os.X_OK) and \
                os.path.realpath(candidate) != os.path.realpath(sys.executable):
            try:
                import gi  # noqa: F401
                if not os.environ.get("HART_PYTHON"):
                    break   # this python has it and no wrapper is asked for
            except ImportError:
                pass
            os.execv(candidate, [candidate] + sys.argv)

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError):
    print("1..0 # SKIP PyGObject with Gst 1.0 is not installed")
    sys.exit(0)

PROMPT = "a lighthouse in a storm at night"
SEED = 21
CFG = 3.5
N_FRAMES = 2


class Tap:
    def __init__(self, planned):
        self.number = 0
        self.failed = 0
        print("1..%d" % planned, flush=True)

    def check(self, ok, name, detail=None):
        self.number += 1
        print("%sok %d - %s" % ("" if ok else "not ", self.number, name))
        if not ok:
            self.failed += 1
            if detail is not None:
                print("# %s" % detail)
        sys.stdout.flush()


def meta_fields(buffer):
    """The GstHartMeta fields of BUFFER as Python values, or None."""
    meta = buffer.get_custom_meta("GstHartMeta")
    if meta is None:
        return None
    s = meta.get_structure()
    fields = {"name": s.get_name()}
    for field, getter in (("prompt", s.get_string), ("model", s.get_string),
                          ("fingerprint", s.get_string),
                          ("precision", s.get_string)):
        fields[field] = getter(field)
    for field, getter in (("seed", s.get_uint64), ("frame", s.get_uint),
                          ("cfg-scale", s.get_double)):
        found, value = getter(field)
        fields[field] = value if found else None
    return fields


def main():
    tiny = sys.argv[1]
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "hartsrc name=src num-buffers=%d seed-mode=increment seed=%d "
        "cfg-scale=%g ! video/x-raw,framerate=4/1 ! "
        "appsink name=sink sync=false" % (N_FRAMES, SEED, CFG))
    src = pipeline.get_by_name("src")
    src.set_property("model-path", tiny)
    src.set_property("prompt", PROMPT)
    sink = pipeline.get_by_name("sink")
    tap = Tap(2 * N_FRAMES + 3 + 2)

    pipeline.set_state(Gst.State.PLAYING)
    frames = []
    for _ in range(N_FRAMES):
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buffer = sample.get_buffer()
        frames.append((buffer.offset, buffer.pts, meta_fields(buffer)))

    # every message is on the bus once EOS is
    bus = pipeline.get_bus()
    progress = []
    error = None
    while True:
        msg = bus.timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.ELEMENT
                                     | Gst.MessageType.EOS
                                     | Gst.MessageType.ERROR)
        if msg is None or msg.type == Gst.MessageType.EOS:
            break
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            error = "%s (%s)" % (err.message, debug)
            break
        s = msg.get_structure()
        if s.get_name() == "hart-progress":
            progress.append((s.get_uint64("frame"), s.get_uint64("pts"),
                             s.get_int("stage")[1], s.get_int("n-stages")[1]))
    pipeline.set_state(Gst.State.NULL)

    tap.check(len(frames) == N_FRAMES and error is None,
              "%d frames through appsink" % N_FRAMES,
              "%d frames, error %r" % (len(frames), error))
    model = os.path.basename(os.path.normpath(tiny))
    for index, (offset, pts, fields) in enumerate(frames):
        expected = {"name": "GstHartMeta", "prompt": PROMPT, "seed": SEED,
                    "frame": index, "cfg-scale": CFG, "model": model,
                    "precision": "fp32"}
        got = None if fields is None else \
            {key: fields[key] for key in expected}
        tap.check(got == expected,
                  "frame %d: prompt, seed, frame, cfg-scale, model and "
                  "precision from the custom meta" % index, "got %r" % (fields,))
        fingerprint = fields and fields["fingerprint"]
        tap.check(isinstance(fingerprint, str) and len(fingerprint) == 64,
                  "frame %d: the model's fingerprint" % index,
                  "got %r" % (fingerprint,))

    # progress: (found, value) pairs for frame and pts
    ok = bool(progress) and all(f[0] and p[0] for f, p, _, _ in progress)
    frames_seen = sorted({f[1] for f, _, _, _ in progress}) if ok else None
    tap.check(ok and frames_seen == list(range(N_FRAMES)),
              "progress messages carry the frame index of both frames",
              "frames %r in %d messages" % (frames_seen, len(progress)))
    pts_ok = ok and all(p[1] == f[1] * Gst.SECOND // 4
                        for f, p, _, _ in progress)
    done = [f[1] for f, _, stage, n in progress if stage == n] if ok else []
    tap.check(pts_ok and done == list(range(N_FRAMES)),
              "progress messages carry each frame's PTS; each frame ends "
              "with stage == n-stages",
              "messages %r" % (progress,))

    check_seeking(tap, tiny)
    return 1 if tap.failed else 0


def frames_of(tiny, n, seek=None):
    """(offset, pts, bytes) of N frames of a seed-mode=increment hartsrc at
    4 frames a second; with SEEK = (format, position) a flushing seek is
    made once the pipeline has prerolled, and the frames are those after
    it."""
    pipeline = Gst.parse_launch(
        "hartsrc name=src num-buffers=12 seed-mode=increment seed=%d ! "
        "video/x-raw,framerate=4/1 ! appsink name=sink sync=false" % SEED)
    src = pipeline.get_by_name("src")
    src.set_property("model-path", tiny)
    src.set_property("prompt", PROMPT)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PAUSED)
    pipeline.get_state(60 * Gst.SECOND)
    if seek is not None:
        if not pipeline.seek_simple(seek[0], Gst.SeekFlags.FLUSH, seek[1]):
            pipeline.set_state(Gst.State.NULL)
            return None
        pipeline.get_state(60 * Gst.SECOND)
    pipeline.set_state(Gst.State.PLAYING)
    frames = []
    for _ in range(n):
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buffer = sample.get_buffer()
        frames.append((buffer.offset, buffer.pts,
                       buffer.extract_dup(0, buffer.get_size())))
    pipeline.set_state(Gst.State.NULL)
    return frames


def check_seeking(tap, tiny):
    """A player seeks in time and in frames: the frames from the seek on are
    those of an unbroken run, bytes and timestamps."""
    unbroken = frames_of(tiny, 4)
    for name, seek, first in (("time", (Gst.Format.TIME, Gst.SECOND // 2), 2),
                              ("frames", (Gst.Format.DEFAULT, 3), 3)):
        got = frames_of(tiny, 4 - first, seek)
        tap.check(got is not None and unbroken is not None
                  and got == unbroken[first:],
                  "a flushing seek in %s to frame %d gives frames %d… of an "
                  "unbroken run" % (name, first, first),
                  "got %r" % ([f[:2] for f in got] if got else got,))


if __name__ == "__main__":
    sys.exit(main())
