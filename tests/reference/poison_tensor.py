#!/usr/bin/env python3
# gst-hart — writes a copy of a safetensors file with one non-finite value
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Copies a safetensors file, setting element INDEX (flat, row-major) of
tensor NAME to VALUE (nan, inf, -inf or any float).  A BOOL or integer
tensor becomes F32 first, the way a hand-made context file may store its
mask; F32, F16 and BF16 tensors keep their dtype.  Standard library only,
so the error catalogue's reproducers and the tests can run it anywhere.

    poison_tensor.py IN OUT NAME INDEX VALUE
"""

import json
import struct
import sys

FORMATS = {"BOOL": "?", "U8": "B", "I8": "b", "I16": "h", "I32": "i", "I64": "q",
           "F32": "f", "F64": "d", "F16": "e"}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None)
    tensors = []
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        start, end = info["data_offsets"]
        tensors.append([name, info["dtype"], info["shape"], data[start:end]])
    return meta, tensors


def poison(tensor, index, value):
    name, dtype, shape, raw = tensor
    if dtype == "BF16":
        bits = struct.unpack("<I", struct.pack("<f", value))[0] >> 16
        tensor[3] = raw[:2 * index] + struct.pack("<H", bits) + raw[2 * index + 2:]
        return
    fmt = FORMATS[dtype]
    values = list(struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt), raw))
    if dtype not in ("F32", "F64", "F16"):
        values = [float(v) for v in values]
        dtype = tensor[1] = "F32"
        fmt = "f"
    values[index] = value
    tensor[3] = struct.pack("<%d%s" % (len(values), fmt), *values)


def write(path, meta, tensors):
    header = {} if meta is None else {"__metadata__": meta}
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, dst, name, index, value = sys.argv[1:]
    meta, tensors = read(src)
    matches = [t for t in tensors if t[0] == name]
    if not matches:
        sys.exit("%s: no tensor \"%s\"" % (src, name))
    poison(matches[0], int(index), float(value))
    write(dst, meta, tensors)


if __name__ == "__main__":
    main()
