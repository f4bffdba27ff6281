#!/usr/bin/python3
# gst-hart — validate tests/reference/hart_reference.py against the official code (oracle)
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the official-harness oracle and the reference on the same checkpoints, contexts and
draws, in both directions, and prints the differences (docs/reference-validation.md).

  HART_MIRROR=/work/.mirror/mit-han-lab+hart/repo \
  validate_reference.py [--harness DIR] [--work /tmp/refval] [--quick]

For every case:
  A  oracle records its own draws (torch CPU generators) on --random-context 7;
  B  the reference replays those draws on the oracle's context file, positions "cpu" and
     "gpu", and its trace is compared with the oracle's;
  C  the reference draws from Philox (seed 42, frame 0) and records them; the oracle replays
     that file on the same context; the two traces are compared.
"""

import argparse
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hart_reference as ref  # noqa: E402
import st_io_ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CASES = [
    # name, fixture, cfg, more_smooth, batch
    ("tiny-cfg4.5-smooth1", "tiny", 4.5, 1, 1),
    ("tiny-cfg4.5-smooth0", "tiny", 4.5, 0, 1),
    ("tiny-cfg1.0-smooth1", "tiny", 1.0, 1, 1),
    ("tiny-cfg1.0-smooth0", "tiny", 1.0, 0, 1),
    ("tiny-B2-cfg4.5-smooth1", "tiny", 4.5, 1, 2),
    ("tiny-unguided-diffusion", "tiny", 1 / 0.9, 1, 1),  # cfg·ratio == 1.0: diffusion without CFG
    ("tiny2-cfg4.5-smooth1", "tiny2", 4.5, 1, 1),
    ("tiny2-cfg4.5-smooth0", "tiny2", 4.5, 0, 1),
    ("tiny2-cfg1.0-smooth1", "tiny2", 1.0, 1, 1),
    ("tiny2-cfg1.0-smooth0", "tiny2", 1.0, 0, 1),
]


def run(cmd, env):
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return res.stdout


def reference(ck, context, replay=None, seed=42, cfg=4.5, smooth=1, form="gpu", record=None):
    ctx, mask, pos = ref.load_context(context)
    draws = ref.Draws(seed, 0, replay=replay)
    trace = {}
    ref.generate(ck, ctx, pos, draws, cfg=cfg, more_smooth=bool(smooth), form=form, trace=trace)
    draws.check_consumed()
    if record:
        draws.write(record, dict(source="hart_reference philox", seed=seed, frame=0))
    return trace


def summarize(mine, oracle):
    """Per-stage and per-tensor maxima, plus idx mismatches, top-k set changes, uint8 bytes."""
    out = {}
    for name, shape, diff, exact in ref.compare(mine, oracle):
        if name.endswith("_logits_topk"):
            a, b = mine[name], oracle[name]
            changed = int((torch.isinf(a) != torch.isinf(b)).sum())
            both = ~torch.isinf(a) & ~torch.isinf(b)
            diff = float((a[both] - b[both]).abs().max()) if both.any() else 0.0
            out[name] = (diff, exact, changed)
        else:
            out[name] = (diff, exact, None)
    u8a, u8b = ref.to_uint8(mine["image"]), ref.to_uint8(oracle["image"])
    out["uint8"] = (int((u8a != u8b).sum()), u8a.numel(), int((u8a.int() - u8b.int()).abs().max()))
    return out


GROUPS = [("cond_BD", ["cond_BD"]), ("lvl", ["lvl_vectors"]), ("rope_pos", "_rope_pos"),
          ("logits_raw", "_logits_raw"), ("logits_cfg", "_logits_cfg"), ("h", "_h"),
          ("fhat", "_fhat"), ("next_latent", "_next_latent"), ("last_z", ["last_z"]),
          ("diff_out", ["diff_out"]), ("fhat_final", ["fhat_final"]),
          ("decoder_out", ["decoder_out"]), ("image", ["image"])]


def group_line(s):
    cells = []
    for label, sel in GROUPS:
        names = sel if isinstance(sel, list) else [n for n in s if n.startswith("s") and n.endswith(sel)]
        vals = [s[n][0] for n in names if n in s]
        cells.append(f"{max(vals):.1e}" if vals else "-")
    idx_bad = sum(int(v[0]) for n, v in s.items() if n.endswith("_idx"))
    topk = sum(v[2] for n, v in s.items() if n.endswith("_logits_topk") and v[2])
    nd, tot, mx = s["uint8"]
    return cells + [str(idx_bad), str(topk), f"{nd}/{tot} (max {mx})"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--harness", default="/work/shared/tools/official-harness")
    ap.add_argument("--work", default="/tmp/refval")
    ap.add_argument("--quick", action="store_true", help="first case only")
    ap.add_argument("--per-stage", default="tiny-cfg4.5-smooth1", help="case printed stage by stage")
    args = ap.parse_args(argv)
    torch.set_grad_enabled(False)
    env = dict(os.environ)
    if "HART_MIRROR" not in env:
        raise SystemExit("set HART_MIRROR to the bare mirror of mit-han-lab/hart")
    oracle = os.path.join(args.harness, "run_official.py")
    header = ["case", "direction"] + [g for g, _ in GROUPS] + ["idx≠", "topk set≠", "uint8 bytes ≠"]
    rows = []
    per_stage = {}
    for name, fixture, cfg, smooth, batch in (CASES[:1] if args.quick else CASES):
        ckdir = os.path.join(ROOT, "tests", "fixtures", fixture, "hart-0.7b-1024px")
        ck = ref.Checkpoint(ckdir, "ema")
        work = os.path.join(args.work, name)
        os.makedirs(work, exist_ok=True)
        odir = os.path.join(work, "oracle")
        run([sys.executable, oracle, ckdir, "--random-context", "7", "--seed", "1", "--cfg", repr(cfg),
             "--more-smooth", str(smooth), "--batch", str(batch), "--out", odir], env)
        otrace = st_io_ref.load(os.path.join(odir, "trace.safetensors"))
        context = os.path.join(odir, "context.safetensors")
        draws = os.path.join(odir, "draws.safetensors")
        for form in ("cpu", "gpu"):
            mine = reference(ck, context, replay=draws, cfg=cfg, smooth=smooth, form=form)
            s = summarize(mine, otrace)
            rows.append([name, f"oracle draws → ref ({form})"] + group_line(s))
            if name == args.per_stage:
                per_stage[form] = s
        rec = os.path.join(work, "philox_draws.safetensors")
        mine = reference(ck, context, seed=42, cfg=cfg, smooth=smooth, form="cpu", record=rec)
        rdir = os.path.join(work, "oracle_replay")
        run([sys.executable, oracle, ckdir, "--context", context, "--seed", "1", "--cfg", repr(cfg),
             "--more-smooth", str(smooth), "--replay", rec, "--out", rdir], env)
        s = summarize(mine, st_io_ref.load(os.path.join(rdir, "trace.safetensors")))
        rows.append([name, "ref philox → oracle (cpu)"] + group_line(s))
        print(" | ".join(rows[-1]), flush=True)

    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    for form, s in per_stage.items():
        print(f"\nper stage, {args.per_stage}, oracle draws → reference, positions {form}:")
        print("| stage | x_in | hidden | logits_raw | logits_cfg | topk set≠ | idx≠ | h | fhat | next_latent |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        si = 0
        while f"s{si:02d}_hidden" in s:
            p = f"s{si:02d}_"

            def g(n):
                return f"{s[p + n][0]:.1e}" if p + n in s else "-"
            tk = s[p + "logits_topk"][2]
            print(f"| {si} | {g('x_in')} | {g('hidden')} | {g('logits_raw')} | {g('logits_cfg')} | {tk} | "
                  f"{int(s[p + 'idx'][0])} | {g('h')} | {g('fhat')} | {g('next_latent')} |")
            si += 1
        for n in ("last_h", "last_cond_in", "last_z", "diff_eval0_out", "diff_eval7_out", "diff_out",
                  "fhat_final", "decoder_out", "image"):
            print(f"| {n} | {s[n][0]:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
