#!/usr/bin/python3
# gst-hart — compact PyTorch reference of HART text-to-image inference
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reference implementation of HART inference (hart-0.7b-1024px layout), written from the
project's algorithm reference (docs/algorithm.md, cited in comments by section).
fp32, CPU, one function per stage.  Used to validate against the official code (through
the official-harness oracle) and to write the golden tensors of the C engine's tests.

  hart_reference.py CKPT (--context FILE | --random-context SEED [--batch B] [--n-real N])
                    [--weights ema|main] [--cfg 4.5] [--more-smooth 0|1] [--top-k K]
                    [--seed 42 --frame 0 | --replay DRAWS] [--record-draws FILE]
                    [--positions gpu|cpu] [--trace FILE] [--compare TRACE] [--ppm PREFIX]

CKPT is the release folder holding llm/ and tokenizer/ (or its llm/ subfolder).
Random draws come from the project's Philox streams (docs/random-draws.md) or, with
--replay, from a draw file in the interchange format (docs/random-draws.md, "Draw files"), e.g. the oracle's
draws.safetensors.  --record-draws writes the draws this run consumed in that same format,
so the oracle (run_official.py --replay) can be fed exactly the same numbers.

--positions selects how two divisions by a scalar are rounded: "gpu" (default) computes
a / b as a * fl(1/b), as the official CUDA run does; "cpu" divides exactly, as CPU PyTorch
(and therefore the CPU oracle) does.  It affects the image RoPE positions (docs/algorithm.md §5.5) and the
Gumbel temperature (docs/algorithm.md §6.3 step 6).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import philox  # noqa: E402
import st_io_ref  # noqa: E402


# ------------------------------------------------------------------------------------------
# checkpoint


class Checkpoint:
    """Weights and shapes of a HART release folder.

    llm: dict of transformer + diffusion tensors (llm/ema_model.bin or llm/model.safetensors)
    vae: dict of autoencoder tensors with the "vae." prefix removed (tokenizer/model.safetensors)
    """

    def __init__(self, root, weights="ema"):
        root = os.path.abspath(root)
        if os.path.isfile(os.path.join(root, "llm", "config.json")):
            llm_dir = os.path.join(root, "llm")
        elif os.path.isfile(os.path.join(root, "config.json")):
            llm_dir = root
        else:
            raise FileNotFoundError(f"{root}: no llm/config.json")
        tok_dir = os.path.join(os.path.dirname(llm_dir), "tokenizer")
        with open(os.path.join(llm_dir, "config.json")) as f:
            self.cfg = json.load(f)
        with open(os.path.join(tok_dir, "config.json")) as f:
            self.tok_cfg = json.load(f)
        self._check_variant()

        if weights == "ema":
            path = os.path.join(llm_dir, "ema_model.bin")
            try:
                sd = torch.load(path, map_location="cpu", weights_only=True)
            except TypeError:  # torch without weights_only
                sd = torch.load(path, map_location="cpu")
        elif weights == "main":
            path = os.path.join(llm_dir, "model.safetensors")
            sd = st_io_ref.load(path)
        else:
            raise ValueError(f"weights {weights!r}: expected ema or main")
        self.weights_path = path
        self.llm = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}
        tok = st_io_ref.load(os.path.join(tok_dir, "model.safetensors"))
        self.vae = {k[4:]: v.float() for k, v in tok.items() if k.startswith("vae.")}

        c = self.cfg
        self.C = int(c["embed_dim"])
        self.H = int(c["num_heads"])
        self.hd = self.C // self.H
        self.depth = int(c["depth"])
        self.T = int(c["context_token"])
        self.D = int(c["context_dim"])
        self.patch_nums = [int(p) for p in c["patch_nums"]]
        self.eps = float(c.get("norm_eps", 1e-6))
        self.V = int(self.tok_cfg["vocab_size"])
        self.Cv = int(self.tok_cfg["z_channels"])
        self.diff_steps = int(str(c.get("num_sampling_steps", "8")))
        self.codebook = self.vae["quantize.embedding.weight"]  # [V, Cv]
        self.phi_ratio = abs(float(self.tok_cfg.get("quant_resi", 0.5)))
        self.phi_count = 0
        while f"quantize.quant_resi.qresi_ls.{self.phi_count}.weight" in self.vae:
            self.phi_count += 1
        if self.phi_count == 0:
            raise ValueError("tokenizer: no quantize.quant_resi.qresi_ls.K tensors")

    def _check_variant(self):
        c = self.cfg
        want = dict(attn_type="llama", mlp_type="llama", disable_aln=True, shared_aln=False,
                    use_timestep_embed=True, attn_l2_norm=False, use_cross_attn=False,
                    sampler="iddpm")
        for key, value in want.items():
            if c.get(key, value) != value:
                raise NotImplementedError(f"config {key}={c.get(key)!r}: only {value!r} is implemented")
        if int(self.tok_cfg.get("share_quant_resi", 4)) in (0, 1):
            raise NotImplementedError("tokenizer share_quant_resi 0/1 not implemented")


