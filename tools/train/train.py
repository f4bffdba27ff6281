#!/usr/bin/python3
# gst-hart — train the bundled "shapes" HART model (CPU or GPU)
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Trains a small model of the HART architecture on the procedural shapes world (shapes.py)
and writes it in the release folder layout, so the engine loads it like the real checkpoints.

  train.py WORK_DIR [--stage STAGE[,STAGE...]|all] [--device cpu|cuda] [--vae-steps N]
                    [--ar-steps N] [--seed S] [--out DIR]

Stages (each saves its result under WORK_DIR and is skipped when that file exists, unless
it is named with --stage; several named stages run in this order in one process):
  bpe     byte-level BPE tokenizer.json (Qwen2 pre-tokenizer, NFC, three special tokens)
  render  the training set: images.npy, objects.npy (object pixels) and scenes.json
  vae     hybrid tokenizer: encoder, multi-scale residual VQ with the Φ convolutions, decoder
          trained on both the discrete latent and the continuous one (HART's alternating
          decoder training)
  encode  the training set -> per-scale codes and the continuous residual the diffusion
          head has to predict (codes.pt)
  ar      text encoder (Qwen2 architecture) + AR transformer + residual diffusion MLP, jointly:
          cross-entropy over every scale's codes + IDDPM loss (ε MSE + variational bound for
          the learned variance) on the last scale's residual; EMA of the weights
  ar-resume  continue ar.pt with a new, lower schedule (only when named)
  decoder-ft  post_quant_conv + decoder fine-tuned with the codes frozen (vae-ft.pt)
  export  release layout: hart/{llm,tokenizer}/ and Qwen2-VL-1.5B-Instruct/

