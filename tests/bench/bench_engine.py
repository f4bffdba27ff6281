#!/usr/bin/python3
"""Engine benchmark: the C engine vs the PyTorch reference, same work, one run.

Both generate one image from the same checkpoint, context and Philox draws on the
same cores, at the real width and depth of hart-0.7b-1024px (24 blocks × 1536,
diffusion MLP 1024 × 6, the real VAE decoder).  The scale list is shortened
(default: up to 32×32 latent tokens → 512×512 px) because the reference
materialises the full attention score matrix, which does not fit the last
stage of the 1024 px list in 24 GiB.  Prints wall times and the ratio.

Usage (not a test; needs Debian's python3-torch):
  /usr/bin/python3 tests/reference/make_fixtures.py /tmp/hart-real --config real --no-qwen --lean
  /usr/bin/python3 tests/bench/bench_engine.py --real /tmp/hart-real --hart build/tools/hart
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))


def bench_folder(real_root, out, patch_nums):
    """A copy of the real release folder (weights symlinked) with a shorter
    scale list in llm/config.json."""
    src = os.path.join(real_root, "hart-0.7b-1024px")
    dst = os.path.join(out, "hart-0.7b-1024px")
    for sub in ("llm", "tokenizer"):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
        for name in os.listdir(os.path.join(src, sub)):
            target = os.path.join(dst, sub, name)
            if name == "config.json" or os.path.lexists(target):
                continue
            os.symlink(os.path.join(src, sub, name), target)
        shutil.copy(os.path.join(src, sub, "config.json"), os.path.join(dst, sub, "config.json"))
    # the autoencoder's scale list must be the transformer's (the engine
    # refuses a folder whose two lists differ)
    for sub, key in (("llm", "patch_nums"), ("tokenizer", "v_patch_nums")):
        cfg_path = os.path.join(dst, sub, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        if key in cfg:
            cfg[key] = patch_nums
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
    return dst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="output of make_fixtures.py --config real")
    ap.add_argument("--hart", required=True, help="path of the built `hart` tool")
    ap.add_argument("--work", default="/tmp/hart-bench")
    ap.add_argument("--patch-nums", default="1,2,3,4,5,7,9,12,16,21,27,32")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()

    import torch
    import hart_reference as R
    import st_io_ref

    patch_nums = [int(p) for p in args.patch_nums.split(",")]
    root = bench_folder(args.real, args.work, patch_nums)
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)

    ck = R.Checkpoint(root, "ema")
    ctx, mask, pos = R.random_context(ck, 7, 1, None)
    ctx_path = os.path.join(args.work, "context.safetensors")
    st_io_ref.save(ctx_path, dict(context_tensor=ctx.contiguous(), context_mask=mask.contiguous(),
                                  context_position_ids=pos.contiguous()))

    env = dict(os.environ, HART_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads))
    print(f"scales {patch_nums} → {patch_nums[-1] * 16}×{patch_nums[-1] * 16} px, "
          f"{args.threads} threads", flush=True)
    t0 = time.time()
    run = subprocess.run([args.hart, "generate", "--model", root, "--context", ctx_path,
                          "--seed", "42", "--timings", "-o", os.path.join(args.work, "c.png")],
                         env=env, capture_output=True, text=True)
    c_seconds = time.time() - t0
    if run.returncode != 0:
        print(run.stderr)
        sys.exit(1)
    print("C engine (hart generate, per stage):")
    print("  " + run.stderr.strip().replace("\n", "\n  "))
    rss_c = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    c_gen = float([l for l in run.stderr.splitlines() if l.startswith("total")][0].split()[1])
    print(f"C engine: {c_gen:.1f} s generation ({c_seconds:.1f} s with loading), "
          f"peak RSS {rss_c:.2f} GiB", flush=True)
    if args.skip_reference:
        return
    t0 = time.time()
    draws = R.Draws(42, 0)
    img = R.generate(ck, ctx, pos, draws, cfg=4.5, more_smooth=True, form="gpu")
    ref_seconds = time.time() - t0
    rss_py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"PyTorch reference (eager fp32, generation only): {ref_seconds:.1f} s, "
          f"peak RSS {rss_py:.2f} GiB")
    print(f"ratio reference / C = {ref_seconds / c_gen:.2f}× (generation only, same work)")


if __name__ == "__main__":
    main()