# ------------------------------------------------------------------------------------------
# small building blocks (docs/algorithm.md §5.1, §5.2)


def rms_norm(x, weight, eps):
    """docs/algorithm.md §5.1: y = (x * rsqrt(sum(x^2)/C + eps)) * w, over the last dim."""
    inv = torch.rsqrt((x * x).sum(-1, keepdim=True) / x.shape[-1] + torch.tensor(eps, dtype=torch.float32))
    return (x * inv) * weight


def sinusoid(t, dim=256, max_period=10000):
    """cos-first sinusoidal embedding [N, dim] of float positions t [N] (docs/algorithm.md §5.2, §7.3)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(max_period)) / half)
    ang = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1)


def mlp2(x, w, prefix):
    """Linear -> SiLU -> Linear with keys prefix.0 / prefix.2."""
    h = F.silu(F.linear(x, w[prefix + ".0.weight"], w[prefix + ".0.bias"]))
    return F.linear(h, w[prefix + ".2.weight"], w[prefix + ".2.bias"])


def level_ids(ck):
    """Level of every sequence position: 0 for the T context tokens, s for pn_s^2 tokens."""
    ids = [0] * ck.T
    for s, pn in enumerate(ck.patch_nums[1:], start=1):
        ids += [s] * (pn * pn)
    return torch.tensor(ids, dtype=torch.int64)


def level_table(ck):
    """lvl_pos [L_total, C] (evaluated on the whole position list, as the model does)."""
    return mlp2(sinusoid(level_ids(ck)), ck.llm, "lvl_embed.mlp")


# ------------------------------------------------------------------------------------------
# rotary embeddings (docs/algorithm.md §5.3 - §5.5)


def inv_freq(hd, step):
    """1 / 10000^(arange(0, hd, step) / hd) in fp32 (step 2: 1-D, step 4: 2-D)."""
    return 1.0 / (10000 ** (torch.arange(0, hd, step, dtype=torch.int64).float() / hd))


def rope_1d(pos, hd):
    """Context RoPE tables: pos [R, T] int -> cos, sin [R, T, hd] (angles repeated twice)."""
    ang = pos.float()[..., None] * inv_freq(hd, 2)
    ang = torch.cat([ang, ang], dim=-1)
    return torch.cos(ang), torch.sin(ang)


def image_positions(pn, largest, offset, form):
    """docs/algorithm.md §5.5 float positions [R, pn*pn, 2] of a pn x pn map; offset [R] int64.

    form "cpu": fl(fl(i / pn) * largest) + off; form "gpu": fl(fl(i * fl(1/pn)) * largest) + off."""
    i = torch.arange(pn, dtype=torch.float32)
    if form == "gpu":
        frac = i * torch.tensor(np.float32(1.0) / np.float32(pn), dtype=torch.float32)
    elif form == "cpu":
        frac = i / torch.tensor(pn, dtype=torch.float32)
    else:
        raise ValueError(f"positions form {form!r}")
    coord = frac * torch.tensor(float(largest), dtype=torch.float32)
    rows = coord[:, None].expand(pn, pn).reshape(-1)
    cols = coord[None, :].expand(pn, pn).reshape(-1)
    p = torch.stack([rows, cols], dim=-1)  # [l, 2]
    return p[None, :, :] + offset.float()[:, None, None]


def rope_2d(pos, hd):
    """Image "2-D" RoPE tables (docs/algorithm.md §5.4): pos [R, l, 2] -> cos, sin [R, l, hd] laid out
    [angles of P0 (hd/2) | angles of P1 (hd/2)], each half = hd/4 angles repeated twice."""
    inv = inv_freq(hd, 4)
    a0 = pos[..., 0:1] * inv
    a1 = pos[..., 1:2] * inv
    ang = torch.cat([a0, a0, a1, a1], dim=-1)
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    """x [R, H, l, hd]; cos/sin [R, l, hd]; half-split pairing d <-> d + hd/2."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos[:, None] + rotated * sin[:, None]


# ------------------------------------------------------------------------------------------
# transformer (docs/algorithm.md §5.6 - §5.8)


class KVCache:
    """Per-block rotated keys and values [R, H, keys, hd], appended stage by stage."""

    def __init__(self, depth):
        self.k = [None] * depth
        self.v = [None] * depth

    def append(self, i, k, v):
        if self.k[i] is None:
            self.k[i], self.v[i] = k, v
        else:
            self.k[i] = torch.cat([self.k[i], k], dim=2)
            self.v[i] = torch.cat([self.v[i], v], dim=2)
        return self.k[i], self.v[i]


