#!/usr/bin/env python3
"""Time the official HART code on this machine's GPU, as its sample.py runs it.

The anchor for the engine's GPU timings (issue 16: "x times the official
code on the same card"): the official `autoregressive_infer_cfg`, unmodified,
on the weights the engine's benchmark uses (a release-layout folder written
by tests/reference/make_fixtures.py, random weights of the real width and
depth) and the same random text-encoder output (its context file), so both
sides do the same work: HART's generation, prompt encoding excluded.

The official code comes from .official/ (tests/device/pack-official.sh: an
unmodified `git archive` of mit-han-lab/hart, never committed here, plus the
harness's stand-ins for the libraries it imports in versions a bare GPU
machine lacks).  Its compiled CUDA kernels (`hart_backend`: RMSNorm, fused
RoPE) cannot be built there, so the stand-ins' plain PyTorch versions run in
their place, as the official code's own fallbacks do for flash-attn and
xformers (then PyTorch's scaled_dot_product_attention).  The log says which
attention ran.

As sample.py: the model on the GPU, the EMA weights loaded over a deep copy,
`torch.inference_mode()` and `torch.autocast("cuda", dtype=float16)` (or fp32
with --precision fp32: no autocast), g_seed for the sampler.  Each batch size
is run --repeat times (the first cold); each time is the generation's wall
time with the GPU synchronised before and after, the image included.  Per
stage: the transformer's scales (everything before the diffusion), the
diffusion's sampling loop and the decoder (fhat_to_img), each synchronised.

  python3 tests/device/time_official.py --official .official \\
      --ckpt WORK/real/hart-0.7b-1024px --context WORK/context.safetensors \\
      --batches 1,8 --repeat 3 [--precision fp16|bf16|fp32] [--out DIR]

With --out: official-b<batch>-<precision>.ppm (the first image of the last
run of each batch size) and official-<precision>.json (the times).
"""
import argparse
import contextlib
import copy
import io
import json
import os
import statistics
import sys
import tarfile
import time

# Training-only tensors that the project's lean fixtures leave out
# (tests/reference/make_fixtures.py LEAN_DROP_PREFIXES): the only keys the
# official loaders may find missing here.
LEAN_DROP_PREFIXES = ("disc.", "vae.encoder.", "vae.quant_conv.", "encoder.", "quant_conv.",
                      "attn_bias_for_masking")


def extract_official(official, scratch):
    """The official tree, unpacked from official/hart-official.tar into a
    folder of its commit under SCRATCH (so a tree packed from another commit
    is never mistaken for it)."""
    commit = open(os.path.join(official, "COMMIT")).read().strip()
    dest = os.path.join(scratch, commit)
    key = os.path.join(dest, "hart", "modules", "models", "transformer", "hart_transformer_t2i.py")
    if not os.path.isfile(key):
        os.makedirs(dest, exist_ok=True)
        with open(os.path.join(official, "hart-official.tar"), "rb") as f:
            with tarfile.open(fileobj=io.BytesIO(f.read())) as tf:
                tf.extractall(dest)
    return dest


