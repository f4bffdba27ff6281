# gst-hart — safetensors reading (and a dict front end to st_write) for the reference
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read safetensors files without the `safetensors` package; write dicts of tensors.

Format: u64 little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian data (offsets relative to the end of the header).
"""

import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_write  # noqa: E402  (the fixture generator's writer, reused)

_NUMPY = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.int16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_,
}
_TAG = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
        torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.int16: "I16",
        torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}


def read_header(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path}: too short for a safetensors file")
        (n,) = struct.unpack("<Q", raw)
        if n > 100 * 1024 * 1024:
            raise ValueError(f"{path}: header length {n} is implausible")
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load(path, names=None, with_metadata=False):
    """dict name -> torch tensor (file order); names restricts what is read."""
    header, base = read_header(path)
    meta = header.pop("__metadata__", None) or {}
    out = {}
    with open(path, "rb") as f:
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            if names is not None and name not in names:
                continue
            tag = info["dtype"]
            if tag not in _NUMPY:
                raise ValueError(f"{path}: tensor {name}: dtype {tag} not supported")
            begin, end = info["data_offsets"]
            shape = [int(d) for d in info["shape"]]
            f.seek(base + begin)
            buf = f.read(end - begin)
            if len(buf) != end - begin:
                raise ValueError(f"{path}: tensor {name}: file truncated")
            arr = np.frombuffer(buf, dtype=np.dtype(_NUMPY[tag]).newbyteorder("<")).copy()
            if arr.size != int(np.prod(shape)):
                raise ValueError(f"{path}: tensor {name}: {arr.size} elements for shape {shape}")
            t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="))).reshape(shape)
            if tag == "BF16":
                t = t.view(torch.bfloat16)
            out[name] = t
    if names is not None:
        missing = set(names) - set(out)
        if missing:
            raise KeyError(f"{path}: missing tensors {sorted(missing)}")
    return (out, meta) if with_metadata else out


def save(path, tensors, metadata=None):
    """Write dict name -> tensor (dtype kept) with st_write."""
    entries = []
    for name, t in tensors.items():
        if t.dtype not in _TAG:
            raise TypeError(f"{name}: dtype {t.dtype} not supported")
        entries.append((name, _TAG[t.dtype], tuple(t.shape)))
    meta = None if metadata is None else {str(k): str(v) for k, v in metadata.items()}
    return st_write.write(path, entries, lambda name: tensors[name], metadata=meta)
