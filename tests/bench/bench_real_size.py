#!/usr/bin/python3
"""Real-size engine benchmark on one device: per stage and per op, warm.

The C engine alone (no reference), at the real width and depth of
hart-0.7b-1024px with random weights from the project's generator, for each
asked resolution and precision: `hart bench --device DEV --ops`, whose
tables give each stage's warm time and, op by op, where it goes and at what
rate (docs/performance.md, "Where the time goes").  Made for a machine that
has only a Python with PyTorch and a `hart` binary (the GPU machines of
tests/device/run-cuda-bench.sh): the fixture (once, under --work, about
6 GB: the release's two copies of the transformer), a folder per
resolution (weights linked) and a random context are written here, nothing
else is needed.  hart's output goes straight to this script's, so a run
stopped by a time limit keeps what it printed.

Usage:
  python3 tests/bench/bench_real_size.py --hart build/tools/hart --device cpu --sizes 256
  python3 tests/bench/bench_real_size.py --hart BIN/hart --device cuda --sizes 512,1024 \\
      --precision fp32 --repeat 3
  python3 tests/bench/bench_real_size.py --hart BIN/hart --device cuda --sizes 1024 \\
      --precision bf16 --batches 1,8 --no-ops     (batch 8: images/s)
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

from bench_precision import PATCH_NUMS  # noqa: E402  (256, 512, 1024 px)


def make_context(llm_config, path, seed=7, batch=1):
    """The reference's random context (N(0, 1), two thirds real tokens) of
    the model's shape, without loading the checkpoint; BATCH rows (images)."""
    import types
    import hart_reference as R
    import st_io_ref

    with open(llm_config) as f:
        c = json.load(f)
    shape = types.SimpleNamespace(T=int(c["context_token"]), D=int(c["context_dim"]))
    ctx, mask, pos = R.random_context(shape, seed, B=batch)
    st_io_ref.save(path, dict(context_tensor=ctx.contiguous(), context_mask=mask.contiguous(),
                              context_position_ids=pos.contiguous()))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hart", required=True, help="path of the `hart` tool")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (hart bench --device)")
    ap.add_argument("--sizes", default="512,1024",
                    help="comma-separated resolutions among " + ", ".join(map(str, PATCH_NUMS)))
    ap.add_argument("--precision", default="fp32",
                    help="hart bench --precision (comma-separated; the first is the reference)")
    ap.add_argument("--repeat", type=int, default=2, help="generations per precision (first cold)")
    ap.add_argument("--batches", default="1",
                    help="comma-separated images per generation (a context of that many rows; "
                         "hart bench then gives images/s)")
    ap.add_argument("--work", default="/tmp/hart-bench-real-size")
    ap.add_argument("--no-ops", action="store_true", help="stage times only")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for s in sizes:
        if s not in PATCH_NUMS:
            ap.error(f"--sizes: {s} is not one of {sorted(PATCH_NUMS)}")
    batches = [int(b) for b in args.batches.split(",")]
    if any(b < 1 or b > 64 for b in batches):
        ap.error("--batches: each in 1 … 64")

    from bench_engine import bench_folder

    real = os.path.join(args.work, "real")
    llm = os.path.join(real, "hart-0.7b-1024px", "llm")
    if not os.path.exists(os.path.join(llm, "ema_model.bin")):
        t0 = time.time()
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "reference", "make_fixtures.py"),
                        real, "--config", "real", "--no-qwen", "--lean"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"fixture (real size, random weights): {time.time() - t0:.1f} s", flush=True)
    # context.safetensors (one image) is also what time_official.py reads
    ctx_paths = {}
    for b in batches:
        ctx_paths[b] = os.path.join(args.work, "context.safetensors" if b == 1
                                    else f"context-b{b}.safetensors")
        if not os.path.exists(ctx_paths[b]):
            make_context(os.path.join(llm, "config.json"), ctx_paths[b], batch=b)

    status = 0
    for size in sizes:
        folder = bench_folder(real, os.path.join(args.work, f"size-{size}"), PATCH_NUMS[size])
        for b in batches:
            cmd = [args.hart, "bench", "--model", folder, "--context", ctx_paths[b],
                   "--device", args.device, "--precision", args.precision,
                   "--repeat", str(args.repeat), "--seed", "42"]
            if not args.no_ops:
                cmd.append("--ops")
            print(f"== {size}x{size} px (scales {PATCH_NUMS[size]}), batch {b}: {' '.join(cmd)}",
                  flush=True)
            run = subprocess.run(cmd)
            if run.returncode != 0:
                print(f"== {size}x{size}, batch {b}: hart bench exited with {run.returncode}",
                      flush=True)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
