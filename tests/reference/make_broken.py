#!/usr/bin/env python3
# gst-hart — generator of the checkpoint-format fixtures
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes tests/fixtures/formats/ (tiny valid files) and
tests/fixtures/broken/ (one hostile or damaged file per failure mode).

Everything except formats/torch_state.bin is written with the standard
library only (safetensors by hand, torch-style zips with zipfile and
hand-assembled pickles), so any python3 regenerates it.  torch_state.bin is
a real torch.save() file and needs PyTorch: run the script with a python
that has torch (Debian: /usr/bin/python3) to regenerate it; without torch
the committed copy is kept.

The values of every valid tensor are given by the formulas below; the C
tests (tests/unit/test-checkpoint.c) recompute them independently.

    python3 tests/reference/make_broken.py [--fixtures tests/fixtures]
"""

import argparse
import io
import json
import os
import shutil
import struct
import zipfile

# ---------------------------------------------------------------------------
# Known values (mirrored in test-checkpoint.c)

F32_VALUES = [i * 0.5 - 1.25 for i in range(6)]         # "f32"  [2, 3]
F16_VALUES = [(i - 1.5) * 0.25 for i in range(4)]       # "f16"  [4]
BF16_VALUES = [(i - 2) * 0.75 for i in range(4)]        # "bf16" [2, 2]
I64_VALUES = [-3, 7, 1 << 40]                           # "i64"  [3]
BOOL_VALUES = [1, 0, 1, 1]                              # "bool" [4]
SCALAR_VALUE = 42.0                                     # "scalar" []
BIG_VALUES = [float(i) for i in range(12)]              # "big"  [3, 4]; "row" = big[1]


def f16_bytes(values):
    return struct.pack("<%de" % len(values), *values)


def bf16_bytes(values):
    out = b""
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        assert bits & 0xFFFF == 0, "value not exact in bf16"
        out += struct.pack("<H", bits >> 16)
    return out


def f32_bytes(values):
    return struct.pack("<%df" % len(values), *values)


def i64_bytes(values):
    return struct.pack("<%dq" % len(values), *values)


# ---------------------------------------------------------------------------
# safetensors writing


def safetensors_bytes(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype, shape, raw bytes), laid out in order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header_bytes(json.dumps(header), pad) + data


def header_bytes(text, pad=True):
    raw = text.encode()
    if pad:  # the reference writer pads the header so data starts 8-aligned
        raw += b" " * ((8 - (8 + len(raw)) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw


def dtypes_tensors():
    # bool first so that the next tensors start at odd alignments: "i64"
    # sits at data offset 12, which is not 8-aligned (the reader must cope).
    return [
        ("bool", "BOOL", [4], bytes(BOOL_VALUES)),
        ("f16", "F16", [4], f16_bytes(F16_VALUES)),
        ("i64", "I64", [3], i64_bytes(I64_VALUES)),
        ("f32", "F32", [2, 3], f32_bytes(F32_VALUES)),
        ("bf16", "BF16", [2, 2], bf16_bytes(BF16_VALUES)),
        ("scalar", "F32", [], f32_bytes([SCALAR_VALUE])),
        ("empty", "F32", [0, 3], b""),
    ]


# ---------------------------------------------------------------------------
# torch-style pickles, assembled opcode by opcode (protocol 2, as torch.save)


def p_str(s):
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def p_int(i):
    if 0 <= i < 256:
        return b"K" + bytes([i])
    if 0 <= i < 65536:
        return b"M" + struct.pack("<H", i)
    if -(1 << 31) <= i < (1 << 31):
        return b"J" + struct.pack("<i", i)
    raw = i.to_bytes(8, "little", signed=True)
    return b"\x8a" + bytes([8]) + raw


def p_tuple(items):
    return b"(" + b"".join(items) + b"t"


def p_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


ORDERED_DICT = p_global("collections", "OrderedDict") + b")R"


def p_tensor(storage_class, key, numel, offset, size, stride, parameter=False):
    pid = p_tuple([p_str("storage"), p_global("torch", storage_class),
                   p_str(key), p_str("cpu"), p_int(numel)])
    args = p_tuple([pid + b"Q", p_int(offset),
                    p_tuple([p_int(s) for s in size]),
                    p_tuple([p_int(s) for s in stride]),
                    b"\x89", ORDERED_DICT])
    tensor = p_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"
    if parameter:
        tensor = (p_global("torch._utils", "_rebuild_parameter") +
                  p_tuple([tensor, b"\x88", ORDERED_DICT]) + b"R")
    return tensor


def p_state_dict(items, metadata_build=True):
    """items: list of (name, pickled value)."""
    out = b"\x80\x02" + ORDERED_DICT + b"q\x01("
    for name, value in items:
        out += p_str(name) + value
    out += b"u"
    if metadata_build:  # what state_dict()'s _metadata attribute pickles to
        out += (b"}" + p_str("_metadata") + ORDERED_DICT + p_str("") +
                b"}" + p_str("version") + p_int(1) + b"sss" + b"b")
    return out + b"."


def torch_zip(prefix, pkl, storages, byteorder=b"little"):
    buf = io.BytesIO()

    def entry(z, name, data):
        # A fixed date keeps the output byte-identical from run to run.
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        z.writestr(info, data, compress_type=zipfile.ZIP_STORED)

    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        entry(z, prefix + "/data.pkl", pkl)
        if byteorder is not None:
            entry(z, prefix + "/byteorder", byteorder)
        for key, raw in storages.items():
            entry(z, prefix + "/data/" + key, raw)
        entry(z, prefix + "/version", b"3\n")
    return buf.getvalue()


def handmade_state():
    """A valid hand-assembled .bin: the base every broken .bin mutates."""
    items = [
        ("f32", p_tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1],
                         parameter=True)),
        ("i64", p_tensor("LongStorage", "1", 3, 0, [3], [1])),
        ("row", p_tensor("FloatStorage", "2", 12, 4, [4], [1])),
    ]
    storages = {"0": f32_bytes(F32_VALUES), "1": i64_bytes(I64_VALUES),
                "2": f32_bytes(BIG_VALUES)}
    return items, storages


# ---------------------------------------------------------------------------


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_formats(root):
    fmt = os.path.join(root, "formats")
    write(os.path.join(fmt, "dtypes.safetensors"),
          safetensors_bytes(dtypes_tensors(), metadata={"format": "pt"}))

    shard1 = safetensors_bytes([("a.weight", "F32", [2, 2],
                                 f32_bytes([1, 2, 3, 4]))])
    shard2 = safetensors_bytes([
        ("b.bias", "F32", [3], f32_bytes([5, 6, 7])),
        ("b.weight", "BF16", [1, 3], bf16_bytes([0.5, -1.0, 2.0])),
    ])
    sharded = os.path.join(fmt, "sharded")
    write(os.path.join(sharded, "model-00001-of-00002.safetensors"), shard1)
    write(os.path.join(sharded, "model-00002-of-00002.safetensors"), shard2)
    index = {"metadata": {"total_size": 16 + 12 + 6},
             "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                            "b.bias": "model-00002-of-00002.safetensors",
                            "b.weight": "model-00002-of-00002.safetensors"}}
    write(os.path.join(sharded, "model.safetensors.index.json"),
          json.dumps(index, indent=2).encode())

    items, storages = handmade_state()
    write(os.path.join(fmt, "handmade.bin"),
          torch_zip("handmade", p_state_dict(items), storages))

    try:
        import torch
    except ImportError:
        print("torch not available: keeping formats/torch_state.bin")
        return

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.f32 = torch.nn.Parameter(
                torch.tensor(F32_VALUES, dtype=torch.float32).reshape(2, 3))
            self.register_buffer("f16", torch.tensor(F16_VALUES,
                                                     dtype=torch.float16))
            self.register_buffer("bf16", torch.tensor(
                BF16_VALUES, dtype=torch.bfloat16).reshape(2, 2))
            self.register_buffer("i64", torch.tensor(I64_VALUES,
                                                     dtype=torch.int64))
            self.register_buffer("bool", torch.tensor(BOOL_VALUES,
                                                      dtype=torch.bool))
            self.register_buffer("scalar", torch.tensor(SCALAR_VALUE))
            big = torch.tensor(BIG_VALUES).reshape(3, 4)
            self.register_buffer("big", big)
            # A view: shares big's storage at element offset 4.
            self.register_buffer("row", big[1])
            self.sub = torch.nn.Linear(2, 2)
            with torch.no_grad():
                self.sub.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
                self.sub.bias.copy_(torch.tensor([0.5, -0.5]))

    torch.save(Tiny().state_dict(), os.path.join(fmt, "torch_state.bin"))


def make_broken(root):
    out = os.path.join(root, "broken")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)

    def put(name, data):
        write(os.path.join(out, name), data)

    valid = safetensors_bytes(dtypes_tensors())
    header_len = struct.unpack("<Q", valid[:8])[0]

    def one(entry, data=b"\0" * 64, name="w"):
        return header_bytes(json.dumps({name: entry})) + data

    # --- safetensors ---
    put("st-empty.safetensors", b"")
    put("st-short.safetensors", b"\x10\x00\x00")
    put("st-header-cut.safetensors", valid[:8 + header_len // 2])
    put("st-data-cut.safetensors", valid[:len(valid) - 10])
    put("st-header-len-too-big.safetensors",
        struct.pack("<Q", 4096) + b'{"w": {}}')
    put("st-header-len-absurd.safetensors",
        struct.pack("<Q", 1 << 63) + b"{}")
    put("st-bad-json.safetensors", header_bytes('{"w": {"dtype": "F32", '))
    put("st-json-array.safetensors", header_bytes("[1, 2, 3]"))
    put("st-entry-not-object.safetensors", header_bytes('{"w": 3}'))
    put("st-unknown-dtype.safetensors",
        one({"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}))
    put("st-missing-dtype.safetensors",
        one({"shape": [4], "data_offsets": [0, 16]}))
    put("st-shape-not-array.safetensors",
        one({"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}))
    put("st-shape-float.safetensors",
        one({"dtype": "F32", "shape": [4.5], "data_offsets": [0, 16]}))
    put("st-size-mismatch.safetensors",
        one({"dtype": "F32", "shape": [4096, 32], "data_offsets": [0, 100]},
            data=b"\0" * 100, name="head.weight"))
    put("st-offsets-out-of-range.safetensors",
        one({"dtype": "F32", "shape": [32], "data_offsets": [0, 128]}))
    put("st-offsets-reversed.safetensors",
        one({"dtype": "F32", "shape": [4], "data_offsets": [32, 16]}))
    put("st-offsets-negative.safetensors",
        one({"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]}))
    put("st-offsets-short.safetensors",
        one({"dtype": "F32", "shape": [4], "data_offsets": [0]}))
    put("st-overlap.safetensors", header_bytes(json.dumps({
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
    })) + b"\0" * 32)
    put("st-shape-overflow.safetensors",
        one({"dtype": "F32", "shape": [1 << 40, 1 << 40],
             "data_offsets": [0, 16]}))
    put("st-negative-dim.safetensors",
        one({"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}))
    put("st-too-many-dims.safetensors",
        one({"dtype": "F32", "shape": [1] * 9, "data_offsets": [0, 4]}))
    put("st-duplicate-key.safetensors", header_bytes(
        '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
        '"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}')
        + b"\0" * 8)
    put("st-metadata-not-object.safetensors",
        header_bytes('{"__metadata__": [1]}'))

    # --- sharded indexes (folders; shards beside the index) ---
    good_shard = safetensors_bytes([("a", "F32", [2], f32_bytes([1, 2]))])
    other_shard = safetensors_bytes([("b", "F32", [1], f32_bytes([3]))])

    def sharded(folder, weight_map, shards):
        d = os.path.join(out, folder)
        for name, data in shards.items():
            write(os.path.join(d, name), data)
        write(os.path.join(d, "model.safetensors.index.json"),
              json.dumps({"weight_map": weight_map}).encode())

    sharded("sharded-missing-shard", {"a": "s1.safetensors",
                                      "b": "s2.safetensors"},
            {"s1.safetensors": good_shard})
    sharded("sharded-dotdot", {"a": "../s1.safetensors"},
            {"s1.safetensors": good_shard})
    sharded("sharded-subfolder", {"a": "sub/s1.safetensors"},
            {"s1.safetensors": good_shard})
    sharded("sharded-absent-tensor", {"a": "s1.safetensors",
                                      "ghost": "s1.safetensors"},
            {"s1.safetensors": good_shard})
    # "b" is listed in s1 but lives in s2 (loaded for "c").
    sharded("sharded-wrong-shard", {"a": "s1.safetensors",
                                    "b": "s1.safetensors",
                                    "c": "s2.safetensors"},
            {"s1.safetensors": good_shard,
             "s2.safetensors": safetensors_bytes([
                 ("b", "F32", [1], f32_bytes([3])),
                 ("c", "F32", [1], f32_bytes([4]))])})
    sharded("sharded-duplicate", {"a": "s1.safetensors",
                                  "x": "s2.safetensors"},
            {"s1.safetensors": good_shard,
             "s2.safetensors": safetensors_bytes([
                 ("a", "F32", [2], f32_bytes([1, 2])),
                 ("x", "F32", [1], f32_bytes([0]))])})
    sharded("sharded-bad-shard", {"a": "s1.safetensors"},
            {"s1.safetensors": header_bytes("{oops")})
    sharded("sharded-no-weight-map", None, {})
    put("index-bad-json.safetensors.index.json", b'{"weight_map": ')
    put("index-not-string.safetensors.index.json",
        json.dumps({"weight_map": {"a": 7}}).encode())

    # --- PyTorch zips ---
    items, storages = handmade_state()

    def bin_with(name, pkl, stor=None, **kw):
        put(name, torch_zip("archive", pkl, storages if stor is None else stor,
                            **kw))

    evil_global = (b"\x80\x02" + p_global("os", "system") +
                   p_tuple([p_str("echo pwned")]) + b"R.")
    bin_with("bin-os-system.bin", evil_global)
    evil_stack_global = (b"\x80\x04" + b"\x8c\x08builtins" + b"\x8c\x04eval" +
                         b"\x93" + b"\x8c\x0a1 + 1" + b"\x85R.")
    bin_with("bin-eval-stack-global.bin", evil_stack_global)
    # The forbidden global hidden as a state-dict value, after valid entries.
    bin_with("bin-popen-in-dict.bin", p_state_dict(items + [
        ("evil", p_global("subprocess", "Popen") +
         p_tuple([p_str("true")]) + b"R")]))
    bin_with("bin-posix-system.bin", b"\x80\x02" + p_global("posix", "system")
             + b".")
    bin_with("bin-inst-opcode.bin", b"\x80\x02(" + b"ios\nsystem\n.")
    bin_with("bin-unknown-opcode.bin",
             b"\x80\x02" + ORDERED_DICT + b"\xff.")
    full = p_state_dict(items)
    bin_with("bin-truncated-pickle.bin", full[:len(full) // 2])
    bin_with("bin-no-stop.bin", full[:-1])
    bin_with("bin-bad-memo.bin", b"\x80\x02h\x05.")
    bin_with("bin-top-is-list.bin", b"\x80\x02]" + p_int(1) + b"a.")
    bin_with("bin-non-tensor-value.bin",
             p_state_dict(items + [("epoch", p_int(3))]))
    small = dict(storages)
    small["2"] = f32_bytes(BIG_VALUES[:6])  # "row" needs elements [4, 8)
    bin_with("bin-storage-too-small.bin", p_state_dict(items), small)
    # Shapes that claim absurd sizes: refused from the header, before any
    # allocation (4 TiB against a 24-byte storage; a 64-bit overflow).
    bin_with("bin-shape-absurd.bin", p_state_dict([
        ("huge", p_tensor("FloatStorage", "2", 6, 0, [1 << 20, 1 << 20],
                          [1 << 20, 1]))]))
    bin_with("bin-shape-overflow.bin", p_state_dict([
        ("huge", p_tensor("FloatStorage", "2", 6, 0, [1 << 40, 1 << 40],
                          [1 << 40, 1]))]))
    bin_with("bin-missing-storage.bin", p_state_dict(items + [
        ("ghost", p_tensor("FloatStorage", "7", 4, 0, [4], [1]))]))
    bin_with("bin-noncontiguous.bin", p_state_dict([
        ("t", p_tensor("FloatStorage", "0", 6, 0, [3, 2], [1, 3]))]))
    bin_with("bin-bad-storage-key.bin", p_state_dict([
        ("t", p_tensor("FloatStorage", "../0", 6, 0, [6], [1]))]))
    bin_with("bin-big-endian.bin", p_state_dict(items), byteorder=b"big")
    put("bin-no-data-pkl.bin", torch_zip("archive", b"", storages)
        .replace(b"archive/data.pkl", b"archive/info.pkl"))
    # torch.save before 1.6: a bare pickle, magic number first.
    put("bin-legacy-format.bin", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
        + p_int(1001) + b".")
    good_bin = torch_zip("archive", p_state_dict(items), storages)
    put("bin-truncated-zip.bin", good_bin[:len(good_bin) * 2 // 3])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures",
                        default=os.path.join(here, "..", "fixtures"))
    args = parser.parse_args()
    make_formats(args.fixtures)
    make_broken(args.fixtures)


if __name__ == "__main__":
    main()
