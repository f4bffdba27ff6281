# gst-hart — streaming safetensors writer for the fixture generator
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Streaming safetensors writer (no `safetensors` package needed).

File layout: u64 little-endian header length N, N bytes of JSON header, raw data.
The header lists "__metadata__" first and then the tensors in data order, compact JSON
(no spaces), padded with spaces to a multiple of 8 bytes so every tensor starts 8-byte
aligned.  The data order is the one the reference Rust library uses: dtype by decreasing
rank of its Dtype enum (I64 before F32 before BF16 ...), then by name.

Tensors are produced one at a time by a callback, so a multi-GB file never has to be
held in memory.
"""

import json
import struct
import sys

import torch

# Rust `safetensors::Dtype` enum order; files sort by decreasing rank.
_DTYPE_RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
               "I32", "U32", "F32", "F64", "I64", "U64"]

TORCH_DTYPE = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}

ELEMENT_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
                "I8": 1, "U8": 1, "BOOL": 1}


def numel(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def nbytes(dtype_tag, shape):
    return numel(shape) * ELEMENT_SIZE[dtype_tag]


def file_order(entries):
    """entries: iterable of (name, dtype_tag, shape) -> the same tuples in data order."""
    return sorted(entries, key=lambda e: (-_DTYPE_RANK.index(e[1]), e[0]))


def tensor_bytes(t, dtype_tag):
    """Raw little-endian bytes of t converted to dtype_tag."""
    t = t.detach().to(TORCH_DTYPE[dtype_tag]).contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write(path, entries, produce, metadata=None):
    """Write a safetensors file.

    entries: list of (name, dtype_tag, shape); produce(name) returns a torch tensor of that
    shape (any dtype; it is converted).  produce is called once per tensor, in data order.
    Returns the number of data bytes (what a HF index counts as total_size).
    """
    if sys.byteorder != "little":
        raise RuntimeError("st_write assumes a little-endian host")
    ordered = file_order(entries)
    header = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, tag, shape in ordered:
        size = nbytes(tag, shape)
        header[name] = {"dtype": tag, "shape": [int(d) for d in shape],
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, tag, shape in ordered:
            t = produce(name)
            if tuple(t.shape) != tuple(shape):
                raise ValueError(f"{name}: produced shape {tuple(t.shape)}, expected {tuple(shape)}")
            raw = tensor_bytes(t, tag)
            if len(raw) != nbytes(tag, shape):
                raise ValueError(f"{name}: {len(raw)} bytes, expected {nbytes(tag, shape)}")
            f.write(raw)
    return offset


def read_header(path):
    """(header dict, data start offset) of a safetensors file; used by self-checks."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)), 8 + n