Everything runs the model maths of hart_reference.py (the reference, exact to docs/algorithm.md, that the
C engine is tested against), so what is trained is exactly what the engine computes.
Seeds fix the data, the initialisation and the order of batches; with the same torch build,
device and thread count the run is reproducible.  --device cuda runs the same maths on a GPU
(torch >= 2.0); a --*-seconds budget fixes a stage's step count from its first steps' speed
and logs it, so the run can be repeated with --*-steps.
"""

import argparse
import collections
import contextlib
import json
import math
import multiprocessing
import os
import shutil
import sys
import time
import types

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
# the PyTorch reference (hart_reference.py, make_qwen_goldens.py) stays with the
# fixtures it checks, in tests/reference/
REFERENCE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "reference")
sys.path.insert(0, HERE)
sys.path.insert(0, REFERENCE)
import shapes  # noqa: E402
import hart_reference as ref  # noqa: E402
import make_fixtures as mf  # noqa: E402
import st_write  # noqa: E402

PATCH_NUMS = [1, 2, 3, 4, 6, 8]
BPE_VOCAB = 1024
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CONFIG = dict(
    llm=dict(mf._LLM_COMMON, context_token=32, context_dim=64, depth=4, embed_dim=128,
             num_heads=2, patch_nums=PATCH_NUMS, diff_width=128, diff_depth=2,
             diffusion_batch_mul=2),
    tok=dict(mf._TOK_COMMON, vocab_size=512, z_channels=16, ch=32, ch_mult=[1, 1, 2, 2],
             v_patch_nums=PATCH_NUMS),
    qwen=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
              intermediate_size=128, vocab_size=BPE_VOCAB, rms_norm_eps=1e-6,
              rope_theta=1000000.0, max_position_embeddings=32768, sliding_window=32768,
              max_window_layers=2, tie_word_embeddings=True),
)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


DEV = torch.device("cpu")  # set by --device; every training tensor lives there


def use_device(name):
    """Make `name` the device of every tensor the stages create (factory functions included,
    so hart_reference's maths runs there unchanged)."""
    global DEV
    DEV = torch.device(name)
    if DEV.type != "cpu":
        torch.set_default_device(DEV)  # torch >= 2.0
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 maths as on the CPU
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True


def on_cpu():
    """Scope for CPU-only work (seeded torch.Generator draws) while DEV is a GPU."""
    return torch.device("cpu") if DEV.type != "cpu" else contextlib.nullcontext()


def load(path):
    return torch.load(path, map_location=DEV)


def system_prompt():
    """The system prompt (docs/algorithm.md §4.2), kept in one place: make_qwen_goldens.SYSTEM_PROMPT, read
    without importing that module (and transformers with it)."""
    import ast
    with open(os.path.join(REFERENCE, "make_qwen_goldens.py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SYSTEM_PROMPT":
            return ast.literal_eval(node.value)
    raise LookupError("SYSTEM_PROMPT not found in make_qwen_goldens.py")


# ------------------------------------------------------------------------------------------
# parameters in release names


class Params:
    """Named tensors in the release naming, initialised as make_fixtures draws them."""

    def __init__(self, inventory, gen, skip=()):
        self.t = collections.OrderedDict()
        for name, tag, shape, rule in inventory:
            if name.startswith(tuple(skip)) or tag != "F32":
                continue
            if rule[0] == "const":
                continue  # buffers (zero_k_bias, ema_vocab_hit_SV): written at export
            with on_cpu():
                v = mf.draw(rule, shape, gen)
            self.t[name] = v.to(DEV).requires_grad_(True)

    def __getitem__(self, k):
        return self.t[k]

    def __contains__(self, k):
        return k in self.t

    def parameters(self):
        return list(self.t.values())


class View:
    """What hart_reference's functions read from a Checkpoint: .llm / .vae dicts + shapes."""

    def __init__(self, llm=None, vae=None, prefix="vae."):
        c, tk = CONFIG["llm"], CONFIG["tok"]
        self.llm = llm
        self.vae = _Strip(vae, prefix) if vae is not None else None
        self.C = c["embed_dim"]
        self.H = c["num_heads"]
        self.hd = self.C // self.H
        self.depth = c["depth"]
        self.T = c["context_token"]
        self.D = c["context_dim"]
        self.patch_nums = list(c["patch_nums"])
        self.eps = c["norm_eps"]
        self.V = tk["vocab_size"]
        self.Cv = tk["z_channels"]
        self.diff_steps = 8
        self.phi_ratio = tk["quant_resi"]
        self.phi_count = tk["share_quant_resi"]
        if vae is not None:
            self.codebook = self.vae["quantize.embedding.weight"]


class _Strip:
    def __init__(self, params, prefix):
        self.p, self.prefix = params, prefix

    def __getitem__(self, k):
        return self.p[self.prefix + k]

    def __contains__(self, k):
        return (self.prefix + k) in self.p


# ------------------------------------------------------------------------------------------
# data


def _render_with_objects(scene):
    """One training picture and its object pixels (where it differs from its bare ground;
    dilated by a pixel so edges count as object)."""
    img = shapes.render(scene)
    ground = shapes.render(dict(scene, objects=[]))
    obj = (np.abs(img.astype(np.int16) - ground).max(axis=2) > 8).astype(np.uint8)
    return img, obj


def stage_render(work, seed, count, procs):
    rng = np.random.default_rng(seed + 2)
    scenes = [shapes.sample_scene(rng) for _ in range(count)]
    t0 = time.time()
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        out = pool.map(_render_with_objects, scenes, chunksize=256)
    np.save(os.path.join(work, "images.npy"), np.stack([o[0] for o in out]))
    np.save(os.path.join(work, "objects.npy"), np.stack([o[1] for o in out]))
    with open(os.path.join(work, "scenes.json"), "w") as f:
        json.dump(scenes, f)
    log(f"render: {count} scenes in {time.time() - t0:.0f}s on {procs} processes")


class TrainingSet:
    """The rendered scenes on DEV: images uint8 [N,64,64,3], object pixels uint8 [N,64,64]."""

    def __init__(self, work):
        self.images = torch.from_numpy(np.load(os.path.join(work, "images.npy"))).to(DEV)
        self.objects = torch.from_numpy(np.load(os.path.join(work, "objects.npy"))).to(DEV)
        self.n = self.images.shape[0]

    def pixels(self, sel):
        return self.images[sel].permute(0, 3, 1, 2).float().div(127.5).sub(1.0)

    def batch(self, rng, n):
        """Random pictures x [n,3,64,64] in [-1,1] and loss weights w [n,1,64,64]: objects
        cover a few percent of the pixels, so they (and their edges) weigh 10x, or the
        autoencoder trades their colour and shape for a cleaner background."""
        sel = torch.from_numpy(rng.integers(0, self.n, n)).to(DEV)
        w = self.objects[sel][:, None].float()
        w = 1.0 + 9.0 * F.max_pool2d(w, 3, stride=1, padding=1)
        return self.pixels(sel), w


class StepBudget:
    """A stage's step count fixed by a time budget: steps 10..30 are timed (after the
    warm-up) and the count is rounded down to hundreds and logged, so a run can be repeated
    with the same --*-steps.  Without a budget the count given stands."""

    def __init__(self, name, steps, seconds):
        self.name, self.steps, self.seconds = name, steps, seconds
        self.t0 = self.t10 = time.time()

    def _now(self):
        if DEV.type == "cuda":
            torch.cuda.synchronize()
        return time.time()

    def after(self, step):
        if self.seconds and step == 10:
            self.t10 = self._now()
        elif self.seconds and step == 30:
            now = self._now()
            per = (now - self.t10) / 20
            total = 30 + (self.seconds - (now - self.t0)) / per
            self.steps = max(100, int(total) // 100 * 100)
            log(f"{self.name}: {per * 1000:.1f} ms/step -> {self.steps} steps in the "
                f"{self.seconds:.0f}s budget")
        return self.steps


# ------------------------------------------------------------------------------------------
# stage bpe


def stage_bpe(work, seed):
    from tokenizers import (Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers,
                            processors, trainers)
    # Qwen2's normaliser, pre-tokeniser and decoder (docs/algorithm.md §4.1)
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                              use_regex=False)
    rng = np.random.default_rng(seed)
    corpus = []
    for _ in range(20000):
        s = shapes.sample_scene(rng)
        corpus.append(shapes.caption(s, rng))
        corpus.append(shapes.caption(s))
    corpus += [system_prompt()] * 200
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    out = os.path.join(work, "tokenizer.json")
    tok.save(out)
    n_sys = len(tok.encode(system_prompt()).ids)
    lens = [len(tok.encode(c).ids) for c in corpus[:4000]]
    log(f"bpe: vocab {tok.get_vocab_size()}, system prompt {n_sys} tokens, "
        f"captions max {max(lens)} mean {np.mean(lens):.1f} tokens")
    if max(lens) > CONFIG["llm"]["context_token"]:
        log(f"bpe: warning: some captions exceed context_token {CONFIG['llm']['context_token']}")


def load_bpe(work):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(work, "tokenizer.json"))


# ------------------------------------------------------------------------------------------
# stage vae: encoder / decoder / multi-scale VQ


def downsample(x, w, p):
    """VAR-style encoder down-sampling: pad right/bottom by one, 3x3 stride-2 conv."""
    return F.conv2d(F.pad(x, (0, 1, 0, 1)), w[p + ".weight"], w[p + ".bias"], stride=2)


def encode(v, x):
    """Encoder (release layout vae.encoder.*) + quant_conv: x [B,3,64,64] -> z [B,Cv,8,8]."""
    w = v.vae
    tk = CONFIG["tok"]
    nres = len(tk["ch_mult"])
    h = ref.conv(x, w, "encoder.conv_in", 1)
    for lvl in range(nres):
        for b in range(2):
            h = ref.resnet_block(w, f"encoder.down.{lvl}.block.{b}", h)
            if lvl == nres - 1:
                h = ref.attn_block(w, f"encoder.down.{lvl}.attn.{b}", h)
        if lvl != nres - 1:
            h = downsample(h, w, f"encoder.down.{lvl}.downsample.conv")
    h = ref.resnet_block(w, "encoder.mid.block_1", h)
    h = ref.attn_block(w, "encoder.mid.attn_1", h)
    h = ref.resnet_block(w, "encoder.mid.block_2", h)
    h = ref.conv(F.silu(ref.group_norm(h, w, "encoder.norm_out")), w, "encoder.conv_out", 1)
    return ref.conv(h, w, "quant_conv", 1)


def nearest_code(r, E):
    """r [N, Cv] -> index of the nearest codebook row (squared L2)."""
    d = (r * r).sum(1, keepdim=True) - 2 * r @ E.t() + (E * E).sum(1)[None]
    return d.argmin(1)


def msvq(v, z):
    """Multi-scale residual quantisation of z [B,Cv,P,P] in the engine's order: scales
    0..SN-2 add Φ(bicubic(E[idx])), the last scale adds E[idx] at full resolution (as the
    engine's last stage does).  Returns f_hat (discrete latent), idx list [B, pn*pn]."""
    B, Cv, P, _ = z.shape
    SN = len(v.patch_nums)
    E = v.codebook
    f_rest = z.detach()
    f_hat = torch.zeros_like(z)
    idx_list = []
    for si, pn in enumerate(v.patch_nums):
        last = si == SN - 1
        r = f_rest if last else ref.downsample_area(f_rest, pn)
        idx = nearest_code(r.permute(0, 2, 3, 1).reshape(-1, Cv), E.detach())
        h = E[idx].view(B, pn, pn, Cv).permute(0, 3, 1, 2)
        if not last:
            h = ref.phi(v, ref.phi_index(si, SN, v.phi_count), ref.upsample_bicubic(h, P))
        f_hat = f_hat + h
        f_rest = f_rest - h.detach()
        idx_list.append(idx.view(B, pn * pn))
    return f_hat, idx_list


def teacher_inputs(v, idx_list):
    """Codes per scale -> (AR inputs [B, Σ_{s>=1} pn_s², Cv], f_hat before the last scale,
    last-scale code vectors [B, P*P, Cv]); the same latent updates as inference."""
    B = idx_list[0].shape[0]
    SN, P, Cv, E = len(v.patch_nums), v.patch_nums[-1], v.Cv, v.codebook
    f_hat = torch.zeros(B, Cv, P, P)
    xs = []
    for si, pn in enumerate(v.patch_nums[:-1]):
        h = E[idx_list[si]].view(B, pn, pn, Cv).permute(0, 3, 1, 2)
        f_hat = f_hat + ref.phi(v, ref.phi_index(si, SN, v.phi_count), ref.upsample_bicubic(h, P))
        nxt = ref.downsample_area(f_hat, v.patch_nums[si + 1])
        xs.append(nxt.reshape(B, Cv, -1).transpose(1, 2))
    return torch.cat(xs, dim=1), f_hat, E[idx_list[-1]]


def vae_params(seed):
    inv = mf.tokenizer_inventory(CONFIG["tok"])
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return Params(inv, gen, skip=("disc.",))


def set_lr_cosine(opt, lr_max, step, steps, warmup, floor):
    """Linear warm-up, then cosine from lr_max down to floor * lr_max at `steps`."""
    lr = lr_max * min(1.0, (step + 1) / warmup) * (
        floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps)))
    for g in opt.param_groups:
        g["lr"] = lr


