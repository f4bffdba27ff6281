#!/usr/bin/python3
# gst-hart — fixture generator: random checkpoints in the release layout
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write random-weight checkpoints in the exact folder layout, file names, config fields,
tensor names, shapes and dtypes of the public HART / Qwen2 releases.

usage: make_fixtures.py OUT --config tiny|tiny2|real|oracle-tiny [--seed N]
                        [--dtype bf16|f16|f32] [--no-qwen] [--bin-location cpu|cuda:0]

  OUT/hart-0.7b-1024px/llm/{config.json, model.safetensors, ema_model.bin}
  OUT/hart-0.7b-1024px/tokenizer/{config.json, model.safetensors}
  OUT/Qwen2-VL-1.5B-Instruct/{config.json, generation_config.json, tokenizer_config.json,
      model-00001-of-00002.safetensors, model-00002-of-00002.safetensors,
      model.safetensors.index.json}                               (not with --no-qwen)
  OUT/fixture-info.json   provenance: config, seed, versions, parameter counts, file hashes

No official HART code is used: every state dict is built here, tensor by tensor, from the
tensor inventory of docs/algorithm.md §3 (names and module order as the official
classes register them).  Files are streamed, so the real configuration never holds a
model twice in memory (only the EMA copy, which torch.save needs whole).

Init (all randomness from --seed through torch.Generator):
  Linear / Conv weights ~ N(0, (gain/sqrt(fan_in))^2), gain 1 except head_nm.ada_lin.1 0.1,
  diffusion adaLN_modulation.1 0.5, vae.decoder.conv_out 0.5; biases, q_bias, v_bias
  ~ N(0, 0.05^2); norm weights ~ 1 + N(0, 0.1^2); embeddings (codebook, Qwen2 tokens)
  ~ N(0, 1); buffers hold the values the official constructors give them.
  ema_model.bin = 0.8 * main + 0.2 * (independent draw with the same rule); buffers equal.
  disc.* (the PatchGAN discriminator, training-only, never read by inference) has its exact
  names, shapes and dtypes but constant content (conv 0, BatchNorm weight 1 / bias 0 /
  running_mean 0 / running_var 1 / num_batches_tracked 0) so it costs nothing in git.