def only_lean_missing(keys):
    return [k for k in keys if not k.split(".", 1)[-1].startswith(LEAN_DROP_PREFIXES)
            and not k.startswith(LEAN_DROP_PREFIXES)]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", required=True, help=".official folder (pack-official.sh)")
    ap.add_argument("--ckpt", required=True, help="release-layout folder holding llm/ and tokenizer/")
    ap.add_argument("--context", required=True, help="safetensors: context_tensor, _mask, _position_ids")
    ap.add_argument("--batches", default="1", help="comma-separated batch sizes")
    ap.add_argument("--repeat", type=int, default=3, help="generations per batch size (first cold)")
    ap.add_argument("--precision", default="fp16", choices=["fp16", "bf16", "fp32"],
                    help="autocast type (sample.py: fp16); fp32: no autocast")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--cfg", type=float, default=4.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scratch", default="/tmp/hart-official-timing")
    ap.add_argument("--out", default=None, help="folder for image_<batch>.ppm and timings.json")
    args = ap.parse_args()
    official = os.path.abspath(args.official)

    src = extract_official(official, args.scratch)
    # the stand-ins first: a transformers the machine has installed is not
    # the version the official code was written for
    sys.path[:0] = [os.path.join(official, "standins"), official, src]
    os.environ.setdefault("HART_HARNESS_LENIENT", "1")  # lean fixtures: checked below
    import warnings
    warnings.filterwarnings("ignore", message=".*missing keys.*")
    import torch
    if args.device == "cpu":
        # a check on a machine without CUDA: the constructor's .cuda() stays on the CPU
        torch.Tensor.cuda = torch.nn.Module.cuda = lambda self, *a, **k: self
    import transformers
    from hart.modules.models.transformer import hart_transformer_t2i  # noqa: F401  (registers)
    from hart.modules.networks import basic_hart
    import hart.utils as hart_utils
    import st_io

    if not os.path.abspath(transformers.__file__).startswith(official):
        raise SystemExit(f"transformers resolved to {transformers.__file__}, not the stand-in")
    dev = torch.device(args.device)
    if dev.type == "cpu" and hart_utils.get_device() != "cpu":
        raise SystemExit("--device cpu on a machine with CUDA: the official code would use CUDA")
    if dev.type == "cuda" and hart_utils.get_device() != "cuda":
        raise SystemExit("no CUDA device visible to PyTorch")
    if dev.type == "cuda" and args.precision == "fp32":
        torch.backends.cuda.matmul.allow_tf32 = False  # as PyTorch's default
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    attn = ("flash_attn" if basic_hart.flash_attn_func is not None else
            "torch scaled_dot_product_attention" if basic_hart.slow_attn is sdpa else
            "the official slow_attn fallback")
    commit = open(os.path.join(official, "COMMIT")).read().strip()
    print(f"[official] mit-han-lab/hart {commit[:12]}; torch {torch.__version__}; device "
          f"{torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}; attention: {attn}; "
          f"hart_backend kernels: the harness's PyTorch stand-ins; precision {args.precision}",
          flush=True)

    llm_dir = os.path.join(os.path.abspath(args.ckpt), "llm")
    t0 = time.time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = transformers.AutoModel.from_pretrained(llm_dir)
    for w in caught:
        msg = str(w.message)
        if "missing keys" in msg or "unexpected keys" in msg:
            # "... missing keys (N): [...]": only the lean fixtures' training tensors may be absent
            import ast
            listed = ast.literal_eval(msg[msg.index("["):msg.index("]", msg.index("[")) + 1])
            bad = only_lean_missing(listed)
            if bad or "unexpected" in msg:
                raise SystemExit(f"loading {llm_dir}: {msg}")
    model = model.to(dev).eval()
    ema = copy.deepcopy(model)
    state = torch.load(os.path.join(llm_dir, "ema_model.bin"), map_location="cpu")
    res = ema.load_state_dict(state, strict=False)
    if only_lean_missing(res.missing_keys) or res.unexpected_keys:
        raise SystemExit(f"ema_model.bin: missing {res.missing_keys[:8]}, unexpected {res.unexpected_keys[:8]}")
    del model, state
    if dev.type == "cuda":
        torch.cuda.synchronize()
    print(f"[official] loaded in {time.time() - t0:.1f} s; scales {list(ema.patch_nums)}", flush=True)

    ctx = st_io.load_file(args.context)
    c1 = ctx["context_tensor"].float()
    m1 = ctx["context_mask"].bool()
    p1 = ctx["context_position_ids"].long()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    stage_t = {}

    def timed(obj, name, key):
        orig = getattr(obj, name)

        def wrapper(*a, **k):
            sync()
            t = time.perf_counter()
            r = orig(*a, **k)
            sync()
            stage_t[key] = stage_t.get(key, 0.0) + time.perf_counter() - t
            return r
        setattr(obj, name, wrapper)

    timed(ema.diffloss, "sample", "diffusion")
    timed(ema.vae_proxy[0], "fhat_to_img", "decoder")

    amp = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(args.precision)
    results = []
    for B in [int(b) for b in args.batches.split(",")]:
        ctx_b = c1.expand(B, -1, -1).contiguous().to(dev)
        mask_b = m1.expand(B, -1).contiguous().to(dev)
        pos_b = p1.expand(B, -1).contiguous().to(dev)
        times = []
        for r in range(args.repeat):
            stage_t.clear()
            if dev.type == "cuda":
                torch.cuda.reset_peak_memory_stats(dev)
            sync()
            t = time.perf_counter()
            autocast = (torch.autocast(dev.type, dtype=amp) if amp is not None
                        else contextlib.nullcontext())
            with torch.inference_mode(), autocast:
                img = ema.autoregressive_infer_cfg(
                    B=B, label_B=ctx_b, cfg=args.cfg, g_seed=args.seed, more_smooth=True,
                    context_position_ids=pos_b, context_mask=mask_b)
            sync()
            total = time.perf_counter() - t
            rest = total - sum(stage_t.values())
            peak = torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == "cuda" else 0.0
            times.append(total)
            print(f"[official] batch {B} run {r + 1}/{args.repeat}{' (cold)' if r == 0 else ''}: "
                  f"{total * 1000:.1f} ms ({total * 1000 / B:.1f} ms an image, "
                  f"{B / total:.2f} images/s): transformer {rest * 1000:.1f}, diffusion "
                  f"{stage_t.get('diffusion', 0) * 1000:.1f}, decoder {stage_t.get('decoder', 0) * 1000:.1f} ms; "
                  f"peak GPU memory {peak:.2f} GiB", flush=True)
        warm = times[1:] if len(times) > 1 else times
        best = min(warm)
        print(f"[official] batch {B}: warm best {best * 1000:.1f} ms, median "
              f"{statistics.median(warm) * 1000:.1f} ms ({B / best:.2f} images/s)", flush=True)
        results.append(dict(batch=B, times_s=times, warm_best_s=best))
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            u8 = (img[0].detach().float().clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).cpu()
            with open(os.path.join(args.out, f"official-b{B}-{args.precision}.ppm"), "wb") as f:
                f.write(b"P6\n%d %d\n255\n" % (u8.shape[1], u8.shape[0]))
                f.write(u8.contiguous().numpy().tobytes())
    if args.out:
        with open(os.path.join(args.out, f"official-{args.precision}.json"), "w") as f:
            json.dump(dict(commit=commit, torch=torch.__version__, attention=attn,
                           precision=args.precision, results=results), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
