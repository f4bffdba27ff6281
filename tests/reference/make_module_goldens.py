#!/usr/bin/python3
# gst-hart — golden tensors for the VAE decoder and the diffusion head
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Golden outputs of hart/decoder.c and hart/diffusion.c on the tiny fixtures.

  /usr/bin/python3 tests/reference/make_module_goldens.py [FIXTURES_DIR]

Reads tests/fixtures/{tiny,tiny2}/hart-0.7b-1024px/{llm,tokenizer}/model.safetensors and
writes tests/fixtures/goldens/{decoder,diffusion}-*.safetensors.

The math is written from docs/algorithm.md §7 and §9 with plain torch ops and
evaluated in float64 (weights upcast from their stored fp32), so the goldens carry no fp32
rounding of their own: a C test compares its fp32 result with a tolerance for fp32
accumulation only.  The sampler follows the official structure literally (full [2n, Cv]
state, [x_c ; x_c] network input, ε mixing, both halves of Zn) so that the C engine's
shortcuts (conditional rows only, hoisted cond/time embeddings) are checked, not copied.
Quantities docs/algorithm.md defines in fp32 (the sinusoid features, the schedule constants the
official code rounds to fp32) are rounded the same way here.

Files:
  decoder-<cfg>.safetensors    latent [B, Cv, h, w], image [B, 3, h·ds, w·ds]
  diffusion-<cfg>.safetensors  net_x [n, Cv], net_c [n, C], net_t (I64 [S]: the original
                               timesteps), net_out [S, n, 2Cv];
                               sample_z [2m, C], sample_seed, sample_frame, sample_cfg,
                               sample_res [m, Cv] (draws from our Philox generator, see
                               tests/reference/philox.py), and for tiny also
                               unguided_cfg = 1.0 → unguided_res [m, Cv]
  diffusion-<cfg>-replay.safetensors  a replayable draw file (docs/random-draws.md, "Draw files": draw_000_randn
                               N0 [m, Cv], draw_001_randn … Z7 … Z0 [2m, Cv], from torch's
                               generator) plus z, cfg and the expected res
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import philox  # noqa: E402
import st_write  # noqa: E402

torch.set_default_dtype(torch.float64)
DT = torch.float64

# ---------------------------------------------------------------- safetensors reading