"""

import argparse
import collections
import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_write  # noqa: E402

import torch  # noqa: E402

GENERATOR_VERSION = "1"
TRANSFORMERS_VERSION = "4.42.2"
HART_DIR = "hart-0.7b-1024px"
QWEN_DIR = "Qwen2-VL-1.5B-Instruct"
EMA_SEED_OFFSET = 1_000_003
QWEN_SEED_OFFSET = 2_000_029
TOKENIZER_SEED_OFFSET = 3_000_017
HERE = os.path.dirname(os.path.abspath(__file__))
QWEN_TOKENIZER_CONFIG_CANDIDATES = [
    os.path.join(HERE, "..", "..", "..", "shared", "data", "qwen2-vl-tokenizer", "tokenizer_config.json"),
    "/work/shared/data/qwen2-vl-tokenizer/tokenizer_config.json",
]

# --------------------------------------------------------------------------------------
# configurations
# --------------------------------------------------------------------------------------

REAL_PATCH_NUMS = [1, 2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 36, 48, 64]
# >= 8 scales reach the top-k 300 stages (si >= 7) and all four Phi convolutions; 3, 5, 6,
# 7, 10, 12 do not divide 16 (fractional RoPE positions, overlapping area windows).
TINY_PATCH_NUMS = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16]
# 7 scales: different stage count, 11 does not divide 16, last stage after 8x8.
TINY2_PATCH_NUMS = [1, 2, 3, 5, 8, 11, 16]

# HARTForT2IConfig fields with the values the release uses (docs/algorithm.md §2.2); every field that
# transformers' save_pretrained writes for this class.
_LLM_COMMON = dict(
    vae_path=None, mlp_ratio=4.0, drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0,
    norm_eps=1e-6, shared_aln=False, cond_drop_rate=0.1, attn_l2_norm=False,
    flash_if_available=True, fused_if_available=True, mlp_type="llama", attn_type="llama",
    disable_aln=True, use_timestep_embed=True, sep_aln_pooling_mode="max", use_cross_attn=False,
    diff_width=1024, diff_depth=6, num_sampling_steps="8", diffusion_batch_mul=4,
    sampler="iddpm", diffusion_head_repeats=1, use_context_norm=True, context_norm_scale=1.0,
)
# HARTAutoEncoderWithDiscConfig fields (docs/algorithm.md §2.3).
_TOK_COMMON = dict(
    dropout=0.0, beta=0.25, using_znorm=False, quant_conv_ks=3, quant_resi=0.5,
    share_quant_resi=4, default_qresi_counts=0, test_mode=False, levels=[8, 8, 8, 6, 5],
    quantizer_type="var_hybrid", hybrid=True, disable_quant_resi=False,
    freeze_codebook_for_hybrid=True, double_decoder=False,
)
# Qwen2 text model (docs/algorithm.md §2.4); "visual" describes the Qwen2-VL vision tower tensors the
# real shards carry and loaders must skip.
QWEN_REAL = dict(
    hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
    intermediate_size=8960, vocab_size=151936, rms_norm_eps=1e-6, rope_theta=1000000.0,
    max_position_embeddings=32768, sliding_window=32768, max_window_layers=28,
    tie_word_embeddings=True,
    visual=dict(embed_dim=1280, depth=32, mlp_ratio=4, patch=14, temporal_patch=2, merge=2),
    shard_limit=4 * 10**9,  # save_pretrained(max_shard_size="4GB") gives 3.99 GB + 0.43 GB
)
# One tiny text encoder for tiny and tiny2 (both use context_dim 16).  The full 151936-row
# vocabulary stays so the real tokenizer's ids index it (bf16: 4.9 MB).
QWEN_TINY = dict(
    hidden_size=16, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
    intermediate_size=48, vocab_size=151936, rms_norm_eps=1e-6, rope_theta=1000000.0,
    max_position_embeddings=32768, sliding_window=32768, max_window_layers=2,
    tie_word_embeddings=True,
    visual=dict(embed_dim=32, depth=1, mlp_ratio=4, patch=14, temporal_patch=2, merge=2),
    shard_limit="after-layer-0",  # shard 1: visual, embeddings, layer 0; shard 2: the rest
)

CONFIGS = {
    "real": dict(
        llm=dict(_LLM_COMMON, context_token=300, context_dim=1536, depth=24, embed_dim=1536,
                 num_heads=24, patch_nums=REAL_PATCH_NUMS),
        tok=dict(_TOK_COMMON, vocab_size=4096, z_channels=32, ch=160, ch_mult=[1, 1, 2, 2, 4],
                 v_patch_nums=REAL_PATCH_NUMS),
        qwen=QWEN_REAL,
    ),
    # The oracle's tiny transformer (official-harness make_checkpoint.py --config tiny) with
    # context_dim 16 (= the tiny Qwen2 hidden size) and a smaller VAE: ch_mult [1,1,1,2]
    # instead of [1,2,2,4] keeps the 8x down-sampling (128 px image), the mid/level attention
    # and a nin_shortcut (up.2.block.0, 64 -> 32 like the release's 640 -> 320) at a quarter
    # of the bytes.
    "tiny": dict(
        llm=dict(_LLM_COMMON, context_token=12, context_dim=16, depth=2, embed_dim=64,
                 num_heads=2, patch_nums=TINY_PATCH_NUMS, diff_width=64, diff_depth=2),
        tok=dict(_TOK_COMMON, vocab_size=1024, z_channels=8, ch=32, ch_mult=[1, 1, 1, 2],
                 v_patch_nums=TINY_PATCH_NUMS),
        qwen=QWEN_TINY,
    ),
    # Different everything that a port could hard-code: 7 scales, 3 heads of 16 (C = 48,
    # SwiGLU hidden 256 != 4C), context_token 10, eps 1e-5, diffusion 48 x 3, V 768, z 4,
    # 3 VAE levels (4x, 64 px image) with ch_mult [2,1,1] (the nin_shortcut widens, 32 -> 64,
    # at full resolution), K = 3 Phi convolutions, quant_resi 0.4.
    "tiny2": dict(
        llm=dict(_LLM_COMMON, context_token=10, context_dim=16, depth=3, embed_dim=48,
                 num_heads=3, patch_nums=TINY2_PATCH_NUMS, diff_width=48, diff_depth=3,
                 norm_eps=1e-5),
        tok=dict(_TOK_COMMON, vocab_size=768, z_channels=4, ch=32, ch_mult=[2, 1, 1],
                 v_patch_nums=TINY2_PATCH_NUMS, share_quant_resi=3, quant_resi=0.4),
        qwen=QWEN_TINY,
    ),
    # Exactly the oracle's tiny (context_dim 48, VAE ch_mult [1,2,2,4]); only for checking
    # this generator's inventory against official-harness/make_checkpoint.py.  No Qwen2.
    "oracle-tiny": dict(
        llm=dict(_LLM_COMMON, context_token=12, context_dim=48, depth=2, embed_dim=64,
                 num_heads=2, patch_nums=TINY_PATCH_NUMS, diff_width=64, diff_depth=2),
        tok=dict(_TOK_COMMON, vocab_size=1024, z_channels=8, ch=32, ch_mult=[1, 2, 2, 4],
                 v_patch_nums=TINY_PATCH_NUMS, hybrid=False),
        qwen=None,
    ),
}


def check_config(cfg):
    """Refuse what the official classes would refuse or what this generator does not build."""
    llm, tok = cfg["llm"], cfg["tok"]
    C, H = llm["embed_dim"], llm["num_heads"]
    problems = []
    if C % H:
        problems.append("embed_dim % num_heads != 0")
    elif (C // H) % 4:
        problems.append("head_dim % 4 != 0 (2-D RoPE)")
    if tok["vocab_size"] < 600:
        problems.append("vocab_size < 600 (the official sampler hard-codes top_k = 600)")
    pn = list(llm["patch_nums"])
    if pn[0] != 1 or pn != sorted(set(pn)):
        problems.append("patch_nums must start at 1 and increase")
    for c in [tok["ch"] * m for m in tok["ch_mult"]]:
        if c % 32:
            problems.append(f"VAE channels {c} not a multiple of 32 (GroupNorm(32))")
    if (llm["attn_type"], llm["mlp_type"]) != ("llama", "llama") or not llm["disable_aln"] \
            or llm["shared_aln"] or not llm["use_timestep_embed"] or llm["use_cross_attn"] \
            or llm["attn_l2_norm"]:
        problems.append("only the released transformer variant is generated")
    if tok["double_decoder"] or tok["quantizer_type"] != "var_hybrid":
        problems.append("only the released tokenizer variant is generated")
    q = cfg.get("qwen")
    if q is not None:
        if q["hidden_size"] != llm["context_dim"]:
            problems.append("Qwen2 hidden_size must equal context_dim")
        if q["hidden_size"] % q["num_attention_heads"] or \
                (q["hidden_size"] // q["num_attention_heads"]) % 2 or \
                q["num_attention_heads"] % q["num_key_value_heads"]:
            problems.append("bad Qwen2 head layout")
    if problems:
        raise SystemExit("config: " + "; ".join(problems))


# --------------------------------------------------------------------------------------
# tensor inventories: lists of (name, dtype tag, shape, rule), in state_dict order
# --------------------------------------------------------------------------------------
# rule: ("w", gain) | ("b",) | ("n",) | ("e",) | ("const", value) | ("fn", callable)


class Inventory(list):
    def linear(self, name, out_f, in_f, bias=True, gain=1.0, tag="F32"):
        self.append((name + ".weight", tag, (out_f, in_f), ("w", gain)))
        if bias:
            self.append((name + ".bias", tag, (out_f,), ("b",)))

    def conv(self, name, out_c, in_c, k, bias=True, gain=1.0, tag="F32", extra=()):
        self.append((name + ".weight", tag, (out_c, in_c) + tuple(extra) + (k, k), ("w", gain)))
        if bias:
            self.append((name + ".bias", tag, (out_c,), ("b",)))

    def norm(self, name, c, bias=True, tag="F32"):
        self.append((name + ".weight", tag, (c,), ("n",)))
        if bias:
            self.append((name + ".bias", tag, (c,), ("b",)))


def llm_level_ids(llm):
    """Level index per position: context tokens 0, then i for the pn^2 tokens of scale i."""
    ids = [0] * llm["context_token"]
    for i, pn in enumerate(llm["patch_nums"][1:]):
        ids += [i + 1] * (pn * pn)
    return ids


def swiglu_hidden(C, mlp_ratio):
    return int(C * mlp_ratio * 2 / 3 + 255) // 256 * 256


def llm_inventory(llm, V, Cv):
    C, D, depth = llm["embed_dim"], llm["embed_dim"], llm["depth"]
    F = swiglu_hidden(C, llm["mlp_ratio"])
    W = llm["diff_width"]
    ids = llm_level_ids(llm)
    L = len(ids)  # = sum(pn^2) + context_token - 1

    def make_lvl():
        return torch.tensor(ids, dtype=torch.int64).view(1, L)

    def make_mask():
        d = torch.tensor(ids, dtype=torch.int64)
        # row i may attend to column j when level(j) <= level(i); else -inf
        return torch.where(d.view(L, 1) >= d.view(1, L), 0.0, -math.inf) \
            .to(torch.float32).view(1, 1, L, L)

    inv = Inventory()
    inv.append(("lvl_1L", "I64", (1, L), ("fn", make_lvl)))
    inv.append(("attn_bias_for_masking", "F32", (1, 1, L, L), ("fn", make_mask)))
    inv.linear("word_embed", C, Cv)
    inv.linear("context_embed", D, llm["context_dim"])
    if llm["use_context_norm"]:
        inv.norm("context_norm", llm["context_dim"], bias=False)
    inv.linear("lvl_embed.mlp.0", C, 256)
    inv.linear("lvl_embed.mlp.2", C, C)
    for i in range(depth):
        p = f"blocks.{i}"
        inv.append((p + ".attn.q_bias", "F32", (C,), ("b",)))
        inv.append((p + ".attn.v_bias", "F32", (C,), ("b",)))
        inv.append((p + ".attn.zero_k_bias", "F32", (C,), ("const", 0.0)))
        inv.linear(p + ".attn.qkv_proj", 3 * C, C, bias=False)
        inv.linear(p + ".attn.proj", C, C)
        inv.linear(p + ".ffn.gate_proj", F, C, bias=False)
        inv.linear(p + ".ffn.up_proj", F, C, bias=False)
        inv.linear(p + ".ffn.down_proj", C, F, bias=False)
        inv.norm(p + ".ln_wo_grad", C, bias=False)
    inv.norm("head_nm.ln_wo_grad", C, bias=False)
    inv.linear("head_nm.ada_lin.1", 2 * C, D, gain=0.1)
    inv.linear("head", V, C)
    inv.norm("decoder_norm", C, bias=False)
    n = "diffloss.net"
    inv.linear(n + ".time_embed.mlp.0", W, 256)
    inv.linear(n + ".time_embed.mlp.2", W, W)
    inv.linear(n + ".cond_embed", W, C)
    inv.linear(n + ".input_proj", W, Cv)
    for j in range(llm["diff_depth"]):
        r = f"{n}.res_blocks.{j}"
        inv.norm(r + ".in_ln", W)
        inv.linear(r + ".mlp.0", W, W)
        inv.linear(r + ".mlp.2", W, W)
        inv.linear(r + ".adaLN_modulation.1", 3 * W, W, gain=0.5)
    inv.linear(n + ".final_layer.linear", 2 * Cv, W)
    inv.linear(n + ".final_layer.adaLN_modulation.1", 2 * W, W, gain=0.5)
    return inv


def _resnet_block(inv, p, cin, cout):
    inv.norm(p + ".norm1", cin)
    inv.conv(p + ".conv1", cout, cin, 3)
    inv.norm(p + ".norm2", cout)
    inv.conv(p + ".conv2", cout, cout, 3)
    if cin != cout:
        inv.conv(p + ".nin_shortcut", cout, cin, 1)


def _attn_block(inv, p, c):
    inv.norm(p + ".norm", c)
    inv.conv(p + ".qkv", 3 * c, c, 1)
    inv.conv(p + ".proj_out", c, c, 1)


def tokenizer_inventory(tok):
    ch, mult, z, V = tok["ch"], list(tok["ch_mult"]), tok["z_channels"], tok["vocab_size"]
    nres, nblocks = len(mult), 2
    inv = Inventory()
    # encoder (not needed for decoding, but in the file)
    e = "vae.encoder"
    inv.conv(e + ".conv_in", ch, 3, 3)
    in_mult = [1] + mult
    block_in = ch
    for lvl in range(nres):
        block_in, block_out = ch * in_mult[lvl], ch * mult[lvl]
        for b in range(nblocks):
            _resnet_block(inv, f"{e}.down.{lvl}.block.{b}", block_in, block_out)
            block_in = block_out
        if lvl == nres - 1:
            for b in range(nblocks):
                _attn_block(inv, f"{e}.down.{lvl}.attn.{b}", block_in)
        else:
            inv.conv(f"{e}.down.{lvl}.downsample.conv", block_in, block_in, 3)
    _resnet_block(inv, e + ".mid.block_1", block_in, block_in)
    _attn_block(inv, e + ".mid.attn_1", block_in)
    _resnet_block(inv, e + ".mid.block_2", block_in, block_in)
    inv.norm(e + ".norm_out", block_in)
    inv.conv(e + ".conv_out", z, block_in, 3)
    # decoder: levels are built from the lowest resolution up but stored as up.0 .. up.n-1
    d = "vae.decoder"
    block_in = ch * mult[-1]
    inv.conv(d + ".conv_in", block_in, z, 3)
    _resnet_block(inv, d + ".mid.block_1", block_in, block_in)
    _attn_block(inv, d + ".mid.attn_1", block_in)
    _resnet_block(inv, d + ".mid.block_2", block_in, block_in)
    levels = {}
    for lvl in reversed(range(nres)):
        sub = Inventory()
        block_out = ch * mult[lvl]
        for b in range(nblocks + 1):
            _resnet_block(sub, f"{d}.up.{lvl}.block.{b}", block_in, block_out)
            block_in = block_out
        if lvl == nres - 1:
            for b in range(nblocks + 1):
                _attn_block(sub, f"{d}.up.{lvl}.attn.{b}", block_in)
        if lvl != 0:
            sub.conv(f"{d}.up.{lvl}.upsample.conv", block_in, block_in, 3)
        levels[lvl] = sub
    for lvl in range(nres):
        inv.extend(levels[lvl])
    inv.norm(d + ".norm_out", block_in)
    inv.conv(d + ".conv_out", 3, block_in, 3, gain=0.5)
    ks = tok["quant_conv_ks"]
    inv.conv("vae.quant_conv", z, z, ks)
    inv.conv("vae.post_quant_conv", z, z, ks)
    q = "vae.quantize"
    inv.append((q + ".ema_vocab_hit_SV", "F32", (len(tok["v_patch_nums"]), V), ("const", 0.0)))
    if abs(tok["quant_resi"]) > 1e-6:
        k = tok["share_quant_resi"]
        if k == 0:
            names = [f"{q}.quant_resi.{i}" for i in
                     range(tok["default_qresi_counts"] or len(tok["v_patch_nums"]))]
        elif k == 1:
            names = [q + ".quant_resi.qresi"]
        else:
            names = [f"{q}.quant_resi.qresi_ls.{i}" for i in range(k)]
        for nm in names:
            inv.conv(nm, z, z, 3)
    inv.append((q + ".embedding.weight", "F32", (V, z), ("e",)))
    # PatchGAN discriminator, fixed size (NLayerDiscriminator: 3 channels, ndf 64, 3 layers)
    ndf, chans = 64, [3, 64, 128, 256, 512]
    inv.append(("disc.main.0.weight", "F32", (ndf, 3, 4, 4), ("const", 0.0)))
    inv.append(("disc.main.0.bias", "F32", (ndf,), ("const", 0.0)))
    for idx, (cin, cout) in zip((2, 5, 8), zip(chans[1:4], chans[2:5])):
        inv.append((f"disc.main.{idx}.weight", "F32", (cout, cin, 4, 4), ("const", 0.0)))
        bn = f"disc.main.{idx + 1}"
        inv.append((bn + ".weight", "F32", (cout,), ("const", 1.0)))
        inv.append((bn + ".bias", "F32", (cout,), ("const", 0.0)))
        inv.append((bn + ".running_mean", "F32", (cout,), ("const", 0.0)))
        inv.append((bn + ".running_var", "F32", (cout,), ("const", 1.0)))
        inv.append((bn + ".num_batches_tracked", "I64", (), ("const", 0)))
    inv.append(("disc.main.11.weight", "F32", (1, 512, 4, 4), ("const", 0.0)))
    inv.append(("disc.main.11.bias", "F32", (1,), ("const", 0.0)))
    return inv


def qwen_inventory(q, tag):
    h, V = q["hidden_size"], q["vocab_size"]
    hd = h // q["num_attention_heads"]
    kv = q["num_key_value_heads"] * hd
    inv = Inventory()
    vis = q["visual"]
    E, hid = vis["embed_dim"], vis["embed_dim"] * vis["mlp_ratio"]
    merged = E * vis["merge"] ** 2
    inv.conv("visual.patch_embed.proj", E, 3, vis["patch"], bias=False, tag=tag,
             extra=(vis["temporal_patch"],))
    for i in range(vis["depth"]):
        p = f"visual.blocks.{i}"
        inv.norm(p + ".norm1", E, tag=tag)
        inv.norm(p + ".norm2", E, tag=tag)
        inv.linear(p + ".attn.qkv", 3 * E, E, tag=tag)
        inv.linear(p + ".attn.proj", E, E, tag=tag)
        inv.linear(p + ".mlp.fc1", hid, E, tag=tag)
        inv.linear(p + ".mlp.fc2", E, hid, tag=tag)
    inv.norm("visual.merger.ln_q", E, tag=tag)
    inv.linear("visual.merger.mlp.0", merged, merged, tag=tag)
    inv.linear("visual.merger.mlp.2", h, merged, tag=tag)
    inv.append(("model.embed_tokens.weight", tag, (V, h), ("e",)))
    for i in range(q["num_hidden_layers"]):
        p = f"model.layers.{i}"
        inv.linear(p + ".self_attn.q_proj", h, h, tag=tag)
        inv.linear(p + ".self_attn.k_proj", kv, h, tag=tag)
        inv.linear(p + ".self_attn.v_proj", kv, h, tag=tag)
        inv.linear(p + ".self_attn.o_proj", h, h, bias=False, tag=tag)
        inv.linear(p + ".mlp.gate_proj", q["intermediate_size"], h, bias=False, tag=tag)
        inv.linear(p + ".mlp.up_proj", q["intermediate_size"], h, bias=False, tag=tag)
        inv.linear(p + ".mlp.down_proj", h, q["intermediate_size"], bias=False, tag=tag)
        inv.norm(p + ".input_layernorm", h, bias=False, tag=tag)
        inv.norm(p + ".post_attention_layernorm", h, bias=False, tag=tag)
    inv.norm("model.norm", h, bias=False, tag=tag)
    if not q["tie_word_embeddings"]:
        inv.linear("lm_head", V, h, bias=False, tag=tag)
    return inv


# --------------------------------------------------------------------------------------
# value generation
# --------------------------------------------------------------------------------------

def draw(rule, shape, gen):
    kind = rule[0]
    if kind == "const":
        dtype = torch.int64 if isinstance(rule[1], int) and not isinstance(rule[1], bool) \
            else torch.float32
        return torch.full(shape, rule[1], dtype=dtype)
    if kind == "fn":
        return rule[1]()
    r = torch.randn(shape, generator=gen, dtype=torch.float32)
    if kind == "w":
        fan_in = st_write.numel(shape[1:])
        return r.mul_(rule[1] / math.sqrt(fan_in))
    if kind == "b":
        return r.mul_(0.05)
    if kind == "n":
        return r.mul_(0.1).add_(1.0)
    if kind == "e":
        return r
    raise ValueError(f"unknown rule {rule!r}")


def is_random(rule):
    return rule[0] in ("w", "b", "n", "e")


def count_params(inv, prefix="", exclude=None):
    return sum(st_write.numel(s) for n, _, s, r in inv
               if n.startswith(prefix) and r[0] != "fn" and not n.endswith(
                   ("zero_k_bias", "ema_vocab_hit_SV", "running_mean", "running_var",
                    "num_batches_tracked"))
               and (exclude is None or not n.startswith(exclude)))


def state_dict_metadata(names):
    """The `_metadata` torch attaches to a state_dict: one {"version": 1} per module path,
    in pre-order.  Derived from the key prefixes (parameter-less modules are not listed)."""
    meta = collections.OrderedDict()
    meta[""] = {"version": 1}
    for name in names:
        parts = name.split(".")[:-1]
        for i in range(1, len(parts) + 1):
            meta.setdefault(".".join(parts[:i]), {"version": 1})
    return meta


@contextlib.contextmanager
def storage_location(tag):
    """Tag the storages in a torch.save file (e.g. "cuda:0", as a GPU-saved checkpoint)."""
    import torch.serialization as ser
    if tag in (None, "cpu"):
        yield
        return
    orig = ser.location_tag
    ser.location_tag = lambda storage: tag
    try:
        yield
    finally:
        ser.location_tag = orig


# --------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------

def write_json(path, obj):
    """As transformers writes configs: indent 2, sorted keys, trailing newline."""
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def hf_config(fields, model_type, architecture, torch_dtype):
    d = dict(fields)
    d.update(architectures=[architecture], model_type=model_type, torch_dtype=torch_dtype,
             transformers_version=TRANSFORMERS_VERSION)
    return d


# Training-only tensors that inference never reads.  `--lean` (used for the
# committed fixtures, which must stay small) leaves them out of the files but
# still draws them, so every tensor that is written has exactly the values of
# the full layout.
LEAN_DROP_PREFIXES = ("disc.", "vae.encoder.", "vae.quant_conv.", "attn_bias_for_masking")


def lean_filter(inv, produce, lean):
    """(entries to write, producer) — the producer draws every dropped
    tensor that precedes a written one, keeping the generator in step."""
    entries = [(n, t, s) for n, t, s, _ in inv]
    if not lean:
        return entries, produce
    # st_write.write calls the producer in file order, so walk that order
    order = [n for n, _, _ in st_write.file_order(entries)]
    kept = [e for e in entries if not e[0].startswith(LEAN_DROP_PREFIXES)]
    pos = {"next": 0}

    def producer(name):
        while order[pos["next"]] != name:
            produce(order[pos["next"]])
            pos["next"] += 1
        pos["next"] += 1
        return produce(name)

    return kept, producer


def write_llm(llm_dir, cfg, seed, bin_location, lean=False):
    llm, tok = cfg["llm"], cfg["tok"]
    inv = llm_inventory(llm, tok["vocab_size"], tok["z_channels"])
    write_json(os.path.join(llm_dir, "config.json"),
               hf_config(llm, "hart_transformer_t2i", "HARTForT2I", "float32"))
    gen = torch.Generator().manual_seed(seed)
    gen_ema = torch.Generator().manual_seed(seed + EMA_SEED_OFFSET)
    rules = {n: r for n, _, _, r in inv}
    shapes = {n: s for n, _, s, _ in inv}
    ema = {}

    def produce(name):
        main = draw(rules[name], shapes[name], gen)
        if is_random(rules[name]):
            ema[name] = main * 0.8 + draw(rules[name], shapes[name], gen_ema) * 0.2
        else:
            ema[name] = main.clone()
        return main

    entries, producer = lean_filter(inv, produce, lean)
    st_write.write(os.path.join(llm_dir, "model.safetensors"), entries, producer,
                   metadata={"format": "pt"})
    written = {n for n, _, _ in entries}
    # what torch.save(model.state_dict()) writes: an OrderedDict in module order with the
    # per-module `_metadata` versions attached
    sd = collections.OrderedDict((n, ema.pop(n)) for n, _, _, _ in inv if n in written)
    sd._metadata = state_dict_metadata(sd.keys())
    with storage_location(bin_location):
        torch.save(sd, os.path.join(llm_dir, "ema_model.bin"))
    del sd
    return dict(transformer_and_heads=count_params(inv, exclude="diffloss."),
                diffusion_mlp=count_params(inv, "diffloss."),
                swiglu_hidden=swiglu_hidden(llm["embed_dim"], llm["mlp_ratio"]),
                sequence_length=len(llm_level_ids(llm)))


def write_tokenizer(tok_dir, cfg, seed, lean=False):
    tok = cfg["tok"]
    inv = tokenizer_inventory(tok)
    write_json(os.path.join(tok_dir, "config.json"),
               hf_config(tok, "hart_autoencoder_with_disc", "HARTAutoEncoderWithDisc", "float32"))
    gen = torch.Generator().manual_seed(seed + TOKENIZER_SEED_OFFSET)
    rules = {n: r for n, _, _, r in inv}
    shapes = {n: s for n, _, s, _ in inv}
    entries, producer = lean_filter(inv, lambda n: draw(rules[n], shapes[n], gen), lean)
    st_write.write(os.path.join(tok_dir, "model.safetensors"), entries, producer,
                   metadata={"format": "pt"})
    return {k: count_params(inv, "vae." + k) for k in
            ("encoder", "decoder", "quantize", "quant_conv", "post_quant_conv")} | \
        dict(disc=count_params(inv, "disc."))


def qwen_config(q, torch_dtype):
    fields = dict(
        attention_dropout=0.0, bos_token_id=151643, eos_token_id=151645, hidden_act="silu",
        initializer_range=0.02, use_cache=True, use_sliding_window=False,
    )
    for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "intermediate_size", "vocab_size", "rms_norm_eps", "rope_theta",
              "max_position_embeddings", "sliding_window", "max_window_layers",
              "tie_word_embeddings"):
        fields[k] = q[k]
    return hf_config(fields, "qwen2", "Qwen2ForCausalLM", torch_dtype)


def write_qwen(qdir, q, seed, tag):
    torch_dtype = {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}[tag]
    write_json(os.path.join(qdir, "config.json"), qwen_config(q, torch_dtype))
    write_json(os.path.join(qdir, "generation_config.json"), dict(
        bos_token_id=151643, do_sample=True, eos_token_id=[151645, 151643],
        pad_token_id=151643, repetition_penalty=1.05, temperature=0.1, top_k=1, top_p=0.001,
        transformers_version=TRANSFORMERS_VERSION))
    src = next((p for p in QWEN_TOKENIZER_CONFIG_CANDIDATES if os.path.isfile(p)), None)
    if src is None:
        raise SystemExit("qwen2-vl-tokenizer/tokenizer_config.json not found")
    shutil.copyfile(src, os.path.join(qdir, "tokenizer_config.json"))

    inv = qwen_inventory(q, tag)
    # shard in module order the way save_pretrained does: a new file when the next tensor
    # would push the current one past the limit
    if q["shard_limit"] == "after-layer-0":
        limit = sum(st_write.nbytes(t, s) for n, t, s, _ in inv
                    if not n.startswith("model.layers.") or n.startswith("model.layers.0."))
    else:
        limit = q["shard_limit"]
    shards, size = [[]], 0
    for e in inv:
        b = st_write.nbytes(e[1], e[2])
        if shards[-1] and size + b > limit:
            shards.append([])
            size = 0
        shards[-1].append(e)
        size += b
    if len(shards) != 2:
        raise SystemExit(f"Qwen2 sharding gave {len(shards)} files, the release has 2")
    gen = torch.Generator().manual_seed(seed + QWEN_SEED_OFFSET)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        rules = {n: r for n, _, _, r in shard}
        shapes = {n: s for n, _, s, _ in shard}
        total += st_write.write(os.path.join(qdir, fname), [(n, t, s) for n, t, s, _ in shard],
                                lambda n: draw(rules[n], shapes[n], gen),
                                metadata={"format": "pt"})
        weight_map.update({n: fname for n, _, _, _ in shard})
    write_json(os.path.join(qdir, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": weight_map})
    return dict(language_model=count_params(inv, "model."), visual=count_params(inv, "visual."),
                shards=[len(s) for s in shards])


def file_digests(root):
    out = {}
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            if os.path.islink(p) or f == "fixture-info.json":
                continue
            h = hashlib.sha256()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 24), b""):
                    h.update(chunk)
            out[os.path.relpath(p, root)] = dict(bytes=os.path.getsize(p), sha256=h.hexdigest())
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["bf16", "f16", "f32"], default="bf16",
                    help="dtype of the Qwen2 shards (the release is bf16)")
    ap.add_argument("--lean", action="store_true",
                    help="leave out training-only tensors (disc.*, vae.encoder.*, "
                    "vae.quant_conv.*, attn_bias_for_masking); the rest is identical")
    ap.add_argument("--no-qwen", action="store_true",
                    help="do not write the Qwen2 folder (tiny2 shares tiny's)")
    ap.add_argument("--bin-location", default="cpu",
                    help="storage location tag in ema_model.bin, e.g. cuda:0 like a GPU-saved file")
    ap.add_argument("--hashes", action="store_true",
                    help="record sha256 of every file in fixture-info.json (slow for real)")
    args = ap.parse_args(argv)

    t0 = time.time()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cfg = CONFIGS[args.config]
    check_config(cfg)
    out = os.path.abspath(args.out)
    llm_dir = os.path.join(out, HART_DIR, "llm")
    tok_dir = os.path.join(out, HART_DIR, "tokenizer")
    os.makedirs(llm_dir, exist_ok=True)
    os.makedirs(tok_dir, exist_ok=True)

    params = dict(tokenizer=write_tokenizer(tok_dir, cfg, args.seed, args.lean))
    params.update(write_llm(llm_dir, cfg, args.seed, args.bin_location, args.lean))
    if cfg["qwen"] is not None and not args.no_qwen:
        qdir = os.path.join(out, QWEN_DIR)
        os.makedirs(qdir, exist_ok=True)
        tag = {"bf16": "BF16", "f16": "F16", "f32": "F32"}[args.dtype]
        params["qwen2"] = write_qwen(qdir, cfg["qwen"], args.seed, tag)

    llm = cfg["llm"]
    info = dict(
        generator="tests/reference/make_fixtures.py", generator_version=GENERATOR_VERSION,
        config=args.config, seed=args.seed, qwen_dtype=args.dtype, lean=args.lean,
        qwen_written=cfg["qwen"] is not None and not args.no_qwen,
        bin_location=args.bin_location, torch=torch.__version__,
        derived=dict(head_dim=llm["embed_dim"] // llm["num_heads"],
                     downsample=2 ** (len(cfg["tok"]["ch_mult"]) - 1),
                     image_size=llm["patch_nums"][-1] * 2 ** (len(cfg["tok"]["ch_mult"]) - 1)),
        params=params,
        init=("linear/conv weight ~ N(0, (gain/sqrt(fan_in))^2), gain 1 except "
              "head_nm.ada_lin.1 0.1, diffusion adaLN_modulation.1 0.5, "
              "vae.decoder.conv_out 0.5; biases, q_bias, v_bias ~ N(0, 0.05^2); norm weights "
              "~ 1 + N(0, 0.1^2); embeddings ~ N(0, 1); buffers as constructed; "
              "ema = 0.8 main + 0.2 independent draw; disc.* constant"),
    )
    if args.hashes:
        info["files"] = file_digests(out)
    else:
        info["files"] = {os.path.relpath(os.path.join(d, f), out):
                         dict(bytes=os.path.getsize(os.path.join(d, f)))
                         for d, _, fs in sorted(os.walk(out)) for f in sorted(fs)
                         if f != "fixture-info.json" and not os.path.islink(os.path.join(d, f))}
    info["seconds"] = round(time.time() - t0, 2)
    write_json(os.path.join(out, "fixture-info.json"), info)
    print(json.dumps(dict(config=args.config, params=params, seconds=info["seconds"]), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
