#!/usr/bin/python3
# gst-hart — golden outputs for the backend op tests (tests/ops/op-cases.c)
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with Debian's python3 (it has torch):
#   /usr/bin/python3 tests/reference/make_op_goldens.py tests/fixtures/ops/goldens.safetensors
#
# Writes one safetensors file by hand (8-byte little-endian header length,
# JSON header {name: {dtype, shape, data_offsets}}, raw little-endian data),
# so no safetensors package is needed.  Names are "<case>.<role>".
# Sequence tensors are stored in the backend layout [batch, len, heads, dim].

import json
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
tensors = {}


def put(name, t):
    tensors[name] = t.detach().contiguous()


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


# ---- resizing (docs/algorithm.md §8.2–§8.3) ----
for tag, (ih, iw, oh, ow) in {
    "bicubic_1to8": (1, 1, 8, 8),
    "bicubic_3to16": (3, 3, 16, 16),
    "bicubic_12to16": (12, 12, 16, 16),
    "bicubic_5x7to9x13": (5, 7, 9, 13),
}.items():
    x = randn(1, 2, ih, iw)
    put(tag + ".x", x)
    put(tag + ".y", F.interpolate(x, size=(oh, ow), mode="bicubic",
                                  align_corners=False))

x16 = randn(1, 2, 16, 16)
for o in (3, 5, 12, 16):
    put("area_16to%d.x" % o, x16)
    put("area_16to%d.y" % o, F.adaptive_avg_pool2d(x16, (o, o)))

# ---- normalisation ----
x = randn(2, 12, 5, 7) * 3 + 1
w = randn(12)
b = randn(12)
put("group_norm.x", x)
put("group_norm.w", w)
put("group_norm.b", b)
put("group_norm.y", F.group_norm(x, 4, w, b, eps=1e-6))

x = randn(7, 33) * 2 + 0.5
w = randn(33)
b = randn(33)
put("layer_norm.x", x)
put("layer_norm.w", w)
put("layer_norm.b", b)
put("layer_norm.y", F.layer_norm(x, (33,), w, b, eps=1e-5))
put("layer_norm.y_plain", F.layer_norm(x, (33,), None, None, eps=1e-6))

# ---- activations ----
x = torch.linspace(-12, 12, 257, dtype=torch.float32) + randn(257) * 0.1
put("act.x", x)
put("act.gelu", F.gelu(x))
put("act.gelu_tanh", F.gelu(x, approximate="tanh"))
put("act.silu", F.silu(x))

# ---- convolution ----
x = randn(2, 5, 9, 11)
for tag, k in (("conv3", 3), ("conv5", 5), ("conv1", 1)):
    w = randn(7, 5, k, k) * 0.3
    b = randn(7)
    put(tag + ".x", x)
    put(tag + ".w", w)
    put(tag + ".b", b)
    put(tag + ".y", F.conv2d(x, w, b, padding=(k - 1) // 2))

# ---- attention ----
# torch 1.13 has no scaled_dot_product_attention: the reference is the
# textbook formula in float64, rounded once to float32.
B, HQ, HKV, LQ, LK, D = 2, 4, 2, 37, 300, 8
q = randn(B, LQ, HQ, D)
k = randn(B, LK, HKV, D)
v = randn(B, LK, HKV, D)
scale = 0.3
mask = (torch.rand(B, LK) > 0.3).to(torch.uint8)
mask[1, :] = 0
mask[1, 5] = 1            # batch 1 sees a single key
put("sdpa.q", q)
put("sdpa.k", k)
put("sdpa.v", v)
put("sdpa.mask", mask)


def sdpa(q, k, v, add_mask):
    qh = q.double().permute(0, 2, 1, 3)                  # [B, HQ, LQ, D]
    rep = HQ // HKV
    kh = k.double().permute(0, 2, 1, 3).repeat_interleave(rep, dim=1)
    vh = v.double().permute(0, 2, 1, 3).repeat_interleave(rep, dim=1)
    s = qh @ kh.transpose(-1, -2) * scale + add_mask
    p = torch.softmax(s, dim=-1)
    return (p @ vh).permute(0, 2, 1, 3).float()         # [B, LQ, HQ, D]


zero = torch.zeros(1, dtype=torch.float64)
put("sdpa.out", sdpa(q, k, v, zero))
key_add = torch.where(mask.bool(), 0.0, float("-inf")).double()[:, None, None, :]
put("sdpa.out_masked", sdpa(q, k, v, key_add))
offset = LK - LQ          # queries are the last LQ positions of the sequence
i = torch.arange(LQ)[:, None]
j = torch.arange(LK)[None, :]
causal_add = torch.where(j <= i + offset, 0.0, float("-inf")).double()
put("sdpa.out_causal", sdpa(q, k, v, causal_add))

# ---- write ----
DTYPES = {torch.float32: "F32", torch.uint8: "U8"}
header = {}
blobs = []
offset = 0
for name in sorted(tensors):
    t = tensors[name]
    data = t.numpy().tobytes()
    header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                    "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header["__metadata__"] = {"generator": "tests/reference/make_op_goldens.py",
                          "torch": torch.__version__}
hjson = json.dumps(header, separators=(",", ":")).encode()
hjson += b" " * (-len(hjson) % 8)
out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/ops/goldens.safetensors"
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(hjson)))
    f.write(hjson)
    for blob in blobs:
        f.write(blob)
print("wrote %s: %d tensors, %d bytes" % (out, len(tensors), 8 + len(hjson) + offset))
