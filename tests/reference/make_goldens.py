#!/usr/bin/python3
# gst-hart — golden tensors of whole-model inference for the C engine's tests
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write tests/fixtures/goldens/{tiny,tiny2}.safetensors (+ {tiny,tiny2}-context.safetensors)
with tests/reference/hart_reference.py, using the project's Philox draws (seed 42, frame 0),
so the C side regenerates every draw itself.  The files hold inputs and outputs only; the
README next to them lists every tensor.

  /usr/bin/python3 tests/reference/make_goldens.py [--out tests/fixtures/goldens]
        [--oracle /work/shared/tools/official-harness]   # also measure the oracle's distance

With --oracle (needs HART_MIRROR), the recorded Philox draws are replayed by the official
code and the oracle's trace is compared with the golden tensors; the maxima go into the
file's metadata ("oracle_max_abs_diff") and are printed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hart_reference as ref  # noqa: E402
import philox  # noqa: E402
import st_io_ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SEED = 42
FRAME = 0
CFG = 4.5
CONTEXT_SEED = 42
DECODER_SEED = 43
NET_SEED = 44
LOGIT_ROWS = 4  # per-stage CFG'd logits kept: first rows of every stage
NET_ROWS = 8  # diffusion Net golden: this many conditional + unconditional rows
HIDDEN_TOKENS = 16  # last-stage H slice: first tokens of every row
MAX_BYTES = 3 * 1024 * 1024


def run_once(ck, ctx, pos, smooth):
    draws = ref.Draws(SEED, FRAME)
    trace = {}
    img = ref.generate(ck, ctx, pos, draws, cfg=CFG, more_smooth=smooth, form="gpu", trace=trace)
    return img, trace, draws


def stage_tensors(ck, tr, prefix, full):
    """Per-run goldens (names prefixed with `prefix`).  full: also the big float tensors."""
    out = {}
    SN = len(ck.patch_nums)
    for si in range(SN):
        p = f"s{si:02d}_"
        out[prefix + p + "idx"] = tr[p + "idx"]
        out[prefix + p + "logits_cfg_rows"] = tr[p + "logits_cfg"][:, :LOGIT_ROWS].contiguous()
        if si < SN - 1:
            out[prefix + p + "h"] = tr[p + "h"]
            out[prefix + p + "fhat"] = tr[p + "fhat"]
            out[prefix + p + "next_latent"] = tr[p + "next_latent"]
    last = f"s{SN - 1:02d}_"
    out[prefix + "last_hidden_rows"] = tr[last + "hidden"][:, :HIDDEN_TOKENS].contiguous()
    out[prefix + "last_h"] = tr["last_h"]
    out[prefix + "last_z"] = tr["last_z"] if full else tr["last_z"][:, :HIDDEN_TOKENS].contiguous()
    out[prefix + "diff_out"] = tr["diff_out"]
    out[prefix + "fhat_final"] = tr["fhat_final"]
    out[prefix + "image_u8"] = ref.to_uint8(tr["image"])
    if full:
        N = tr["diff_out"].shape[0] // 2
        k = 0
        xs = []
        while f"diff_eval{k}_x" in tr:
            xs.append(tr[f"diff_eval{k}_x"][:N])
            k += 1
        out[prefix + "diff_x_steps"] = torch.stack(xs)  # state entering each of the steps n = S-1..0
        out[prefix + "decoder_out"] = tr["decoder_out"]
    return out


def diffusion_net_golden(ck, z):
    """Net(x, t, z) for every timestep on fixed random x and the first rows of both halves."""
    sched = ref.DiffusionSchedule(ck.diff_steps)
    N = z.shape[0] // 2
    rows = torch.cat([z[:NET_ROWS], z[N:N + NET_ROWS]], dim=0)
    g = torch.Generator().manual_seed(NET_SEED)
    x = torch.randn((rows.shape[0], ck.Cv), generator=g)
    ts = list(reversed(sched.timesteps))
    outs = [ref.diffusion_net(ck, x, torch.full((rows.shape[0],), t, dtype=torch.int64), rows) for t in ts]
    return {"diff_net_x": x, "diff_net_z": rows, "diff_net_t": torch.tensor(ts, dtype=torch.int64),
            "diff_net_out": torch.stack(outs)}


def oracle_distance(ck_dir, context_path, draws, smooth, goldens, prefix, harness):
    """Replay our draws in the official code; max |oracle - golden| per golden tensor."""
    with tempfile.TemporaryDirectory() as tmp:
        dpath = os.path.join(tmp, "draws.safetensors")
        draws.write(dpath, dict(source="make_goldens", seed=SEED, frame=FRAME))
        odir = os.path.join(tmp, "oracle")
        cmd = [sys.executable, os.path.join(harness, "run_official.py"), ck_dir, "--context", context_path,
               "--cfg", repr(CFG), "--more-smooth", str(int(smooth)), "--replay", dpath, "--out", odir]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.stderr.write(res.stdout + res.stderr)
            raise SystemExit("oracle failed")
        o = st_io_ref.load(os.path.join(odir, "trace.safetensors"))
    dist = {}
    for name, t in goldens.items():
        if not name.startswith(prefix):
            continue
        key = name[len(prefix):]
        src = key.replace("_logits_cfg_rows", "_logits_cfg").replace("_rows", "")
        if key == "image_u8":
            other = ref.to_uint8(o["image"])
            dist[key] = int((other.int() - t.int()).abs().max())
            continue
        if key == "diff_x_steps":
            other = torch.stack([o[f"diff_eval{k}_x"][:t.shape[1]] for k in range(t.shape[0])])
        elif key == "last_hidden_rows":
            other = o[f"s{len(ck_patch(ck_dir)) - 1:02d}_hidden"]
        elif src in o:
            other = o[src]
        else:
            continue
        if other.shape != t.shape:
            other = other[tuple(slice(0, n) for n in t.shape)]
        d = (other.double() - t.double()).abs()
        dist[key] = float(d.max()) if t.dtype != torch.int64 else int((other != t).sum())
    return dist


