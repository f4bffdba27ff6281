#!/usr/bin/env python3
# gst-hart — every error of docs/errors.md can be produced as documented
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reproduces each entry of the error catalogue.

Usage: test-error-catalogue.py ERRORS_MD HART_CLI [GST_LAUNCH GST_PLUGIN_DIRS]

Each catalogue entry is a "### ID — title" heading followed, somewhere in
its section, by a fenced block of the kind "repro":

    ```repro
    setup: mkdir -p "$TMP/m"            (any number; each must succeed)
    reproduce: "$HART" inspect /nope    (exactly one; must fail)
    expect: no such file                (one or more; each must appear)
    ```

An expect line may list alternatives separated by " || " (e.g. a message
that differs between a CUDA build and a CPU-only one).  Commands run under
/bin/sh with $HART, $GST_LAUNCH, $FIX (tests/fixtures), $TINY (the tiny
model), $TINY2, $QWEN (the tiny text encoder), $CTX (a context file for
$TINY), $PYTHON and $TMP (a fresh folder per entry) set.  The reproduce
command must exit non-zero and its stdout + stderr must hold every expected
substring.  Entries whose command needs gst-launch-1.0 are skipped when it
is absent.  Standard library only: CI has no torch.  Output is TAP.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

MIN_ENTRIES = 25
TIMEOUT_S = 120

HEADING = re.compile(r"^### (E\d{2,3}) ")
FENCE_OPEN = "```repro"


def parse(path):
    """[(id, title, {setup: [...], reproduce: str, expect: [...]}, line)]"""
    entries = []
    current = None
    in_block = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if in_block:
                if line.strip() == "```":
                    in_block = False
                    continue
                key, sep, value = line.partition(":")
                key = key.strip()
                if not sep or key not in ("setup", "reproduce", "expect"):
                    raise SystemExit("%s:%d: unexpected line in a repro "
                                     "block: %r" % (path, number, line))
                value = value.strip()
                if key == "reproduce":
                    if current[2]["reproduce"] is not None:
                        raise SystemExit("%s:%d: %s has two reproduce lines"
                                         % (path, number, current[0]))
                    current[2]["reproduce"] = value
                else:
                    current[2][key].append(value)
                continue
            m = HEADING.match(line)
            if m:
                current = (m.group(1), line[4:].strip(),
                           {"setup": [], "reproduce": None, "expect": []},
                           number)
                entries.append(current)
            elif line.strip() == FENCE_OPEN:
                if current is None:
                    raise SystemExit("%s:%d: repro block outside an entry"
                                     % (path, number))
                in_block = True
    return entries


# "ulimit -v KIB; COMMAND" shows that COMMAND refuses an absurd size without
# trying to allocate it.  An AddressSanitizer build (.ci/sanitize sets
# ASAN_OPTIONS) cannot even start under ulimit -v: it reserves terabytes of
# address space for its shadow memory.  There ASan's own cap on one
# allocation stands in for the limit (allocator_may_return_null=1 makes an
# allocation over it return NULL, as the ulimit would).
ULIMIT_V = re.compile(r"^ulimit -v (\d+); *")


def run(command, env, cwd):
    limit = ULIMIT_V.match(command)
    if limit and "ASAN_OPTIONS" in env:
        command = command[limit.end():]
        env = dict(env, ASAN_OPTIONS=env["ASAN_OPTIONS"]
                   + ":max_allocation_size_mb=%d"
                   % max(1, int(limit.group(1)) // 1024))
    try:
        p = subprocess.run(["/bin/sh", "-c", command], env=env, cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT_S
    return p.returncode, p.stdout.decode("utf-8", "replace")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    errors_md, hart = argv[1], argv[2]
    gst_launch = argv[3] if len(argv) > 3 else ""
    plugin_dirs = argv[4] if len(argv) > 4 else ""
    fixtures = os.environ.get("HART_FIXTURES")
    if not fixtures:
        print("Bail out! HART_FIXTURES is not set")
        return 1

    entries = parse(errors_md)
    base = tempfile.mkdtemp(prefix="hart-errcat-")
    env = dict(os.environ)
    env.update({
        "HART": hart,
        "GST_LAUNCH": gst_launch,
        "FIX": fixtures,
        "TINY": os.path.join(fixtures, "tiny", "hart-0.7b-1024px"),
        "TINY2": os.path.join(fixtures, "tiny2", "hart-0.7b-1024px"),
        "QWEN": os.path.join(fixtures, "tiny", "Qwen2-VL-1.5B-Instruct"),
        "CTX": os.path.join(fixtures, "goldens", "tiny-context.safetensors"),
        "PYTHON": sys.executable,
        "HART_TOKENIZER_PATH": os.path.join(fixtures, "tokenizer"),
        "GST_PLUGIN_PATH": plugin_dirs,
        "GST_PLUGIN_SYSTEM_PATH_1_0": "",
        "GST_REGISTRY_1_0": os.path.join(base, "registry.bin"),
        "LC_ALL": "C.UTF-8",
    })
    env.pop("HART_MEMORY_BUDGET", None)

    print("1..%d" % (len(entries) + 1))
    failures = 0
    ids = [e[0] for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if len(entries) >= MIN_ENTRIES and not duplicates:
        print("ok 1 - %d catalogue entries, ids unique" % len(entries))
    else:
        failures += 1
        print("not ok 1 - %d entries (at least %d), duplicate ids: %s"
              % (len(entries), MIN_ENTRIES, duplicates or "none"))

    for n, (ident, title, block, line) in enumerate(entries, 2):
        name = "%s: %s" % (ident, title.split(" ", 1)[-1].lstrip("— "))
        if block["reproduce"] is None or not block["expect"]:
            failures += 1
            print("not ok %d - %s: no repro block with reproduce and expect "
                  "lines (%s:%d)" % (n, name, errors_md, line))
            continue
        if "$GST_LAUNCH" in block["reproduce"] and not gst_launch:
            print("ok %d - %s # SKIP gst-launch-1.0 not found" % (n, name))
            continue
        tmp = os.path.join(base, ident)
        os.makedirs(tmp)
        env["TMP"] = tmp
        problem = None
        for setup in block["setup"]:
            status, output = run(setup, env, tmp)
            if status != 0:
                problem = "setup failed (%s): %s\n%s" % (status, setup, output)
                break
        if problem is None:
            status, output = run(block["reproduce"], env, tmp)
            if status is None:
                problem = output
            elif status == 0:
                problem = "exit status 0, expected a failure\n" + output
            elif status < 0 or status in (134, 136, 139):
                problem = "crashed (status %d)\n%s" % (status, output)
            else:
                for expect in block["expect"]:
                    choices = [c.strip() for c in expect.split(" || ")]
                    if not any(c in output for c in choices):
                        problem = "output lacks %r\n%s" % (expect, output)
                        break
        if problem is None:
            print("ok %d - %s" % (n, name))
        else:
            failures += 1
            print("not ok %d - %s" % (n, name))
            for text in problem.splitlines()[:25]:
                print("# " + text)
    shutil.rmtree(base, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