def attention(ck, i, a, cache, cos, sin):
    """docs/algorithm.md §5.6: a [R, l, C] normalised input of block i -> [R, l, C]."""
    w = ck.llm
    p = f"blocks.{i}.attn."
    R, l, C = a.shape
    bias = torch.cat([w[p + "q_bias"], torch.zeros_like(w[p + "q_bias"]), w[p + "v_bias"]])
    qkv = F.linear(a, w[p + "qkv_proj.weight"], bias).view(R, l, 3, ck.H, ck.hd)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [R, H, l, hd]
    q = apply_rope(q, cos, sin)
    k = apply_rope(k, cos, sin)
    k_all, v_all = cache.append(i, k, v)
    scores = q.mul(0.25 / math.sqrt(ck.hd)) @ k_all.transpose(-2, -1)  # no mask at all
    out = (scores.softmax(dim=-1) @ v_all).transpose(1, 2).reshape(R, l, C)
    return F.linear(out, w[p + "proj.weight"], w[p + "proj.bias"])


def block(ck, i, x, cache, cos, sin):
    """docs/algorithm.md §5.7: pre-norm block, one norm weight shared by both norms, SwiGLU FFN."""
    w = ck.llm
    nw = w[f"blocks.{i}.ln_wo_grad.weight"]
    x = x + attention(ck, i, rms_norm(x, nw, ck.eps), cache, cos, sin)
    u = rms_norm(x, nw, ck.eps)
    p = f"blocks.{i}.ffn."
    hidden = F.silu(F.linear(u, w[p + "gate_proj.weight"])) * F.linear(u, w[p + "up_proj.weight"])
    return x + F.linear(hidden, w[p + "down_proj.weight"])


def run_blocks(ck, x, cache, cos, sin):
    for i in range(ck.depth):
        x = block(ck, i, x, cache, cos, sin)
    return x


def head_logits(ck, h, cond_BD):
    """docs/algorithm.md §5.8: h [R, l, C] -> logits [R, l, V] with AdaLN from the max-pooled condition."""
    w = ck.llm
    pooled = cond_BD.max(dim=1, keepdim=True).values  # [R, 1, C], pads included
    m = F.linear(F.silu(pooled), w["head_nm.ada_lin.1.weight"], w["head_nm.ada_lin.1.bias"])
    scale, shift = m[..., :ck.C], m[..., ck.C:]
    g = rms_norm(h, w["head_nm.ln_wo_grad.weight"], ck.eps).mul(scale + 1).add(shift)
    return F.linear(g, w["head.weight"], w["head.bias"])


def context_condition(ck, ctx):
    """docs/algorithm.md §6.1 step 2: [ctx ; 0] -> cond_BD [2B, T, C]."""
    x = torch.cat([ctx, torch.zeros_like(ctx)], dim=0)
    if "context_norm.weight" in ck.llm:
        x = rms_norm(x, ck.llm["context_norm.weight"], ck.eps)
    return F.linear(x, ck.llm["context_embed.weight"], ck.llm["context_embed.bias"])


# ------------------------------------------------------------------------------------------
# sampling (docs/algorithm.md §6.3)


def cfg_mix(logits, t, B):
    """(1+t)·cond − t·uncond, scalars rounded to fp32."""
    return (1 + t) * logits[:B] - t * logits[B:]


def top_k_(logits, k):
    """In place: entries below the k-th largest value of their row become -inf."""
    k = min(k, logits.shape[-1])
    thr = logits.topk(k, dim=-1, largest=True, sorted=False).values.amin(dim=-1, keepdim=True)
    logits.masked_fill_(logits < thr, -math.inf)
    return logits


def categorical(logits, e1):
    """Exponential race: idx = argmax_v softmax(logits)_v / E1_v (first index on ties).
    logits [B, l, V], e1 [B*l, V] -> idx [B, l] int64."""
    B, l, V = logits.shape
    p = logits.softmax(dim=-1).view(-1, V)
    return torch.argmax(p / e1, dim=-1).view(B, l)


def divide_by_scalar(x, b, form):
    if form == "gpu":
        return x * float(np.float32(1.0) / np.float32(b))
    return x / b


def gumbel_weights(logits, ratio, tau, e2, form):
    """docs/algorithm.md §6.3 step 6: softmax((logits·(1+ratio) − log E2) / tau) [B, l, V]."""
    g = -torch.log(e2)
    return divide_by_scalar(logits.mul(1 + ratio) + g, tau, form).softmax(dim=-1)


# ------------------------------------------------------------------------------------------
# latent helpers (docs/algorithm.md §8)


def phi_index(si, SN, K):
    """Φ choice: nearest tick of linspace(1/(3K), 1-1/(3K), K) (K=4) or 1/(2K) otherwise."""
    lo = 1 / 3 / K if K == 4 else 1 / 2 / K
    ticks = np.linspace(lo, 1 - lo, K)
    return int(np.argmin(np.abs(ticks - si / (SN - 1))))


