#!/usr/bin/env python3
# gst-hart — an application survives hostile model folders
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A PyGObject application points hartsrc at model folders built to hurt
it, then draws one good frame in the same process.

Usage: hostile-app.py TINY_MODEL_DIR

Each hostile folder is a copy of the tiny model whose llm/config.json (or
tokenizer/config.json) is replaced: a FIFO (open() used to block the
application's thread inside set_state() forever), 100,000 nested '[' (a
stack overflow inside json-glib killed the process), a link to /dev/zero
(read whole before its size was checked), and a config whose depth
disagrees with the weights (loaded, ignoring a block).  Each must end in one ERROR
message on the bus within the watchdog's time, and the process must go on
to produce a good frame.  Output is TAP.
"""
import os
import shutil
import sys
import tempfile
import threading

# The python with PyGObject: $HART_PYTHON (.ci/sanitize's ASan wrapper),
# else this one, else Debian's (meson may have found another python3).
if not os.environ.get("HART_HOSTILE_APP_REEXEC"):
    os.environ["HART_HOSTILE_APP_REEXEC"] = "1"
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

WATCHDOG_S = 60


def deep_json(path):
    os.remove(path)
    with open(path, "w") as f:
        f.write('{"depth": ' + "[" * 100000)


def fifo(path):
    os.remove(path)
    os.mkfifo(path)


def dev_zero(path):
    os.remove(path)
    os.symlink("/dev/zero", path)


def fewer_blocks(path):
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('"depth": 2,', '"depth": 1,', 1))


CASES = [
    ("fifo config.json", "llm/config.json", fifo, "expected a regular file"),
    ("deep config.json", "llm/config.json", deep_json, "deeper than 32 levels"),
    ("deep tokenizer config.json", "tokenizer/config.json", deep_json,
     "deeper than 32 levels"),
    ("/dev/zero config.json", "llm/config.json", dev_zero,
     "is a character device"),
    ("blocks beyond depth", "llm/config.json", fewer_blocks,
     'but config "depth" is 1'),
]


def run_pipeline(model_dir):
    """(error message + debug, or None; number of buffers)"""
    pipeline = Gst.parse_launch(
        "hartsrc name=src num-buffers=1 ! fakesink name=sink signal-handoffs=true")
    src = pipeline.get_by_name("src")
    if model_dir is not None:
        src.set_property("model-path", model_dir)
    buffers = []
    pipeline.get_by_name("sink").connect(
        "handoff", lambda sink, buf, pad: buffers.append(buf.get_size()))
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    msg = bus.timed_pop_filtered(
        30 * Gst.SECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
    text = None
    if msg is not None and msg.type == Gst.MessageType.ERROR:
        err, debug = msg.parse_error()
        text = "%s (%s)" % (err.message, debug)
    pipeline.set_state(Gst.State.NULL)
    return text, len(buffers)


def main():
    tiny = sys.argv[1]
    Gst.init(None)
    # A hang is the defect: end the process with a clear line instead of
    # leaving it to the test harness's timeout.
    watchdog = threading.Timer(WATCHDOG_S, lambda: (
        print("Bail out! the application hung (watchdog %d s)" % WATCHDOG_S,
              flush=True), os._exit(1)))
    watchdog.daemon = True
    watchdog.start()

    print("1..%d" % (len(CASES) + 1), flush=True)
    failed = 0
    for number, (name, file, make, expect) in enumerate(CASES, 1):
        scratch = tempfile.mkdtemp(prefix="hart-hostile-app-")
        try:
            for sub in ("llm", "tokenizer"):
                shutil.copytree(os.path.join(tiny, sub),
                                os.path.join(scratch, sub))
            make(os.path.join(scratch, file))
            text, n = run_pipeline(scratch)
        finally:
            shutil.rmtree(scratch)
        if text is not None and expect in text and n == 0:
            print("ok %d - %s" % (number, name), flush=True)
        else:
            failed += 1
            print("not ok %d - %s" % (number, name))
            print("# error: %r, buffers: %d" % (text, n), flush=True)

    # the same process still works
    text, n = run_pipeline(tiny)
    number = len(CASES) + 1
    if text is None and n == 1:
        print("ok %d - a good frame afterwards" % number)
    else:
        failed += 1
        print("not ok %d - a good frame afterwards" % number)
        print("# error: %r, buffers: %d" % (text, n))
    watchdog.cancel()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