def read_safetensors(path):
    """name -> float64 torch tensor (F32/F16/BF16/I64 supported)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    np_types = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "F64": np.float64}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif info["dtype"] in np_types:
            arr = np.frombuffer(raw, dtype=np_types[info["dtype"]])
        else:
            continue
        out[name] = torch.from_numpy(arr.astype(np.float64).reshape(info["shape"]))
    return out


def read_config(path):
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- decoder (docs/algorithm.md §9)


def group_norm(x, P, name):
    return F.group_norm(x, 32, P[name + ".weight"], P[name + ".bias"], eps=1e-6)


def conv(x, P, name, pad):
    return F.conv2d(x, P[name + ".weight"], P[name + ".bias"], padding=pad)


def res_block(x, P, p):
    h = conv(F.silu(group_norm(x, P, p + ".norm1")), P, p + ".conv1", 1)
    h = conv(F.silu(group_norm(h, P, p + ".norm2")), P, p + ".conv2", 1)
    s = conv(x, P, p + ".nin_shortcut", 0) if (p + ".nin_shortcut.weight") in P else x
    return s + h


def attn_block(x, P, p):
    B, c, H, W = x.shape
    qkv = conv(group_norm(x, P, p + ".norm"), P, p + ".qkv", 0).reshape(B, 3, c, H * W)
    q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]                      # [B, c, HW]
    w = torch.softmax(torch.einsum("bci,bcj->bij", q, k) * c ** -0.5, dim=2)
    o = torch.einsum("bij,bcj->bci", w, v).reshape(B, c, H, W)
    return x + conv(o, P, p + ".proj_out", 0)


def decode(P, tok_cfg, f_hat):
    n_levels = len(tok_cfg["ch_mult"])
    ks = tok_cfg.get("quant_conv_ks", 3)
    h = conv(f_hat, P, "vae.post_quant_conv", ks // 2)
    h = conv(h, P, "vae.decoder.conv_in", 1)
    d = "vae.decoder"
    h = res_block(h, P, d + ".mid.block_1")
    h = attn_block(h, P, d + ".mid.attn_1")
    h = res_block(h, P, d + ".mid.block_2")
    for lvl in reversed(range(n_levels)):
        for i in range(3):
            h = res_block(h, P, f"{d}.up.{lvl}.block.{i}")
            if lvl == n_levels - 1:
                h = attn_block(h, P, f"{d}.up.{lvl}.attn.{i}")
        if lvl != 0:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = conv(h, P, f"{d}.up.{lvl}.upsample.conv", 1)
    h = conv(F.silu(group_norm(h, P, d + ".norm_out")), P, d + ".conv_out", 1)
    return h.clamp(-1, 1)


# ---------------------------------------------------------------- diffusion (docs/algorithm.md §7)


def schedule(n_steps, base=1000):
    """The cosine schedule respaced to n_steps, float64 (IDDPM formulas)."""
    def alpha_bar(u):
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = np.array([min(1 - alpha_bar((i + 1) / base) / alpha_bar(i / base), 0.999)
                      for i in range(base)], dtype=np.float64)
    ac = np.cumprod(1.0 - betas)
    stride = (base - 1) / (n_steps - 1)
    kept, cur = set(), 0.0
    for _ in range(n_steps):
        kept.add(round(cur))
        cur += stride
    orig, new_betas, last = [], [], 1.0
    for i in range(base):
        if i in kept:
            orig.append(i)
            new_betas.append(1 - ac[i] / last)
            last = ac[i]
    b = np.array(new_betas)
    a = 1.0 - b
    acp = np.cumprod(a)
    acp_prev = np.append(1.0, acp[:-1])
    post_var = b * (1.0 - acp_prev) / (1.0 - acp)
    return dict(
        orig=orig,
        beta=b,
        alpha_cumprod=acp,
        sra=np.sqrt(1.0 / acp),
        srm1=np.sqrt(1.0 / acp - 1),
        coef1=b * np.sqrt(acp_prev) / (1.0 - acp),
        coef2=(1.0 - acp_prev) * np.sqrt(a) / (1.0 - acp),
        logvar_min=np.log(np.append(post_var[1], post_var[1:])),
        logvar_max=np.log(b),
    )


# docs/algorithm.md §7.2 table, n = 0..7: (orig t, β', ᾱ', coef1, coef2, log-var min)
SPEC_TABLE = [
    (0, 4.1284224821969e-05, 0.99995871577517803, 1, 0, -10.095740847876367),
    (143, 0.054878202604316861, 0.94508277877491531, 0.99926887352289195,
     0.00073083522265639277, -10.095740847876367),
    (285, 0.14874573952163239, 0.80450574193688118, 0.73968268729535502,
     0.2591816183416058, -3.1752209024668083),
    (428, 0.24954569514313463, 0.60374479731859887, 0.56485851379202867,
     0.42738684981163605, -2.0946406801212949),
    (571, 0.36607192099455799, 0.38273077957370932, 0.46080639453738581,
     0.5111170281156362, -1.4481722710789078),
    (714, 0.51756579236150757, 0.18464242038250497, 0.39270293475882612,
     0.52583023744574775, -0.93694012539781846),
    (856, 0.73543884097476675, 0.048849212741619866, 0.33224842677706368,
     0.44092201488384342, -0.4613337368783933),
    (999, 0.99999995028032651, 2.4287669077292637e-09, 0.22101856963018479,
     0.00021208673519069297, -0.050082719768147328),
]


def check_schedule_against_spec():
    s = schedule(8)
    for n, (t, beta, acp, c1, c2, lvmin) in enumerate(SPEC_TABLE):
        assert s["orig"][n] == t, (n, s["orig"][n], t)
        for got, want in ((s["beta"][n], beta), (s["alpha_cumprod"][n], acp),
                          (s["coef1"][n], c1), (s["coef2"][n], c2),
                          (s["logvar_min"][n], lvmin)):
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (n, got, want)


def timestep_features(t, dim=256):
    """docs/algorithm.md §5.2 in fp32: f_k = exp(fp32(fp32(-ln 1e4) · k) / 128), cos first.  Each fp32
    function value is the correctly rounded one (double evaluation, one rounding)."""
    half = dim // 2
    k = np.arange(half, dtype=np.float32)
    a = (np.float32(-math.log(10000.0)) * k) / np.float32(half)
    freqs = np.exp(a.astype(np.float64)).astype(np.float32)
    args = (np.float32(t) * freqs).astype(np.float32).astype(np.float64)
    e = np.concatenate([np.cos(args).astype(np.float32), np.sin(args).astype(np.float32)])
    return torch.from_numpy(e.astype(np.float64))


def lin(x, P, name):
    return F.linear(x, P[name + ".weight"], P[name + ".bias"])


def net(P, x, t, c, depth):
    """SimpleMLPAdaLN: x [N, Cv], t int, c [N, C] -> [N, 2Cv]."""
    p = "diffloss.net."
    W = P[p + "input_proj.weight"].shape[0]
    temb = lin(F.silu(lin(timestep_features(t), P, p + "time_embed.mlp.0")), P,
               p + "time_embed.mlp.2")
    y = temb[None, :] + lin(c, P, p + "cond_embed")
    xh = lin(x, P, p + "input_proj")
    for j in range(depth):
        r = f"{p}res_blocks.{j}."
        shift, scale, gate = lin(F.silu(y), P, r + "adaLN_modulation.1").chunk(3, dim=-1)
        h = F.layer_norm(xh, (W,), P[r + "in_ln.weight"], P[r + "in_ln.bias"], eps=1e-6)
        h = h * (1 + scale) + shift
        h = lin(F.silu(lin(h, P, r + "mlp.0")), P, r + "mlp.2")
        xh = xh + gate * h
    shift, scale = lin(F.silu(y), P, p + "final_layer.adaLN_modulation.1").chunk(2, dim=-1)
    h = F.layer_norm(xh, (W,), eps=1e-6) * (1 + scale) + shift
    return lin(h, P, p + "final_layer.linear")


def fp32(v):
    return float(np.float32(v))


def sample(P, depth, n_steps, z, cfg, n0, zs):
    """The official loop on the full state.  z [2n, C]; n0 [n, Cv] (guided) or [2n, Cv]
    (cfg == 1.0); zs[step] [2n, Cv].  Schedule constants rounded to fp32 as
    _extract_into_tensor does.  Returns the conditional half of 0.6 · x."""
    s = schedule(n_steps)
    n2, Cv = z.shape[0], n0.shape[1]
    n = n2 // 2
    guided = cfg != 1.0
    x = torch.cat([n0, n0]) if guided else n0.clone()
    for step in reversed(range(n_steps)):
        t = s["orig"][step]
        if guided:
            half = x[:n]
            out = net(P, torch.cat([half, half]), t, z, depth)
            eps, rest = out[:, :Cv], out[:, Cv:]
            ce, ue = eps[:n], eps[n:]
            he = ce * fp32(1 + cfg) - fp32(cfg) * ue
            eps = torch.cat([he, he])
        else:
            out = net(P, x, t, z, depth)
            eps, rest = out[:, :Cv], out[:, Cv:]
        frac = (rest + 1) / 2
        logvar = frac * fp32(s["logvar_max"][step]) + (1 - frac) * fp32(s["logvar_min"][step])
        x0 = (fp32(s["sra"][step]) * x - fp32(s["srm1"][step]) * eps).clamp(-1, 1)
        mean = fp32(s["coef1"][step]) * x0 + fp32(s["coef2"][step]) * x
        nonzero = 1.0 if step != 0 else 0.0
        x = mean + nonzero * torch.exp(0.5 * logvar) * zs[step] * 1.0
    return (x * fp32(0.6))[:n]


# ---------------------------------------------------------------- output


def save(path, tensors):
    """tensors: name -> (dtype tag, torch tensor)."""
    entries = [(name, tag, tuple(t.shape)) for name, (tag, t) in tensors.items()]
    st_write.write(path, entries, lambda name: tensors[name][1],
                   metadata={"generator": "tests/reference/make_module_goldens.py"})
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def f32(t):
    return ("F32", t.to(torch.float32))


def make_decoder(fixtures, cfg_name, batch, h, w, seed):
    root = os.path.join(fixtures, cfg_name, "hart-0.7b-1024px", "tokenizer")
    tok = read_config(os.path.join(root, "config.json"))
    P = read_safetensors(os.path.join(root, "model.safetensors"))
    g = torch.Generator().manual_seed(seed)
    latent = torch.randn(batch, tok["z_channels"], h, w, generator=g, dtype=torch.float32)
    image = decode(P, tok, latent.to(DT))
    sat = (image.abs() >= 1).double().mean().item()
    print(f"decoder {cfg_name}: image {tuple(image.shape)}, |x| range "
          f"[{image.abs().min():.3g}, {image.abs().max():.3g}], saturated {sat:.1%}")
    save(os.path.join(fixtures, "goldens", f"decoder-{cfg_name}.safetensors"),
         {"latent": f32(latent), "image": f32(image)})


def make_diffusion(fixtures, cfg_name, n_net, m, seed, frame, cfg, with_extras):
    root = os.path.join(fixtures, cfg_name, "hart-0.7b-1024px")
    llm = read_config(os.path.join(root, "llm", "config.json"))
    tok = read_config(os.path.join(root, "tokenizer", "config.json"))
    P = read_safetensors(os.path.join(root, "llm", "model.safetensors"))
    Cv, C, depth = tok["z_channels"], llm["embed_dim"], llm["diff_depth"]
    S = int(llm["num_sampling_steps"])
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale).to(DT)

    out = {}
    # one network evaluation per respaced step
    x = randn(n_net, Cv)
    c = randn(n_net, C)
    ts = schedule(S)["orig"]
    out["net_x"] = f32(x)
    out["net_c"] = f32(c)
    out["net_t"] = ("I64", torch.tensor(ts, dtype=torch.int64))
    out["net_out"] = f32(torch.stack([net(P, x, t, c, depth) for t in ts]))

    # the whole sampler with draws from our Philox generator
    z = randn(2 * m, C)
    n0 = torch.from_numpy(philox.normal(seed, philox.PURPOSE_N0, 0, frame, (m, Cv))).to(DT)
    zs = {s: torch.from_numpy(philox.normal(seed, philox.PURPOSE_ZN, s, frame,
                                            (2 * m, Cv))).to(DT) for s in range(S)}
    res = sample(P, depth, S, z, cfg, n0, zs)
    out["sample_z"] = f32(z)
    out["sample_seed"] = ("I64", torch.tensor([seed], dtype=torch.int64))
    out["sample_frame"] = ("I64", torch.tensor([frame], dtype=torch.int64))
    out["sample_cfg"] = f32(torch.tensor([cfg]))
    out["sample_res"] = f32(res)
    print(f"diffusion {cfg_name}: sample res |x| max {res.abs().max():.3g}")

    if with_extras:
        # cfg == 1.0: the unguided path, N0 [2m, Cv]
        n0u = torch.from_numpy(philox.normal(seed, philox.PURPOSE_N0, 0, frame,
                                             (2 * m, Cv))).to(DT)
        out["unguided_res"] = f32(sample(P, depth, S, z, 1.0, n0u, zs))
    save(os.path.join(fixtures, "goldens", f"diffusion-{cfg_name}.safetensors"), out)

    if with_extras:
        # a replayable draw file: torch's generator, in the official order and shapes
        rep = {}
        n0r = torch.randn(m, Cv, generator=g, dtype=torch.float32)
        rep["draw_000_randn"] = f32(n0r)
        zr = {}
        for i, s in enumerate(reversed(range(S))):
            zr[s] = torch.randn(2 * m, Cv, generator=g, dtype=torch.float32)
            rep[f"draw_{i + 1:03d}_randn"] = f32(zr[s])
        rep["z"] = f32(z)
        rep["cfg"] = f32(torch.tensor([cfg]))
        rep["res"] = f32(sample(P, depth, S, z, cfg, n0r.to(DT),
                                {s: v.to(DT) for s, v in zr.items()}))
        save(os.path.join(fixtures, "goldens", f"diffusion-{cfg_name}-replay.safetensors"),
             rep)


def main():
    fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fixtures")
    os.makedirs(os.path.join(fixtures, "goldens"), exist_ok=True)
    check_schedule_against_spec()
    # cfg 4.5 · 12/13 rounded to fp32, as the transformer hands it over
    cfg = fp32(4.5 * 12 / 13)
    make_decoder(fixtures, "tiny", batch=1, h=16, w=16, seed=11)
    # non-square, batch 2: catches transposed or mixed-up images
    make_decoder(fixtures, "tiny2", batch=2, h=12, w=10, seed=12)
    make_diffusion(fixtures, "tiny", n_net=5, m=6, seed=20260, frame=0, cfg=cfg,
                   with_extras=True)
    make_diffusion(fixtures, "tiny2", n_net=4, m=5, seed=7, frame=3, cfg=cfg,
                   with_extras=False)


if __name__ == "__main__":
    main()