def ck_patch(ck_dir):
    with open(os.path.join(ck_dir, "llm", "config.json")) as f:
        return json.load(f)["patch_nums"]


def make(config, out_dir, harness):
    ck_dir = os.path.join(ROOT, "tests", "fixtures", config, "hart-0.7b-1024px")
    ck = ref.Checkpoint(ck_dir, "ema")
    ctx, mask, pos = ref.random_context(ck, CONTEXT_SEED, B=1)
    n_real = int(mask.sum())
    context = {"context_tensor": ctx, "context_mask": mask, "context_position_ids": pos}
    ctx_path = os.path.join(out_dir, f"{config}-context.safetensors")
    st_io_ref.save(ctx_path, context, metadata={
        "description": f"Qwen-free context for tests/fixtures/{config}: N(0,1) (torch.Generator seed "
                       f"{CONTEXT_SEED}), right padding, {n_real} of {ck.T} tokens real"})

    g = dict(context)
    meta_runs = {}
    for smooth in (True, False):
        img, tr, draws = run_once(ck, ctx, pos, smooth)
        prefix = "smooth1." if smooth else "smooth0."
        if smooth:
            # inputs/outputs shared by both runs (identical up to stage 0's sampling)
            g["cond_BD"] = tr["cond_BD"]
            g["lvl_vectors"] = tr["lvl_vectors"]
            pooled = tr["cond_BD"].max(dim=1).values
            g["head_pooled"] = pooled
            g["s00_logits_raw"] = tr["s00_logits_raw"]
            g["s00_logits_cfg"] = tr["s00_logits_cfg"]
            g["s00_rope_cos"] = tr["s00_rope_cos"]
            g["s00_rope_sin"] = tr["s00_rope_sin"]
            for si in range(1, len(ck.patch_nums)):
                g[f"s{si:02d}_rope_pos"] = tr[f"s{si:02d}_rope_pos"]
            g.update(diffusion_net_golden(ck, tr["last_z"].reshape(-1, ck.C)))
        g.update(stage_tensors(ck, tr, prefix, full=smooth))
        meta_runs[prefix[:-1]] = dict(more_smooth=int(smooth), draws=len(draws.record),
                                      image_mean=float(img.mean()))
        if harness:
            dist = oracle_distance(ck_dir, ctx_path, draws, smooth, g, prefix, harness)
            meta_runs[prefix[:-1]]["oracle_max_abs_diff"] = dist
            print(f"[make_goldens] {config} {prefix[:-1]}: oracle (CPU, exact division) vs golden (GPU form):")
            for k, v in dist.items():
                print(f"    {k:32s} {v}")

    # decoder-only golden: a random latent straight through post_quant_conv + decoder
    P = ck.patch_nums[-1]
    gen = torch.Generator().manual_seed(DECODER_SEED)
    f_hat = torch.randn((1, ck.Cv, P, P), generator=gen)
    g["decoder_only.f_hat"] = f_hat
    g["decoder_only.out"] = ref.decode(ck, f_hat)

    meta = dict(
        format="gst-hart goldens v1", config=config, checkpoint=f"tests/fixtures/{config}/hart-0.7b-1024px",
        weights="llm/ema_model.bin", batch=1, cfg=CFG, seed=SEED, frame=FRAME,
        draws="philox (docs/random-draws.md): E1 purpose 1, E2 purpose 2 (index = stage), "
              "N0 purpose 3, Zn purpose 4 (index = n)",
        positions="gpu: P = fl(fl(i*fl(1/pn))*P_last) + off; Gumbel (x)*fl(1/tau)",
        top_k="600 for stages < 7, else 300 (default)", context_seed=CONTEXT_SEED, n_real=n_real,
        decoder_seed=DECODER_SEED, net_seed=NET_SEED, logit_rows=LOGIT_ROWS, net_rows=NET_ROWS,
        hidden_tokens=HIDDEN_TOKENS, patch_nums=ck.patch_nums, runs=meta_runs,
        generator="tests/reference/make_goldens.py", reference="tests/reference/hart_reference.py",
        torch=torch.__version__,
    )
    path = os.path.join(out_dir, f"{config}.safetensors")
    st_io_ref.save(path, {k: v.contiguous() for k, v in g.items()},
                   metadata={"__doc__": "see tests/fixtures/goldens/README.md", "run": json.dumps(meta, sort_keys=True)})
    size = os.path.getsize(path)
    back = st_io_ref.load(path)
    for k, v in g.items():
        if not torch.equal(back[k], v.contiguous()):
            raise SystemExit(f"{path}: {k} did not read back identically")
    if size > MAX_BYTES:
        raise SystemExit(f"{path}: {size} bytes, over the {MAX_BYTES} budget")
    print(f"[make_goldens] {path}: {len(g)} tensors, {size} bytes; {ctx_path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "goldens"))
    ap.add_argument("--config", action="append", choices=["tiny", "tiny2"])
    ap.add_argument("--oracle", metavar="HARNESS_DIR", help="official-harness folder (measure the distance)")
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)  # keep summation orders independent of the machine's core count
    philox.self_test(verbose=False)
    os.makedirs(args.out, exist_ok=True)
    for config in args.config or ["tiny", "tiny2"]:
        make(config, args.out, args.oracle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
