#!/usr/bin/env python3
# gst-hart — compare the PNGs of two runs (CPU vs CUDA) pixel by pixel
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   compare-images.py A.png B.png      one pair
#   compare-images.py DIR_A DIR_B      every *.png of DIR_A against DIR_B
#
# Needs numpy and PIL (both on the GPU machine's image and in Debian's
# python3-numpy / python3-pil).  Prints, per image: byte-identical or not,
# max and mean |a - b| over the channel values and the share of pixels that
# differ; then one summary line.  Exit status 0 when every pair was read
# (whatever the differences), 1 otherwise.
import os
import sys

import numpy as np
from PIL import Image


def read_png(path):
    """uint8 [height, width, channels]"""
    with Image.open(path) as im:
        a = np.asarray(im)
    return a if a.ndim == 3 else a[:, :, None]


def compare(path_a, path_b):
    """One line of report; returns (max diff or None, identical bytes)."""
    with open(path_a, "rb") as f:
        bytes_a = f.read()
    with open(path_b, "rb") as f:
        bytes_b = f.read()
    same_file = bytes_a == bytes_b
    pa, pb = read_png(path_a), read_png(path_b)
    (ha, wa, ca), (hb, wb, cb) = pa.shape, pb.shape
    if pa.shape != pb.shape:
        print("  %s: size differs (%dx%dx%d vs %dx%dx%d)"
              % (os.path.basename(path_a), wa, ha, ca, wb, hb, cb))
        return 255, False
    diffs = np.abs(pa.astype(np.int16) - pb.astype(np.int16))
    max_diff = int(diffs.max())
    mean_diff = float(diffs.mean())
    pixels_diff = int(diffs.any(axis=2).sum())
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
        except (OSError, ValueError) as e:
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