def phi(ck, k, h):
    """Φ_k(h) = (1-r)·h + r·(conv3x3_k(h) + b_k)."""
    w = ck.vae[f"quantize.quant_resi.qresi_ls.{k}.weight"]
    b = ck.vae[f"quantize.quant_resi.qresi_ls.{k}.bias"]
    return h.mul(1 - ck.phi_ratio) + F.conv2d(h, w, b, padding=1).mul(ck.phi_ratio)


def upsample_bicubic(h, size):
    return F.interpolate(h, size=(size, size), mode="bicubic", align_corners=False)


def downsample_area(f, size):
    return F.adaptive_avg_pool2d(f, (size, size))


# ------------------------------------------------------------------------------------------
# residual diffusion (docs/algorithm.md §7)


class DiffusionSchedule:
    """IDDPM cosine schedule respaced to `steps` steps; all float64."""

    def __init__(self, steps, base=1000):
        def alpha_bar(u):
            return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = np.array([min(1 - alpha_bar((i + 1) / base) / alpha_bar(i / base), 0.999)
                          for i in range(base)], dtype=np.float64)
        acp = np.cumprod(1.0 - betas)
        # respacing "steps": evenly spaced original steps, rounded
        stride = (base - 1) / (steps - 1) if steps > 1 else 1
        keep = sorted({int(round(i * stride)) for i in range(steps)})
        self.timesteps = keep  # original step of each respaced step n
        new_betas, last = [], 1.0
        for i, a in enumerate(acp):
            if i in keep:
                new_betas.append(1 - a / last)
                last = a
        b = np.array(new_betas, dtype=np.float64)
        a = 1.0 - b
        acp = np.cumprod(a)
        acp_prev = np.append(1.0, acp[:-1])
        self.betas = b
        self.sqrt_recip_acp = np.sqrt(1.0 / acp)
        self.sqrt_recipm1_acp = np.sqrt(1.0 / acp - 1)
        post_var = b * (1.0 - acp_prev) / (1.0 - acp)
        self.post_logvar_clipped = np.log(np.append(post_var[1], post_var[1:]))
        self.coef1 = b * np.sqrt(acp_prev) / (1.0 - acp)
        self.coef2 = (1.0 - acp_prev) * np.sqrt(a) / (1.0 - acp)
        self.log_betas = np.log(b)


def f32(v):
    return float(np.float32(v))


def diffusion_net(ck, x, t_orig, c):
    """Net(x [N, Cv], t [N] original steps, c [N, C]) -> [N, 2Cv] (SimpleMLPAdaLN)."""
    w = ck.llm
    p = "diffloss.net."
    xh = F.linear(x, w[p + "input_proj.weight"], w[p + "input_proj.bias"])
    y = mlp2(sinusoid(t_orig), w, p + "time_embed.mlp") + \
        F.linear(c, w[p + "cond_embed.weight"], w[p + "cond_embed.bias"])
    sy = F.silu(y)
    j = 0
    while f"{p}res_blocks.{j}.in_ln.weight" in w:
        q = f"{p}res_blocks.{j}."
        shift, scale, gate = F.linear(sy, w[q + "adaLN_modulation.1.weight"],
                                      w[q + "adaLN_modulation.1.bias"]).chunk(3, dim=-1)
        hh = F.layer_norm(xh, (xh.shape[-1],), w[q + "in_ln.weight"], w[q + "in_ln.bias"], eps=1e-6)
        hh = hh * (1 + scale) + shift
        hh = mlp2(hh, w, q + "mlp")
        xh = xh + gate * hh
        j += 1
    q = p + "final_layer."
    shift, scale = F.linear(sy, w[q + "adaLN_modulation.1.weight"],
                            w[q + "adaLN_modulation.1.bias"]).chunk(2, dim=-1)
    hh = F.layer_norm(xh, (xh.shape[-1],), eps=1e-6) * (1 + scale) + shift
    return F.linear(hh, w[q + "linear.weight"], w[q + "linear.bias"])