def weighted_reconstruction_loss(y, x, wt):
    """L1 + L2 per value, weighted per pixel by wt [B,1,H,W]."""
    err = (y - x).abs()
    return ((err + err * err) * wt).sum() / (wt.sum() * 3)


def stage_vae(work, seed, steps, batch, budget_s=None, lr_max=2e-3, clamp_output=False):
    """clamp_output: train through the inference decoder's clamp to [-1, 1], as the published
    run did (its border pixels then stayed wrong until decoder-ft; see docs/bundled-model.md)."""
    torch.manual_seed(seed)
    data = TrainingSet(work)
    P = vae_params(seed)
    v = View(vae=P.t)
    rng = np.random.default_rng(seed + 1)
    opt = torch.optim.Adam(P.parameters(), lr=lr_max, betas=(0.9, 0.99))
    E = v.codebook
    V = E.shape[0]
    usage = torch.zeros(V)
    used, dead = 0, []
    budget = StepBudget("vae", steps, budget_s)
    step = 0
    while step < steps:
        set_lr_cosine(opt, lr_max, step, steps, 50, 0.1)
        x, wt = data.batch(rng, batch)
        z = encode(v, x)
        f_hat, idx_list = msvq(v, z)
        for idx in idx_list:
            usage.index_add_(0, idx.reshape(-1), torch.ones(idx.numel()))
        # VQ: codebook/Φ pulled towards z, z committed to the codes (β = 0.25)
        vq = F.mse_loss(f_hat, z.detach()) + 0.25 * F.mse_loss(z, f_hat.detach())
        # keep the latent at a moderate scale: the diffusion head predicts residual/0.6 with
        # x0 clipped to [-1, 1]
        zreg = 1e-3 * (z * z).mean()
        # hybrid decoder training: half the batch from the discrete latent (straight-through
        # to the encoder), half from the continuous one
        half = batch // 2
        f_st = f_hat[:half] + (z[:half] - z[:half].detach())
        # unclamped: a clamped pixel has no gradient, and pixels that overshoot early (the
        # zero-padded border first) would stay wrong for good
        y = ref.decode(v, torch.cat([f_st, z[half:]], dim=0), clamp=clamp_output)
        rec = weighted_reconstruction_loss(y, x, wt)
        loss = rec + vq + zreg
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(P.parameters(), 1.0)
        opt.step()
        step += 1
        steps = budget.after(step)
        if step % 50 == 0:
            # restart dead codes from current latents
            with torch.no_grad():
                dead = (usage == 0).nonzero().view(-1)
                if len(dead):
                    pool = z.detach().permute(0, 2, 3, 1).reshape(-1, z.shape[1])
                    pick = torch.randint(0, pool.shape[0], (len(dead),))
                    E[dead] = pool[pick] + 0.01 * torch.randn(len(dead), z.shape[1])
                used = int((usage > 0).sum())
            usage.zero_()
        if step % 250 == 0 or step == steps:
            with torch.no_grad():
                res = (z - f_hat).detach()
                rd = F.mse_loss(ref.decode(v, f_hat[half:]), x[half:]).item()
            log(f"vae {step}/{steps} loss {loss.item():.4f} rec {rec.item():.4f} "
                f"vq {vq.item():.4f} disc-rec-mse {rd:.4f} codes used {used}/{V} "
                f"dead {len(dead)} |z| {z.detach().abs().mean():.3f} "
                f"res/0.6>1: {(res.abs() > 0.6).float().mean():.4f} "
                f"{(time.time() - budget.t0) / step:.3f}s/step")
    torch.save({k: t.detach().cpu() for k, t in P.t.items()}, os.path.join(work, "vae.pt"))


