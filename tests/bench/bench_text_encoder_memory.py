#!/usr/bin/python3
# gst-hart — text encoder benchmark: where its layer matrices are, and what it costs
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where the text encoder's layer matrices are (hart/text-encoder.h,
docs/precision.md "The text encoder's matrices"), measured in one run: the same
prompt through the real-size Qwen2 encoder with its matrices held by the encoder,
used in place in the mapped file, and streamed in f32, per precision.  Each row is
its own process (tests/bench/bench-text-encoder); the encode times are given as
ratios against the held matrices of the same precision, measured in the same run.

  peak RSS             VmHWM: the load and the encodes
  RSS between encodes  VmRSS after the last encode: what the encoder keeps in the
                       process while HART generates (its anonymous memory and the
                       pages of its mapped files)

Usage (not a test; needs Debian's python3-torch):
  /usr/bin/python3 tests/reference/make_fixtures.py /tmp/hart-real-q --config real --lean
  /usr/bin/python3 tests/bench/bench_text_encoder_memory.py \\
      --qwen /tmp/hart-real-q/Qwen2-VL-1.5B-Instruct \\
      --tokenizer tests/fixtures/tokenizer --bench build/tests/bench/bench-text-encoder

--qwen is the release's layout and dtype (bf16 shards).  The script writes the same
weights in f32 (one model.safetensors, 6.2 GB, under --work, once), where fp32 uses
the matrices in place.  bf16 rows are left out, with a note, on a CPU where the
engine has no bf16 (docs/precision.md, "Where bf16 runs").
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

# (precision, folder key, $HART_TEXT_ENCODER_RESIDENT set, what it measures)
RUNS = [
    ("fp32", "qwen32", True, "f32 file, held (reference)"),
    ("fp32", "qwen32", False, "f32 file, in place"),
    ("fp32", "qwen16", False, "bf16 file, streamed in f32"),
    ("bf16", "qwen16", True, "bf16 file, held (reference)"),
    ("bf16", "qwen16", False, "bf16 file, in place"),
]


def write_f32_copy(src, dst):
    """The bf16 shards of SRC as one f32 model.safetensors in DST (bf16 widens
    exactly), with its config.json; read and written one tensor at a time."""
    import st_io_ref
    import st_write

    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    with open(os.path.join(src, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    shapes = {}
    for shard in sorted(set(weight_map.values())):
        header, _ = st_io_ref.read_header(os.path.join(src, shard))
        shapes.update((name, t["shape"]) for name, t in header.items() if name != "__metadata__")

    def produce(name):
        path = os.path.join(src, weight_map[name])
        return st_io_ref.load(path, names=[name])[name]

    tmp = os.path.join(dst, "model.safetensors.part")
    st_write.write(tmp, [(name, "F32", shape) for name, shape in shapes.items()], produce)
    os.rename(tmp, os.path.join(dst, "model.safetensors"))


def run(args, precision, qwen, held):
    env = dict(os.environ)
    env.pop("HART_TEXT_ENCODER_RESIDENT", None)
    if held:
        env["HART_TEXT_ENCODER_RESIDENT"] = "1"
    cmd = [args.bench, "--text-encoder", qwen, "--tokenizer", args.tokenizer,
           "--precision", precision, "--repeat", str(args.repeat)]
    if args.prompt:
        cmd += ["--prompt", args.prompt]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qwen", required=True, help="Qwen2 folder with bf16 shards (the release)")
    ap.add_argument("--work", default="/tmp/hart-bench-text-encoder",
                    help="where the f32 copy is written (once)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer folder")
    ap.add_argument("--bench", required=True, help="path of bench-text-encoder")
    ap.add_argument("--repeat", type=int, default=2, help="timed encodes per row (2)")
    ap.add_argument("--prompt", default=None)
    ap.add_argument("--precisions", default="fp32,bf16")
    args = ap.parse_args()
    wanted = args.precisions.split(",")
    args.qwen16 = args.qwen
    args.qwen32 = os.path.join(args.work, "Qwen2-VL-1.5B-Instruct-f32")
    if "fp32" in wanted and not os.path.exists(os.path.join(args.qwen32, "model.safetensors")):
        print(f"writing the f32 copy of {args.qwen} to {args.qwen32} …", file=sys.stderr)
        write_f32_copy(args.qwen, args.qwen32)

    print(f"{'run':<30} {'precision':<9} {'matrices':<34} {'encode s':>9} "
          f"{'vs held':>8} {'peak RSS MiB':>13} {'RSS between MiB':>16}")
    held_time = {}
    for precision, key, held, what in RUNS:
        if precision not in wanted:
            continue
        r, err = run(args, precision, getattr(args, key), held)
        if r is None:
            print(f"{what:<30} {precision:<9} left out: {err}")
            continue
        if held:
            held_time[precision] = r["encode_best_s"]
        ratio = (f"{held_time[precision] / r['encode_best_s']:.2f}x"
                 if precision in held_time else "")
        print(f"{what:<30} {r['precision']:<9} {r['matrices']:<34} "
              f"{r['encode_best_s']:>9.2f} {ratio:>8} {r['peak_rss_mib']:>13.0f} "
              f"{r['rss_end_mib']:>16.0f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
