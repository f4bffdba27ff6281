#!/usr/bin/python3
"""Precision benchmark: fp32 against bf16, the C engine against PyTorch, one run.

At the real width and depth of hart-0.7b-1024px (random weights from the
project's generator), for one resolution:
  1. `hart bench --precision fp32,bf16`: warm per-stage timings of both
     precisions in one process, their ratios, oneDNN's ISA, peak RSS;
  2. the project's PyTorch reference (tests/reference/hart_reference.py) on
     the same checkpoint, context and cores, eager fp32 and under
     torch.autocast("cpu", bfloat16): PyTorch runs its CPU matmuls on
     oneDNN too, so it is the fair anchor.  Skipped at 1024 px (the
     reference materialises the whole attention score matrix: it does not
     fit in 24 GiB there) or with --skip-reference.
Prints the ratios.  docs/precision.md keeps the figures.

Usage (not a test; needs Debian's python3-torch):
  /usr/bin/python3 tests/reference/make_fixtures.py /tmp/hart-real --config real --no-qwen --lean
  /usr/bin/python3 tests/bench/bench_precision.py --real /tmp/hart-real --hart build/tools/hart --size 512
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, HERE)

PATCH_NUMS = {256: [1, 2, 3, 4, 6, 9, 13, 16],
              512: [1, 2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 32],
              1024: [1, 2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 36, 48, 64]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="output of make_fixtures.py --config real")
    ap.add_argument("--hart", required=True, help="path of the built `hart` tool")
    ap.add_argument("--size", type=int, default=512, choices=sorted(PATCH_NUMS))
    ap.add_argument("--repeat", type=int, default=2, help="generations per precision (first is cold)")
    ap.add_argument("--work", default="/tmp/hart-bench-precision")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--ops", action="store_true",
                    help="also break each stage down by op (hart bench --ops)")
    ap.add_argument("--reference-repeat", type=int, default=1,
                    help="PyTorch generations per mode (eager: no warm-up to amortise)")
    args = ap.parse_args()

    import torch
    import hart_reference as R
    import st_io_ref
    from bench_engine import bench_folder

    patch_nums = PATCH_NUMS[args.size]
    root = bench_folder(args.real, args.work, patch_nums)
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    ck = R.Checkpoint(root, "ema")
    ctx, mask, pos = R.random_context(ck, 7, 1, None)
    ctx_path = os.path.join(args.work, "context.safetensors")
    st_io_ref.save(ctx_path, dict(context_tensor=ctx.contiguous(), context_mask=mask.contiguous(),
                                  context_position_ids=pos.contiguous()))
    env = dict(os.environ, HART_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    print(f"{args.size}×{args.size} px (scales {patch_nums}), {args.threads} threads, "
          f"CPU: {cpu_name()}", flush=True)

    run = subprocess.run([args.hart, "bench", "--model", root, "--context", ctx_path,
                          "--precision", "fp32,bf16", "--repeat", str(args.repeat), "--seed", "42"]
                         + (["--ops"] if args.ops else []),
                         env=env, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stderr)
        sys.exit(1)
    print(run.stdout, flush=True)
    gen = re.search(r"^generation\s+([\d.]+)\s+([\d.]+)", run.stdout, re.M)
    c_fp32, c_bf16 = float(gen.group(1)), float(gen.group(2))

    if args.skip_reference or args.size >= 1024:
        print("PyTorch reference: skipped" + (" (1024 px does not fit)" if args.size >= 1024 else ""))
        return
    cpu_autocast_norms(torch)
    times = {}
    for name, autocast in (("fp32", False), ("bf16 autocast", True)):
        best = None
        for r in range(args.reference_repeat):
            t0 = time.time()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                R.generate(ck, ctx, pos, R.Draws(42, 0), cfg=4.5, more_smooth=True, form="gpu")
            s = time.time() - t0
            best = s if best is None else min(best, s)
        times[name] = best
        print(f"PyTorch {torch.__version__} {name}: {best:.1f} s", flush=True)
    print(f"\nC bf16 vs C fp32:           {c_fp32 / c_bf16:.2f}×")
    print(f"C bf16 vs PyTorch bf16:     {times['bf16 autocast'] / c_bf16:.2f}×")
    print(f"C fp32 vs PyTorch fp32:     {times['fp32'] / c_fp32:.2f}×")
    print(f"PyTorch bf16 vs its fp32:   {times['fp32'] / times['bf16 autocast']:.2f}×")


def cpu_autocast_norms(torch):
    """torch 1.13's CPU autocast leaves layer_norm and group_norm to their
    inputs' types, so a bf16 activation meets an fp32 weight and fails; run
    them in fp32, as CUDA autocast does (their outputs go on in fp32, and
    the next matmul casts them to bf16 again)."""
    import torch.nn.functional as F
    layer_norm, group_norm = F.layer_norm, F.group_norm

    def ln(x, shape, weight=None, bias=None, eps=1e-5):
        return layer_norm(x.float(), shape, weight, bias, eps)

    def gn(x, groups, weight=None, bias=None, eps=1e-5):
        return group_norm(x.float(), groups, weight, bias, eps)
    F.layer_norm, F.group_norm = ln, gn


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    main()