def stage_decoder_ft(work, seed, steps, batch, budget_s=None, lr_max=5e-4):
    """Fine-tune post_quant_conv + decoder with everything that defines the codes frozen
    (encoder, quant_conv, codebook, Φ): the AR transformer and the diffusion head, trained on
    those codes, stay valid.  Inputs as at inference: the discrete latent and the continuous
    one."""
    torch.manual_seed(seed + 30)
    data = TrainingSet(work)
    vsd = load(os.path.join(work, "vae.pt"))
    v = View(vae={k: t.clone().requires_grad_(k.startswith(("vae.decoder.", "vae.post_quant_conv.")))
                  for k, t in vsd.items()})
    params = [t for t in v.vae.p.values() if t.requires_grad]
    opt = torch.optim.Adam(params, lr=lr_max, betas=(0.9, 0.99))
    rng = np.random.default_rng(seed + 31)
    budget = StepBudget("decoder-ft", steps, budget_s)
    step = 0
    while step < steps:
        set_lr_cosine(opt, lr_max, step, steps, 30, 0.0)
        x, wt = data.batch(rng, batch)
        with torch.no_grad():
            z = encode(v, x)
            f_hat, _ = msvq(v, z)
        half = batch // 2
        y = ref.decode(v, torch.cat([f_hat[:half], z[half:]], dim=0), clamp=False)
        rec = weighted_reconstruction_loss(y, x, wt)
        opt.zero_grad()
        rec.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        steps = budget.after(step)
        if step % 250 == 0 or step == steps:
            log(f"decoder-ft {step}/{steps} rec {rec.item():.4f} "
                f"{(time.time() - budget.t0) / step:.3f}s/step")
    out = {k: t.detach().cpu() for k, t in v.vae.p.items()}
    torch.save(out, os.path.join(work, "vae-ft.pt"))


def load_vae(work):
    sd = load(os.path.join(work, "vae.pt"))
    return View(vae=sd), sd


# ------------------------------------------------------------------------------------------
# stage encode


def stage_encode(work):
    v, _ = load_vae(work)
    data = TrainingSet(work)
    idx_all, res_all = [], []
    t0 = time.time()
    with torch.no_grad():
        for start in range(0, data.n, 256):
            x = data.pixels(torch.arange(start, min(start + 256, data.n)))
            z = encode(v, x)
            f_hat, idx_list = msvq(v, z)
            idx_all.append(torch.cat(idx_list, dim=1).to(torch.int16))
            res_all.append((z - f_hat).permute(0, 2, 3, 1).reshape(z.shape[0], -1, z.shape[1]))
    idx = torch.cat(idx_all)
    res = torch.cat(res_all)
    log(f"encode: {data.n} images in {time.time() - t0:.0f}s; residual |r| mean "
        f"{res.abs().mean():.4f}, |r|/0.6 > 1 for {(res.abs() > 0.6).float().mean():.5f}")
    torch.save(dict(idx=idx.cpu(), res=res.half().cpu()), os.path.join(work, "codes.pt"))


# ------------------------------------------------------------------------------------------
# stage ar: text encoder + transformer + diffusion head


def set_text_vocab(work):
    """The text encoder's embedding rows: the BPE vocabulary rounded up to 64."""
    n = load_bpe(work).get_vocab_size()
    CONFIG["qwen"]["vocab_size"] = (n + 63) // 64 * 64


class _Linear(torch.nn.Module):
    def __init__(self, n_in, n_out, bias, gen):
        super().__init__()
        with on_cpu():
            w = torch.randn(n_out, n_in, generator=gen) * 0.02  # Qwen2's initializer_range
        self.weight = torch.nn.Parameter(w.to(DEV))
        self.bias = torch.nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class _RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class _Module(torch.nn.Module):
    """A named group of submodules (self_attn, mlp), for the parameter names."""

    def __init__(self, **children):
        super().__init__()
        for k, m in children.items():
            setattr(self, k, m)