def diffusion_sample(ck, z, s, draws, trace=None, vae_scale=0.6, temperature=1.0):
    """docs/algorithm.md §7.4 with CFG scale s: z [2N, C] (cond rows first) -> [2N, Cv] (rows [0, N) used)."""
    sched = DiffusionSchedule(ck.diff_steps)
    n2, Cv = z.shape[0], ck.Cv
    N = n2 // 2
    guided = not (s == 1.0)
    if guided:
        noise = draws.randn("diffusion_init_N0", philox.PURPOSE_N0, 0, (N, Cv))
        x = torch.cat([noise, noise], dim=0)
    else:
        x = draws.randn("diffusion_init_N0", philox.PURPOSE_N0, 0, (n2, Cv))
    for k, n in enumerate(reversed(range(len(sched.timesteps)))):
        t_orig = torch.full((n2,), sched.timesteps[n], dtype=torch.int64)
        if guided:
            half = x[:N]
            out = diffusion_net(ck, torch.cat([half, half], dim=0), t_orig, z)
            eps_c, eps_u = out[:N, :Cv], out[N:, :Cv]
            mixed = eps_c * (1 + s) - s * eps_u
            out = torch.cat([torch.cat([mixed, mixed], dim=0), out[:, Cv:]], dim=1)
        else:
            out = diffusion_net(ck, x, t_orig, z)
        if trace is not None:
            trace[f"diff_eval{k}_x"] = x.clone()
            trace[f"diff_eval{k}_t"] = t_orig
            trace[f"diff_eval{k}_out"] = out.clone()
        eps, v = out[:, :Cv], out[:, Cv:]
        frac = (v + 1) / 2
        logvar = frac * f32(sched.log_betas[n]) + (1 - frac) * f32(sched.post_logvar_clipped[n])
        x0 = (f32(sched.sqrt_recip_acp[n]) * x - f32(sched.sqrt_recipm1_acp[n]) * eps).clamp(-1, 1)
        mean = f32(sched.coef1[n]) * x0 + f32(sched.coef2[n]) * x
        zn = draws.randn(f"diffusion_step_Z{n}", philox.PURPOSE_ZN, n, (n2, Cv))
        keep = 1.0 if n != 0 else 0.0
        x = mean + keep * torch.exp(0.5 * logvar) * zn * temperature
    return x * vae_scale


# ------------------------------------------------------------------------------------------
# decoder (docs/algorithm.md §9)


def group_norm(x, w, p):
    return F.group_norm(x, 32, w[p + ".weight"], w[p + ".bias"], eps=1e-6)


def conv(x, w, p, pad):
    return F.conv2d(x, w[p + ".weight"], w[p + ".bias"], padding=pad)


def resnet_block(w, p, x):
    h = conv(F.silu(group_norm(x, w, p + ".norm1")), w, p + ".conv1", 1)
    h = conv(F.silu(group_norm(h, w, p + ".norm2")), w, p + ".conv2", 1)
    skip = conv(x, w, p + ".nin_shortcut", 0) if p + ".nin_shortcut.weight" in w else x
    return skip + h


def attn_block(w, p, x):
    B, C, Hh, Ww = x.shape
    qkv = conv(group_norm(x, w, p + ".norm"), w, p + ".qkv", 0).reshape(B, 3, C, Hh * Ww)
    q, k, v = qkv.unbind(1)  # [B, C, HW]
    scores = torch.bmm(q.transpose(1, 2).contiguous(), k).mul(C ** -0.5)  # [B, HWq, HWk]
    att = scores.softmax(dim=2)
    o = torch.bmm(v, att.transpose(1, 2).contiguous()).reshape(B, C, Hh, Ww)
    return x + conv(o, w, p + ".proj_out", 0)


def decode(ck, f_hat, clamp=True):
    """f_hat [B, Cv, P, P] -> clamp(decoder(post_quant_conv(f_hat)), -1, 1) [B, 3, 8P.., ..].
    clamp=False (training) keeps the gradient of pixels the decoder over- or undershoots."""
    w = ck.vae
    h = conv(f_hat, w, "post_quant_conv", 1)
    h = conv(h, w, "decoder.conv_in", 1)
    h = resnet_block(w, "decoder.mid.block_1", h)
    h = attn_block(w, "decoder.mid.attn_1", h)
    h = resnet_block(w, "decoder.mid.block_2", h)
    levels = 0
    while f"decoder.up.{levels}.block.0.conv1.weight" in w:
        levels += 1
    for lv in reversed(range(levels)):
        i = 0
        while f"decoder.up.{lv}.block.{i}.conv1.weight" in w:
            h = resnet_block(w, f"decoder.up.{lv}.block.{i}", h)
            if f"decoder.up.{lv}.attn.{i}.qkv.weight" in w:
                h = attn_block(w, f"decoder.up.{lv}.attn.{i}", h)
            i += 1
        if f"decoder.up.{lv}.upsample.conv.weight" in w:
            h = conv(F.interpolate(h, scale_factor=2, mode="nearest"), w, f"decoder.up.{lv}.upsample.conv", 1)
    h = conv(F.silu(group_norm(h, w, "decoder.norm_out")), w, "decoder.conv_out", 1)
    return h.clamp(-1, 1) if clamp else h


def to_uint8(img01):
    """[0, 1] image -> uint8 by truncation (trunc(255·x))."""
    return (img01 * 255).to(torch.uint8)


# ------------------------------------------------------------------------------------------
# random draws


