#!/usr/bin/env python3
# gst-hart — compare the PNGs of two runs (CPU vs CUDA) pixel by pixel
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   compare-images.py A.png B.png      one pair
#   compare-images.py DIR_A DIR_B      every *.png of DIR_A against DIR_B
#
# Python's standard library only (zlib), so it runs wherever python3 does:
# the GPU machine of tests/device/run-cuda-checks.sh has no guarantee of
# numpy or PIL in the interpreter on PATH.  Reads what tools/png-write.c
# writes (8-bit grey, RGB or RGBA, not interlaced).  Prints, per image:
# byte-identical or not, max and mean |a - b| over the channel values and
# the share of pixels that differ; then one summary line.  Exit status 0
# when every pair was read (whatever the differences), 1 otherwise.
import os
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 6: 4}


def read_png(path):
    """(width, height, channels, bytes of the unfiltered rows)"""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace != 0:
        raise ValueError("unsupported PNG (depth %d, colour type %d, "
                         "interlace %d)" % (depth, colour, interlace))
    bpp = CHANNELS[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if filt == 1:
                pred = a
            elif filt == 2:
                pred = b
            elif filt == 3:
                pred = (a + b) // 2
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                pred = 0
            line[x] = (line[x] + pred) & 0xFF
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return width, height, bpp, bytes(out)


def compare(path_a, path_b):
    """One line of report; returns (max diff or None, identical bytes)."""
    with open(path_a, "rb") as f:
        bytes_a = f.read()
    with open(path_b, "rb") as f:
        bytes_b = f.read()
    same_file = bytes_a == bytes_b
    wa, ha, ca, pa = read_png(path_a)
    wb, hb, cb, pb = read_png(path_b)
    if (wa, ha, ca) != (wb, hb, cb):
        print("  %s: size differs (%dx%dx%d vs %dx%dx%d)"
              % (os.path.basename(path_a), wa, ha, ca, wb, hb, cb))
        return 255, False
    diffs = [abs(x - y) for x, y in zip(pa, pb)]
    max_diff = max(diffs) if diffs else 0
    mean_diff = sum(diffs) / len(diffs) if diffs else 0.0
    pixels_diff = sum(1 for i in range(0, len(diffs), ca)
                      if any(diffs[i:i + ca]))
    print("  %-28s %dx%d  %s  max|d| %3d  mean|d| %7.3f  pixels differing "
          "%5.1f %%" % (os.path.basename(path_a), wa, ha,
                        "identical" if same_file else "differ   ",
                        max_diff, mean_diff, 100.0 * pixels_diff / (wa * ha)))
    return max_diff, same_file


def main(argv):
    if len(argv) != 3:
        print(__doc__ or "usage: compare-images.py A B", file=sys.stderr)
        return 1
    a, b = argv[1], argv[2]
    if os.path.isdir(a):
        names = sorted(n for n in os.listdir(a) if n.endswith(".png"))
        pairs = [(os.path.join(a, n), os.path.join(b, n)) for n in names]
    else:
        pairs = [(a, b)]
    n_read = n_identical = 0
    worst = 0
    failed = False
    for pa, pb in pairs:
        try:
            max_diff, same = compare(pa, pb)
        except (OSError, ValueError, zlib.error) as e:
            print("  %s: cannot compare: %s" % (os.path.basename(pa), e))
            failed = True
            continue
        n_read += 1
        n_identical += same
        worst = max(worst, max_diff)
    print("compare-images: %d pair(s) compared, %d byte-identical, "
          "max|d| over all %d%s" % (n_read, n_identical, worst,
                                    ", SOME UNREADABLE" if failed else ""))
    return 1 if failed or n_read == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