class Qwen2Text(torch.nn.Module):
    """The text encoder: Qwen2's decoder stack without the LM head, its parameters named as
    transformers' Qwen2Model names them, so the state dict is the release layout's less the
    "model." prefix (and sample.py can check it against transformers' own forward).
    Eager attention: causal and padding mask, positions 0..S-1, RoPE with rope_theta, GQA."""

    def __init__(self, q, gen):
        super().__init__()
        h, self.nh, self.nkv = q["hidden_size"], q["num_attention_heads"], q["num_key_value_heads"]
        self.hd = h // self.nh
        self.theta = q["rope_theta"]
        eps, inter = q["rms_norm_eps"], q["intermediate_size"]
        with on_cpu():
            emb = torch.randn(q["vocab_size"], h, generator=gen) * 0.02
        self.embed_tokens = torch.nn.Embedding(q["vocab_size"], h, _weight=emb.to(DEV))
        self.layers = torch.nn.ModuleList()
        for _ in range(q["num_hidden_layers"]):
            kv = self.nkv * self.hd
            self.layers.append(_Module(
                self_attn=_Module(q_proj=_Linear(h, h, True, gen), k_proj=_Linear(h, kv, True, gen),
                                  v_proj=_Linear(h, kv, True, gen), o_proj=_Linear(h, h, False, gen)),
                mlp=_Module(gate_proj=_Linear(h, inter, False, gen),
                            up_proj=_Linear(h, inter, False, gen),
                            down_proj=_Linear(inter, h, False, gen)),
                input_layernorm=_RMSNorm(h, eps), post_attention_layernorm=_RMSNorm(h, eps)))
        self.norm = _RMSNorm(h, eps)

    def _rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rot * sin

    def forward(self, input_ids, attention_mask):
        B, S = input_ids.shape
        x = self.embed_tokens(input_ids)
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.int64).float() / self.hd))
        freqs = torch.arange(S, dtype=torch.float32)[:, None] * inv_freq[None]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        allowed = torch.ones(S, S, dtype=torch.bool).tril()[None] & attention_mask.bool()[:, None, :]
        bias = torch.zeros(B, 1, S, S).masked_fill(~allowed[:, None], torch.finfo(torch.float32).min)
        for layer in self.layers:
            a, m = layer.self_attn, layer.mlp
            u = layer.input_layernorm(x)
            q = a.q_proj(u).view(B, S, self.nh, self.hd).transpose(1, 2)
            k = a.k_proj(u).view(B, S, self.nkv, self.hd).transpose(1, 2)
            v = a.v_proj(u).view(B, S, self.nkv, self.hd).transpose(1, 2)
            q, k = self._rope(q, cos, sin), self._rope(k, cos, sin)
            k = k.repeat_interleave(self.nh // self.nkv, dim=1)
            v = v.repeat_interleave(self.nh // self.nkv, dim=1)
            sc = (q @ k.transpose(2, 3)) / math.sqrt(self.hd) + bias
            o = (sc.softmax(-1) @ v).transpose(1, 2).reshape(B, S, -1)
            x = x + a.o_proj(o)
            u = layer.post_attention_layernorm(x)
            x = x + m.down_proj(F.silu(m.gate_proj(u)) * m.up_proj(u))
        return types.SimpleNamespace(last_hidden_state=self.norm(x))


def make_qwen(seed=0):
    gen = torch.Generator(device="cpu").manual_seed(seed + 21)
    return Qwen2Text(CONFIG["qwen"], gen)


class PromptEncoder:
    """Prompt -> (ids [T], mask [T], position ids [T]) as the engine builds them (docs/algorithm.md §4.1)."""

    def __init__(self, tokenizer_json, context_tokens=None):
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(tokenizer_json)
        self.sys_ids = self.tok.encode(system_prompt()).ids
        self.pad = self.tok.token_to_id("<|endoftext|>")
        self.T = context_tokens or CONFIG["llm"]["context_token"]

    def __call__(self, texts):
        ids = np.full((len(texts), self.T), self.pad, dtype=np.int64)
        for i, e in enumerate(self.tok.encode_batch(texts)):
            e = e.ids[:self.T]
            ids[i, :len(e)] = e
        ids = torch.from_numpy(ids).to(DEV)
        mask = ids != self.pad
        pos = mask.long().cumsum(1) - 1
        return ids, mask, pos


def text_features(qwen, penc, ids, mask):
    """Qwen2 forward on [system ‖ prompt]; the post-norm states of the prompt rows."""
    B = ids.shape[0]
    S = len(penc.sys_ids)
    sys_ids = torch.tensor(penc.sys_ids).expand(B, S)
    full = torch.cat([sys_ids, ids], dim=1)
    am = torch.cat([torch.ones(B, S, dtype=torch.long), mask.long()], dim=1)
    out = qwen(input_ids=full, attention_mask=am).last_hidden_state
    return out[:, S:]


def llm_params(seed):
    c, tk = CONFIG["llm"], CONFIG["tok"]
    inv = mf.llm_inventory(c, tk["vocab_size"], tk["z_channels"])
    gen = torch.Generator(device="cpu").manual_seed(seed + 10)
    P = Params(inv, gen, skip=("attn_bias_for_masking", "lvl_1L"))
    with torch.no_grad():  # the diffusion head starts as the identity on its residual stream
        P["diffloss.net.final_layer.linear.weight"].mul_(0.1)
    return P


def ar_forward(v, ctx, pos, keep, x_img):
    """Teacher-forced forward over all scales at once.

    ctx [B,T,D] text features; pos [B,T] context position ids; keep [B] bool (False: the
    row is the unconditional one, as CFG dropout at training time and the second half at
    inference); x_img [B, Σ_{s>=1} pn², Cv] inputs of scales 1..SN-1.
    Returns logits [B, 1 + Σ_{s>=1} pn², V] (the last context position, then every image
    position) and the final hidden state of the last scale [B, P², C]."""
    w = v.llm
    B, T = ctx.shape[:2]
    k = keep[:, None, None].float()
    ctx = ctx * k
    pos = pos * keep[:, None].long()
    x = ctx
    if "context_norm.weight" in w:
        x = ref.rms_norm(x, w["context_norm.weight"], v.eps)
    cond_BD = F.linear(x, w["context_embed.weight"], w["context_embed.bias"])
    ids = ref.level_ids(v)
    lvl = ref.mlp2(ref.sinusoid(ids), w, "lvl_embed.mlp")  # [L, C]
    L = len(ids)
    img = F.linear(x_img, w["word_embed.weight"], w["word_embed.bias"])
    seq = torch.cat([cond_BD, img], dim=1) + lvl[None]
    # rotary tables per row: 1-D for the context, 2-D (docs/algorithm.md §5.4) for each scale
    cos0, sin0 = ref.rope_1d(pos, v.hd)
    offset = pos[:, -1]
    coss, sins = [cos0], [sin0]
    Pn = v.patch_nums[-1]
    for pn in v.patch_nums[1:]:
        c2, s2 = ref.rope_2d(ref.image_positions(pn, Pn, offset, "gpu"), v.hd)
        coss.append(c2)
        sins.append(s2)
    cos, sin = torch.cat(coss, dim=1), torch.cat(sins, dim=1)
    # a position sees every position of its own and of earlier levels (the KV cache)
    allowed = ids[None, :] <= ids[:, None]
    bias = torch.zeros(L, L).masked_fill(~allowed, float("-inf"))
    h = seq
    for i in range(v.depth):
        p = f"blocks.{i}."
        nw = w[p + "ln_wo_grad.weight"]
        a = ref.rms_norm(h, nw, v.eps)
        qb = w[p + "attn.q_bias"]
        qkv = F.linear(a, w[p + "attn.qkv_proj.weight"],
                       torch.cat([qb, torch.zeros_like(qb), w[p + "attn.v_bias"]]))
        q, kk, vv = qkv.view(B, L, 3, v.H, v.hd).permute(2, 0, 3, 1, 4).unbind(0)
        q = ref.apply_rope(q, cos, sin)
        kk = ref.apply_rope(kk, cos, sin)
        sc = q.mul(0.25 / math.sqrt(v.hd)) @ kk.transpose(-2, -1) + bias
        o = (sc.softmax(-1) @ vv).transpose(1, 2).reshape(B, L, v.C)
        h = h + F.linear(o, w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])
        u = ref.rms_norm(h, nw, v.eps)
        ff = F.silu(F.linear(u, w[p + "ffn.gate_proj.weight"])) * F.linear(u, w[p + "ffn.up_proj.weight"])
        h = h + F.linear(ff, w[p + "ffn.down_proj.weight"])
    logits = ref.head_logits(v, h[:, T - 1:], cond_BD)
    last = Pn * Pn
    return logits, h[:, L - last:]


class IDDPM:
    """The 1000-step cosine schedule the head is trained on (sampling respaces it to 8)."""

    def __init__(self, steps=1000):
        def ab(u):
            return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
        b = np.array([min(1 - ab((i + 1) / steps) / ab(i / steps), 0.999) for i in range(steps)])
        acp = np.cumprod(1 - b)
        acp_prev = np.append(1.0, acp[:-1])
        post_var = b * (1 - acp_prev) / (1 - acp)
        t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
        self.n = steps
        self.sqrt_acp, self.sqrt_1macp = t(np.sqrt(acp)), t(np.sqrt(1 - acp))
        self.sqrt_recip, self.sqrt_recipm1 = t(np.sqrt(1 / acp)), t(np.sqrt(1 / acp - 1))
        self.log_beta = t(np.log(b))
        self.post_logvar = t(np.log(np.append(post_var[1], post_var[1:])))
        self.coef1 = t(b * np.sqrt(acp_prev) / (1 - acp))
        self.coef2 = t((1 - acp_prev) * np.sqrt(1 - b) / (1 - acp))

    def g(self, a, t):
        return a[t].float()[:, None]


def normal_kl(m1, lv1, m2, lv2):
    return 0.5 * (-1.0 + lv2 - lv1 + torch.exp(lv1 - lv2) + (m1 - m2) ** 2 * torch.exp(-lv2))


def approx_std_normal_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def discretized_gaussian_nll(x, mean, logvar):
    """-log p(x) for x in [-1, 1] under a Gaussian integrated over bins of width 2/255."""
    c = x - mean
    inv = torch.exp(-0.5 * logvar)
    cdf_plus = approx_std_normal_cdf(inv * (c + 1 / 255))
    cdf_min = approx_std_normal_cdf(inv * (c - 1 / 255))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_1m_cdf_min = torch.log((1 - cdf_min).clamp(min=1e-12))
    delta = cdf_plus - cdf_min
    lp = torch.where(x < -0.999, log_cdf_plus,
                     torch.where(x > 0.999, log_1m_cdf_min, torch.log(delta.clamp(min=1e-12))))
    return -lp


def diffusion_loss(v, sched, x0, cond):
    """IDDPM hybrid loss: MSE on ε + the variational bound through the learned variance
    (ε detached there), both in nats/dim averaged."""
    N, Cv = x0.shape
    t = torch.randint(0, sched.n, (N,))
    noise = torch.randn_like(x0)
    xt = sched.g(sched.sqrt_acp, t) * x0 + sched.g(sched.sqrt_1macp, t) * noise
    out = ref.diffusion_net(v, xt, t, cond)
    eps, vv = out[:, :Cv], out[:, Cv:]
    mse = F.mse_loss(eps, noise)
    frac = (vv + 1) / 2
    logvar = frac * sched.g(sched.log_beta, t) + (1 - frac) * sched.g(sched.post_logvar, t)
    x0_pred = (sched.g(sched.sqrt_recip, t) * xt - sched.g(sched.sqrt_recipm1, t) * eps.detach()).clamp(-1, 1)
    mean = sched.g(sched.coef1, t) * x0_pred + sched.g(sched.coef2, t) * xt
    tmean = sched.g(sched.coef1, t) * x0 + sched.g(sched.coef2, t) * xt
    tlogvar = sched.g(sched.post_logvar, t)
    kl = normal_kl(tmean, tlogvar, mean, logvar).mean(1) / math.log(2.0)
    nll = discretized_gaussian_nll(x0, mean, logvar).mean(1) / math.log(2.0)
    vb = torch.where(t == 0, nll, kl)
    return mse + vb.mean(), mse


def cpu_copy(d):
    return {k: t.detach().cpu() for k, t in d.items()}


def stage_ar(work, seed, steps, batch=32, lr_max=1e-3, stop=None, resume=False, budget_s=None,
             publish=None):
    """steps sets the learning-rate schedule; stop (<= steps) ends the run early, after the
    checkpoint of that step.  resume continues WORK/ar.pt with a new schedule."""
    torch.manual_seed(seed + 20)
    vsd = load(os.path.join(work, "vae.pt"))
    codes = load(os.path.join(work, "codes.pt"))
    with open(os.path.join(work, "scenes.json")) as f:
        scenes = json.load(f)
    vv = View(vae=vsd)
    idx_all = codes["idx"].long()
    res_all = codes["res"].float()
    N = idx_all.shape[0]
    splits = np.cumsum([pn * pn for pn in PATCH_NUMS])[:-1]
    penc = PromptEncoder(os.path.join(work, "tokenizer.json"))
    qwen = make_qwen(seed)
    P = llm_params(seed)
    v = View(llm=P.t, vae=vsd)
    params = P.parameters() + list(qwen.parameters())
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.02),
                             dict(params=no_decay, weight_decay=0.0)], lr=lr_max, betas=(0.9, 0.95))
    step0 = 0
    if resume:
        st = load(os.path.join(work, "ar.pt"))
        with torch.no_grad():
            for k, t in st["llm"].items():
                P[k].copy_(t)
        qwen.load_state_dict(st["qwen"])
        step0 = st["step"]
        torch.manual_seed(seed + 40 + step0)
    # EMA of every trained tensor, in the order of `live`
    live_llm = list(P.t.items())
    live_qwen = list(qwen.named_parameters())
    ema = [t.detach().clone() for _, t in live_llm + live_qwen]
    if resume:
        ema = [st["ema_llm"][k].clone() for k, _ in live_llm] + \
              [st["ema_qwen"][k].clone() for k, _ in live_qwen]
    sched = IDDPM()
    rng = np.random.default_rng(seed + 3 + step0)
    mul = CONFIG["llm"]["diffusion_batch_mul"]
    drop = CONFIG["llm"]["cond_drop_rate"]

    def save(path, step):
        n = len(live_llm)
        torch.save(dict(llm=cpu_copy(P.t),
                        ema_llm={k: e.cpu() for (k, _), e in zip(live_llm, ema[:n])},
                        qwen=cpu_copy(qwen.state_dict()),
                        ema_qwen={k: e.cpu() for (k, _), e in zip(live_qwen, ema[n:])},
                        step=step0 + step), path)
        if publish:
            shutil.copy(path, publish)

    budget = StepBudget("ar", steps, budget_s)
    step = 0
    end = stop or steps
    while step < end:
        set_lr_cosine(opt, lr_max, step, steps, 100, 0.05)
        sel = rng.integers(0, N, batch)
        texts = [shapes.caption(scenes[i], rng) for i in sel]
        ids, mask, pos = penc(texts)
        sel = torch.from_numpy(sel).to(DEV)
        idx = idx_all[sel]
        idx_list = list(torch.tensor_split(idx, splits.tolist(), dim=1))
        with torch.no_grad():
            x_img, _, last_codes = teacher_inputs(vv, idx_list)
        keep = torch.from_numpy(rng.random(batch) >= drop).to(DEV)
        ctx = text_features(qwen, penc, ids, mask)
        logits, h_last = ar_forward(v, ctx, pos, keep, x_img)
        ce = F.cross_entropy(logits.reshape(-1, v.V), idx.reshape(-1))
        # diffusion head on the last scale: condition from the final hidden state and the
        # true codes, target the continuous residual / 0.6 (the sampler's vae_scale)
        d = F.linear(last_codes, v.llm["word_embed.weight"], v.llm["word_embed.bias"])
        z = ref.rms_norm(h_last + d, v.llm["decoder_norm.weight"], v.eps).reshape(-1, v.C)
        x0 = (res_all[sel] / 0.6).reshape(-1, v.Cv).clamp(-1, 1)
        dl, dmse = diffusion_loss(v, sched, x0.repeat(mul, 1), z.repeat(mul, 1))
        loss = ce + dl
        opt.zero_grad()
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            beta = min(0.995, (1 + step + step0) / (10 + step + step0))
            live = [t.detach() for _, t in live_llm + live_qwen]
            torch._foreach_mul_(ema, beta)
            torch._foreach_add_(ema, live, alpha=1 - beta)
        step += 1
        if budget_s:
            steps = end = budget.after(step)
        if step % 100 == 0 or step == end:
            with torch.no_grad():
                acc = (logits.argmax(-1) == idx).float().mean().item()
            log(f"ar {step}/{steps} ce {ce.item():.3f} acc {acc:.3f} diff {dl.item():.4f} "
                f"(mse {dmse.item():.4f}) gn {gn:.2f} lr {opt.param_groups[0]['lr']:.2e} "
                f"{(time.time() - budget.t0) / step:.3f}s/step")
        if step % 1000 == 0 or step == end:
            save(os.path.join(work, "ar.pt"), step)
        if step == end // 2 and not resume:
            save(os.path.join(work, "ar-half.pt"), step)