class Draws:
    """Source of the random draws, in the order the official code makes them (docs/algorithm.md §10).

    source "philox": the project's Philox streams (docs/random-draws.md);
    source "replay": tensors of a draw file (docs/random-draws.md, "Draw files"), checked for kind and shape.
    Every draw is kept in self.record for write()."""

    def __init__(self, seed=42, frame=0, replay=None):
        self.seed, self.frame = int(seed), int(frame)
        self.record = []  # (kind, tensor, info)
        self.replay = None
        if replay is not None:
            tensors, meta = st_io_ref.load(replay, with_metadata=True)
            items = []
            for name, t in tensors.items():
                parts = name.split("_")
                if len(parts) == 3 and parts[0] == "draw" and parts[1].isdigit():
                    items.append((int(parts[1]), parts[2], t))
            items.sort(key=lambda it: it[0])
            if [it[0] for it in items] != list(range(len(items))):
                raise ValueError(f"{replay}: draw numbering is not 0..{len(items) - 1}")
            self.replay = [(kind, t) for _, kind, t in items]
            self.replay_path = replay

    def _take(self, kind, shape, make, info):
        if self.replay is not None:
            i = len(self.record)
            if i >= len(self.replay):
                raise ValueError(f"replay: draw #{i} ({kind} {list(shape)}) requested, file has {len(self.replay)}")
            rkind, t = self.replay[i]
            if rkind != kind or list(t.shape) != list(shape):
                raise ValueError(f"replay: draw #{i} is {rkind} {list(t.shape)}, reference wants {kind} {list(shape)}")
        else:
            t = make()
        self.record.append((kind, t, info))
        return t

    def exp(self, site, purpose, index, shape):
        return self._take("exp", shape, lambda: torch.from_numpy(
            philox.exp1(self.seed, purpose, index, self.frame, shape)), dict(site=site, stage=index))

    def randn(self, role, purpose, index, shape):
        return self._take("randn", shape, lambda: torch.from_numpy(
            philox.normal(self.seed, purpose, index, self.frame, shape)), dict(site="diffusion", role=role))

    def perm(self, L):
        # MaskGIT orders: consumed, without effect with one iteration; ours are the identity
        return self._take("perm", (L,), lambda: torch.arange(L, dtype=torch.int64), dict(site="sample_orders"))

    def check_consumed(self):
        if self.replay is not None and len(self.record) != len(self.replay):
            raise ValueError(f"replay file has {len(self.replay)} draws, reference consumed {len(self.record)}")

    def write(self, path, run_meta=None):
        tensors, meta = {}, {}
        for i, (kind, t, info) in enumerate(self.record):
            name = f"draw_{i:03d}_{kind}"
            tensors[name] = t.contiguous()
            meta[name] = json.dumps(dict(info, shape=list(t.shape)), sort_keys=True)
        if run_meta is not None:
            meta["run"] = json.dumps(run_meta, sort_keys=True)
        st_io_ref.save(path, tensors, metadata=meta)


# ------------------------------------------------------------------------------------------
# the whole inference (docs/algorithm.md §6)


def load_context(path):
    """Context file (docs/algorithm.md §11.1) -> ctx [B,T,D] f32, mask [B,T] bool, positions [B,T] i64."""
    d = st_io_ref.load(path)
    ctx = d["context_tensor"].float()
    mask = d["context_mask"].bool() if "context_mask" in d else torch.ones(ctx.shape[:2], dtype=torch.bool)
    pos = d["context_position_ids"].long() if "context_position_ids" in d else torch.cumsum(mask.long(), 1) - 1
    return ctx, mask, pos


