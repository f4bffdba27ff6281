#!/usr/bin/python3
"""Batch benchmark: N frames of video one at a time, then in batches, same run.

`hart generate --frames N --seed-mode increment` with `--batch 1` and
`--batch B` on a copy of the real-size release folder (hart-0.7b-1024px's
widths and depths, a shorter scale list: default 16×16 latent tokens →
256×256 px), from one context file, in each precision asked for.  Prints
the wall time per frame and the ratio batch-1 / batch-B (> 1: batches are
faster), and whether the two runs' frames are the same bytes (they must
be: docs/video.md, "Batches of frames").

Usage (not a test; the real-size fixture needs Debian's python3-torch):
  /usr/bin/python3 tests/reference/make_fixtures.py /tmp/hart-real --config real --no-qwen --lean
  /usr/bin/python3 tests/bench/bench_precision.py …   (writes WORK/context.safetensors)
  /usr/bin/python3 tests/bench/bench_batch.py --real /tmp/hart-real --hart build/tools/hart \
      --context /tmp/hart-bench-precision/context.safetensors
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_engine import bench_folder  # noqa: E402


def run(cmd):
    start = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - start


def frame_bytes(work, precision, batch, i):
    with open(os.path.join(work, f"{precision}-b{batch}-{i:04d}.png"), "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="output of make_fixtures.py --config real")
    ap.add_argument("--hart", required=True, help="path of the built `hart` tool")
    ap.add_argument("--context", required=True,
                    help="a context file of the real model's shape (bench_precision.py writes one)")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "hart-bench-batch"))
    ap.add_argument("--patch-nums", default="1,2,3,4,5,7,9,12,16")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--precisions", default="fp32,bf16")
    args = ap.parse_args()

    model = bench_folder(args.real, args.work, [int(p) for p in args.patch_nums.split(",")])
    context = args.context
    side = 16 * int(args.patch_nums.split(",")[-1])
    print(f"{args.frames} frames of {side}×{side}, real-size model, {os.cpu_count()} CPUs")
    for precision in args.precisions.split(","):
        times = {}
        for batch in (1, args.batch):
            out = os.path.join(args.work, f"{precision}-b{batch}.png")
            times[batch] = run([args.hart, "generate", "--model", model, "--context", context,
                                "--frames", str(args.frames), "--seed-mode", "increment",
                                "--batch", str(batch), "--precision", precision, "-q", "-o", out])
            print(f"{precision} batch {batch}: {times[batch]:.1f} s, "
                  f"{times[batch] / args.frames:.2f} s a frame", flush=True)
        same = all(frame_bytes(args.work, precision, 1, i) == frame_bytes(args.work, precision, args.batch, i)
                   for i in range(args.frames))
        print(f"{precision}: batch {args.batch} is {times[1] / times[args.batch]:.2f}× batch 1; "
              f"frames {'identical' if same else 'DIFFERENT'} byte for byte")


if __name__ == "__main__":
    main()