# ------------------------------------------------------------------------------------------
# stage export: release layout


def write_st(path, tensors, tag_of):
    entries = [(n, tag_of(n, t), tuple(t.shape)) for n, t in tensors.items()]
    st_write.write(path, entries, lambda n: tensors[n], metadata={"format": "pt"})


def vae_weights_path(work):
    """The fine-tuned decoder when there is one (stage decoder-ft), else the VAE as trained."""
    ft = os.path.join(work, "vae-ft.pt")
    return ft if os.path.exists(ft) else os.path.join(work, "vae.pt")


def stage_export(work, out, raw=False):
    c, tk, q = CONFIG["llm"], CONFIG["tok"], CONFIG["qwen"]
    vsd = load(vae_weights_path(work))
    ar = load(os.path.join(work, "ar.pt"))
    hart = os.path.join(out, "hart")
    llm_dir, tok_dir = os.path.join(hart, "llm"), os.path.join(hart, "tokenizer")
    qdir = os.path.join(out, "Qwen2-VL-1.5B-Instruct")
    if os.path.isdir(out):
        shutil.rmtree(out)
    for d in (llm_dir, tok_dir, qdir):
        os.makedirs(d)

    # llm/: every tensor of the release inventory (buffers regenerated), except the
    # training-only attention mask; ema_model.bin = EMA weights (what the engine uses by
    # default), model.safetensors = raw weights only with --export-raw: the bundled model
    # ships one transformer (docs/bundled-model.md, "Repository weight")
    inv = mf.llm_inventory(c, tk["vocab_size"], tk["z_channels"])
    mf.write_json(os.path.join(llm_dir, "config.json"),
                  mf.hf_config(c, "hart_transformer_t2i", "HARTForT2I", "float32"))

    def full(weights):
        sd = collections.OrderedDict()
        for name, tag, shape, rule in inv:
            if name == "attn_bias_for_masking":
                continue
            if name in weights:
                sd[name] = weights[name].detach().float().contiguous()
            else:
                sd[name] = mf.draw(rule, shape, None)
        return sd

    if raw:
        main = full(ar["llm"])
        write_st(os.path.join(llm_dir, "model.safetensors"), main,
                 lambda n, t: "I64" if t.dtype == torch.int64 else "F32")
    ema = full(ar["ema_llm"])
    ema._metadata = mf.state_dict_metadata(ema.keys())
    torch.save(ema, os.path.join(llm_dir, "ema_model.bin"))

    # tokenizer/: the whole autoencoder (encoder included, it is small); no discriminator
    mf.write_json(os.path.join(tok_dir, "config.json"),
                  mf.hf_config(tk, "hart_autoencoder_with_disc", "HARTAutoEncoderWithDisc",
                               "float32"))
    tinv = mf.tokenizer_inventory(tk)
    vae = collections.OrderedDict()
    for name, tag, shape, rule in tinv:
        if name.startswith("disc."):
            continue
        vae[name] = vsd[name].float() if name in vsd else mf.draw(rule, shape, None)
    write_st(os.path.join(tok_dir, "model.safetensors"), vae, lambda n, t: "F32")

    # text encoder: Qwen2 layout ("model." prefix), bf16 as the release, single file
    mf.write_json(os.path.join(qdir, "config.json"), dict(
        mf.qwen_config(q, "bfloat16"), bos_token_id=0, eos_token_id=2))
    mf.write_json(os.path.join(qdir, "generation_config.json"), dict(
        bos_token_id=0, eos_token_id=2, pad_token_id=0,
        transformers_version=mf.TRANSFORMERS_VERSION))
    qsd = collections.OrderedDict(("model." + k, t.detach().float())
                                  for k, t in ar["ema_qwen"].items()
                                  if not k.endswith("inv_freq"))
    write_st(os.path.join(qdir, "model.safetensors"), qsd, lambda n, t: "BF16")
    shutil.copyfile(os.path.join(work, "tokenizer.json"), os.path.join(qdir, "tokenizer.json"))
    tc = dict(
        add_bos_token=False, add_prefix_space=False,
        added_tokens_decoder={str(i): dict(content=s, lstrip=False, normalized=False,
                                           rstrip=False, single_word=False, special=True)
                              for i, s in enumerate(SPECIAL_TOKENS)},
        additional_special_tokens=SPECIAL_TOKENS[1:], bos_token=None,
        clean_up_tokenization_spaces=False, eos_token="<|im_end|>", errors="replace",
        model_max_length=32768, pad_token="<|endoftext|>", split_special_tokens=False,
        tokenizer_class="Qwen2Tokenizer", unk_token=None)
    mf.write_json(os.path.join(qdir, "tokenizer_config.json"), tc)
    sizes = {os.path.relpath(os.path.join(dp, f), out): os.path.getsize(os.path.join(dp, f))
             for dp, _, fs in os.walk(out) for f in fs}
    log(f"export: {out} {sum(sizes.values()) / 1e6:.1f} MB")
    for k in sorted(sizes):
        log(f"  {k} {sizes[k]}")