def random_context(ck, seed, B=1, n_real=None):
    """N(0,1) context (torch CPU generator `seed`), right padding with n_real real tokens."""
    g = torch.Generator().manual_seed(seed)
    ctx = torch.randn((B, ck.T, ck.D), generator=g, dtype=torch.float32)
    n = max(1, (2 * ck.T) // 3) if n_real is None else n_real
    mask = torch.arange(ck.T)[None, :].expand(B, -1) < n
    return ctx, mask.contiguous(), torch.cumsum(mask.long(), 1) - 1


def generate(ck, ctx, pos, draws, cfg=4.5, more_smooth=True, top_k=None, form="gpu", trace=None,
             stages=None):
    """Run HART inference.  ctx [B,T,D], pos [B,T] int64 (context_position_ids).

    Returns the image in [0, 1] [B, 3, H, W] (None if stopped after `stages` stages).
    trace: optional dict filled with intermediate tensors (names as the oracle's trace)."""
    tr = trace if trace is not None else {}
    B = ctx.shape[0]
    SN = len(ck.patch_nums)
    P = ck.patch_nums[-1]
    cond_BD = context_condition(ck, ctx)  # [2B, T, C]
    lvl_pos = level_table(ck)  # [L_total, C]
    lvl_ids = level_ids(ck)
    first_of_level = [int((lvl_ids == s).nonzero()[0]) for s in range(SN)]
    tr["cond_BD"] = cond_BD
    tr["lvl_vectors"] = torch.stack([lvl_pos[first_of_level[s]] for s in range(SN)])
    rope_pos_ctx = torch.cat([pos, torch.zeros_like(pos)], dim=0)  # uncond rows: all 0
    offset = rope_pos_ctx[:, -1]  # n-1 for conditional rows, 0 for unconditional
    cache = KVCache(ck.depth)
    f_hat = torch.zeros(B, ck.Cv, P, P)
    x = cond_BD + lvl_pos[None, :ck.T]  # stage-0 input [2B, T, C]
    cursor = ck.T
    emb = ck.codebook
    ratio = 0.0

    for si, pn in enumerate(ck.patch_nums):
        last = si == SN - 1
        if not last:
            ratio = si / (SN - 1)  # the last stage keeps the stale value of si = SN-2
        tag = f"s{si:02d}_"
        tr[tag + "x_in"] = x
        if si == 0:
            cos, sin = rope_1d(rope_pos_ctx, ck.hd)
            tr[tag + "rope_pos"] = rope_pos_ctx
        else:
            ppos = image_positions(pn, P, offset, form)
            cos, sin = rope_2d(ppos, ck.hd)
            tr[tag + "rope_pos"] = ppos
        tr[tag + "rope_cos"], tr[tag + "rope_sin"] = cos, sin
        hidden = run_blocks(ck, x, cache, cos, sin)
        tr[tag + "hidden"] = hidden
        logits = head_logits(ck, hidden, cond_BD)
        tr[tag + "logits_raw"] = logits
        t = cfg * ratio
        logits = cfg_mix(logits, t, B)
        if si == 0:
            logits = logits[:, -1:, :]  # the last context position only
        tr[tag + "logits_cfg"] = logits.clone()
        k = top_k if top_k is not None else (600 if si < 7 else 300)
        top_k_(logits, k)
        tr[tag + "logits_topk"] = logits
        l = logits.shape[1]
        if last:
            for _ in range(B):
                draws.perm(pn * pn)
        e1 = draws.exp("multinomial", philox.PURPOSE_E1, si, (B * l, ck.V))
        idx = categorical(logits, e1)
        tr[tag + "idx"] = idx
        if more_smooth:
            tau = max(0.27 * (1 - ratio * 0.95), 0.005)
            e2 = draws.exp("gumbel", philox.PURPOSE_E2, si, (B, l, ck.V))
            y = gumbel_weights(logits, ratio, tau, e2, form)
            tr[tag + "gumbel_y"] = y
            h = y @ emb.unsqueeze(0)  # [B, l, Cv]
        else:
            h = emb[idx]
        if not last:
            h_map = h.transpose(1, 2).reshape(B, ck.Cv, pn, pn)
            tr[tag + "h"] = h_map
            f_hat = f_hat + phi(ck, phi_index(si, SN, ck.phi_count), upsample_bicubic(h_map, P))
            tr[tag + "fhat"] = f_hat
            nxt_pn = ck.patch_nums[si + 1]
            nxt = downsample_area(f_hat, nxt_pn)
            tr[tag + "next_latent"] = nxt
            cursor += pn * pn if si > 0 else 0
            x = F.linear(nxt.view(B, ck.Cv, -1).transpose(1, 2), ck.llm["word_embed.weight"],
                         ck.llm["word_embed.bias"]) + lvl_pos[None, cursor:cursor + nxt_pn * nxt_pn]
            x = x.repeat(2, 1, 1)
            if stages is not None and si + 1 >= stages:
                return None
            continue
        # last stage (docs/algorithm.md §6.4): diffusion condition from the hard codes, residual diffusion
        tr["last_h"] = h
        d = F.linear(emb[idx], ck.llm["word_embed.weight"], ck.llm["word_embed.bias"])
        cond_in = hidden + torch.cat([d, d], dim=0)
        z = rms_norm(cond_in, ck.llm["decoder_norm.weight"], ck.eps)
        tr["last_cond_in"], tr["last_z"] = cond_in, z
        res = diffusion_sample(ck, z.reshape(-1, ck.C), t, draws, trace=tr)
        tr["diff_out"] = res
        res = res.reshape(2 * B, l, ck.Cv)[:B]
        tokens = h + res
        f_hat = f_hat + tokens.transpose(1, 2).reshape(B, ck.Cv, P, P)
    tr["fhat_final"] = f_hat
    dec = decode(ck, f_hat)
    tr["decoder_out"] = dec
    img = (dec + 1) * 0.5
    tr["image"] = img
    return img


# ------------------------------------------------------------------------------------------
# command line


def compare(mine, theirs, names=None):
    """[(name, shape, max_abs_diff, exact)] for the tensors present in both."""
    rows = []
    for name in (names or sorted(set(mine) & set(theirs))):
        if name not in mine or name not in theirs:
            continue
        a, b = mine[name], theirs[name]
        if tuple(a.shape) != tuple(b.shape):
            rows.append((name, tuple(b.shape), float("nan"), False))
            continue
        if a.dtype in (torch.int64, torch.bool) or b.dtype in (torch.int64, torch.bool):
            diff = float((a.long() != b.long()).sum())
            rows.append((name, tuple(a.shape), diff, diff == 0))
            continue
        a, b = a.float(), b.float()
        both_inf = torch.isinf(a) & torch.isinf(b) & (a == b)
        d = torch.where(both_inf, torch.zeros_like(a), (a - b).abs())
        d = torch.nan_to_num(d, nan=float("inf"))
        rows.append((name, tuple(a.shape), float(d.max()) if d.numel() else 0.0, bool(torch.equal(a, b))))
    return rows


def write_ppm(path, chw_u8):
    c, h, w = chw_u8.shape
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(chw_u8.permute(1, 2, 0).contiguous().numpy().tobytes())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--context", metavar="FILE")
    src.add_argument("--random-context", type=int, metavar="SEED")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--n-real", type=int, default=None)
    ap.add_argument("--weights", choices=["ema", "main"], default="ema")
    ap.add_argument("--cfg", type=float, default=4.5)
    ap.add_argument("--more-smooth", type=int, choices=[0, 1], default=1)
    ap.add_argument("--top-k", type=int, default=None, help="override the 600/300 top-k of every stage")
    ap.add_argument("--seed", type=int, default=42, help="Philox seed (ignored with --replay)")
    ap.add_argument("--frame", type=int, default=0)
    ap.add_argument("--replay", metavar="DRAWS")
    ap.add_argument("--record-draws", metavar="FILE")
    ap.add_argument("--positions", choices=["gpu", "cpu"], default="gpu")
    ap.add_argument("--trace", metavar="FILE", help="write the intermediate tensors")
    ap.add_argument("--compare", metavar="TRACE", help="compare with another trace (e.g. the oracle's)")
    ap.add_argument("--ppm", metavar="PREFIX", help="write PREFIX<b>.ppm")
    ap.add_argument("--self-test", action="store_true", help="run the Philox self-test first")
    args = ap.parse_args(argv)

    torch.set_grad_enabled(False)
    if args.self_test:
        philox.self_test()
    ck = Checkpoint(args.ckpt, args.weights)
    if args.context:
        ctx, mask, pos = load_context(args.context)
    else:
        ctx, mask, pos = random_context(ck, args.random_context, args.batch, args.n_real)
    if tuple(ctx.shape[1:]) != (ck.T, ck.D):
        raise SystemExit(f"context_tensor {tuple(ctx.shape)}: model wants [B, {ck.T}, {ck.D}]")
    draws = Draws(args.seed, args.frame, replay=args.replay)
    trace = {}
    img = generate(ck, ctx, pos, draws, cfg=args.cfg, more_smooth=bool(args.more_smooth),
                   top_k=args.top_k, form=args.positions, trace=trace)
    draws.check_consumed()
    trace.update(context_tensor=ctx, context_mask=mask, context_position_ids=pos)
    run = dict(ckpt=os.path.abspath(args.ckpt), weights=ck.weights_path, cfg=args.cfg,
               more_smooth=args.more_smooth, top_k=args.top_k, positions=args.positions,
               draws=("replay " + os.path.abspath(args.replay)) if args.replay else
               f"philox seed {args.seed} frame {args.frame}")
    if args.record_draws:
        draws.write(args.record_draws, run)
    if args.trace:
        st_io_ref.save(args.trace, {k: v.contiguous() for k, v in trace.items()},
                       metadata={"run": json.dumps(run, sort_keys=True)})
    u8 = to_uint8(img)
    if args.ppm:
        for b in range(u8.shape[0]):
            write_ppm(f"{args.ppm}{b}.ppm", u8[b])
    print(f"[hart_reference] image {tuple(img.shape)} range [{float(img.min()):.6f}, {float(img.max()):.6f}] "
          f"mean {float(img.mean()):.6f}; {len(draws.record)} draws")
    if args.compare:
        other = st_io_ref.load(args.compare)
        for name, shape, diff, exact in compare(trace, other):
            print(f"  {name:28s} {str(list(shape)):22s} max|diff| {diff:.3e}{'  (bit-exact)' if exact else ''}")
        if "image" in other:
            ou8 = to_uint8(other["image"])
            nd = int((ou8 != u8).sum())
            print(f"  uint8 image: {nd} of {u8.numel()} bytes differ, max {int((ou8.int() - u8.int()).abs().max())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