# ------------------------------------------------------------------------------------------


STAGES = ["bpe", "render", "vae", "encode", "ar", "ar-resume", "decoder-ft", "export"]
STAGE_OUTPUT = {"bpe": "tokenizer.json", "render": "images.npy", "vae": "vae.pt",
                "encode": "codes.pt", "ar": "ar.pt", "decoder-ft": "vae-ft.pt"}
# what --publish copies when a stage ends (ar copies its checkpoints as it saves them; the
# training set and the codes are too big to be worth keeping)
PUBLISHED = ("bpe", "vae", "decoder-ft")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("work")
    ap.add_argument("--stage", default="all",
                    help="all, or a comma-separated list of: " + ", ".join(STAGES))
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--render-count", type=int, default=81920)
    ap.add_argument("--procs", type=int, default=os.cpu_count(),
                    help="processes rendering the training set")
    ap.add_argument("--vae-steps", type=int, default=6000)
    ap.add_argument("--vae-batch", type=int, default=64)
    ap.add_argument("--vae-seconds", type=float, default=None,
                    help="fix --vae-steps from the speed of steps 10..30")
    ap.add_argument("--vae-clamp", action="store_true",
                    help="train through the decoder's output clamp (the published run)")
    ap.add_argument("--ft-steps", type=int, default=1000)
    ap.add_argument("--ft-seconds", type=float, default=None)
    ap.add_argument("--ft-lr", type=float, default=5e-4)
    ap.add_argument("--ar-steps", type=int, default=10000)
    ap.add_argument("--ar-batch", type=int, default=256)
    ap.add_argument("--ar-lr", type=float, default=1e-3)
    ap.add_argument("--ar-seconds", type=float, default=None)
    ap.add_argument("--ar-stop", type=int, default=None,
                    help="end the AR stage after this step (the schedule still spans --ar-steps)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--publish", default=None,
                    help="copy each stage's weights (and AR checkpoints) here as they are saved")
    ap.add_argument("--out", default=None)
    ap.add_argument("--export-raw", action="store_true",
                    help="export: also write llm/model.safetensors, the raw (non-EMA) weights "
                    "that `hart generate --no-ema` reads (not part of the bundled model)")
    args = ap.parse_args(argv)
    named = STAGES if args.stage == "all" else args.stage.split(",")
    for st in named:
        if st not in STAGES:
            ap.error(f"unknown stage {st!r}")
    torch.set_num_threads(args.threads)
    use_device(args.device)
    os.makedirs(args.work, exist_ok=True)

    def want(st):
        if args.stage == "all":
            return st in STAGE_OUTPUT and not os.path.exists(os.path.join(args.work, STAGE_OUTPUT[st])) \
                or st == "export"
        return st in named

    def done(st):
        if args.publish and st in PUBLISHED:
            shutil.copy(os.path.join(args.work, STAGE_OUTPUT[st]), args.publish)
        log(f"stage {st} done")

    if want("bpe"):
        stage_bpe(args.work, args.seed)
        done("bpe")
    if want("render"):
        stage_render(args.work, args.seed, args.render_count, args.procs)
        done("render")
    if want("vae"):
        stage_vae(args.work, args.seed, args.vae_steps, args.vae_batch, args.vae_seconds,
                  clamp_output=args.vae_clamp)
        done("vae")
    if want("encode"):
        stage_encode(args.work)
        done("encode")
    set_text_vocab(args.work)
    if want("ar") or want("ar-resume"):
        res = want("ar-resume")
        stage_ar(args.work, args.seed, args.ar_steps, args.ar_batch,
                 lr_max=args.ar_lr * (0.3 if res else 1.0), stop=args.ar_stop, resume=res,
                 budget_s=args.ar_seconds, publish=args.publish)
        done("ar")
    if want("decoder-ft"):
        stage_decoder_ft(args.work, args.seed, args.ft_steps, args.vae_batch, args.ft_seconds,
                         lr_max=args.ft_lr)
        done("decoder-ft")
    if want("export"):
        stage_export(args.work, args.out or os.path.join(args.work, "model"), args.export_raw)


if __name__ == "__main__":
    main()
