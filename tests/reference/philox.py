#!/usr/bin/python3
# gst-hart — the project's random draws (Philox-4x32-10), NumPy version
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Philox-4x32-10 streams and the Exp(1) / normal transforms of docs/random-draws.md.

The C engine implements the same definition; both must agree bit for bit.

  python3 tests/reference/philox.py        # runs the self-test (Random123 known answers)

Stream layout: block b of stream (purpose, index) at frame f has the counter
(b, (purpose << 16) | (index & 0xFFFF), f, 0) and the key (seed & 0xFFFFFFFF, seed >> 32);
word n of the stream is output word n % 4 of block n // 4.
"""

import sys

import numpy as np

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
MASK32 = 0xFFFFFFFF

# purposes (docs/random-draws.md)
PURPOSE_E1 = 1  # categorical draw, Exp(1), index = stage
PURPOSE_E2 = 2  # Gumbel noise, Exp(1), index = stage
PURPOSE_N0 = 3  # diffusion initial noise, normal, index 0
PURPOSE_ZN = 4  # diffusion step noise, normal, index = step n


def philox4x32_10(ctr, key):
    """ctr: uint32 array [N, 4]; key: (k0, k1) ints or uint32 arrays [N].
    Returns the uint32 output blocks [N, 4]."""
    c = [np.asarray(ctr[:, i], dtype=np.uint64) for i in range(4)]
    m32 = np.uint64(MASK32)
    k0 = np.asarray(key[0], dtype=np.uint64) & m32
    k1 = np.asarray(key[1], dtype=np.uint64) & m32
    for r in range(10):
        if r > 0:
            k0 = (k0 + np.uint64(PHILOX_W0)) & m32
            k1 = (k1 + np.uint64(PHILOX_W1)) & m32
        p0 = np.uint64(PHILOX_M0) * c[0]  # 64-bit products, exact (32 x 32 bits)
        p1 = np.uint64(PHILOX_M1) * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & m32
        hi1, lo1 = p1 >> np.uint64(32), p1 & m32
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return np.stack(c, axis=1).astype(np.uint32)


def stream_words(seed, purpose, index, frame, count):
    """The first `count` 32-bit words of one stream, uint32 [count]."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    key = (seed & MASK32, seed >> 32)
    nblocks = (count + 3) // 4
    ctr = np.zeros((nblocks, 4), dtype=np.uint64)
    ctr[:, 0] = np.arange(nblocks, dtype=np.uint64)  # block numbers stay < 2^32 here
    ctr[:, 1] = ((purpose << 16) | (index & 0xFFFF)) & MASK32
    ctr[:, 2] = frame & MASK32
    return philox4x32_10(ctr, key).reshape(-1)[:count]


def uniform_from_words(w):
    """u = ((w >> 8) + 1) * 2^-24 in (0, 1], float64 (exact)."""
    return ((w.astype(np.uint64) >> np.uint64(8)) + np.uint64(1)).astype(np.float64) * (2.0 ** -24)


def exp1(seed, purpose, index, frame, shape):
    """Exp(1) draws: element i = (float)(-log(u(word i))), except u = 1 gives 2^-24
    (PyTorch's eps/2 rule: an Exp(1) draw is never 0), float32 array of `shape`."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = uniform_from_words(stream_words(seed, purpose, index, frame, n))
    e = -np.log(u)
    e[u >= 1.0] = 2.0 ** -24
    return e.astype(np.float32).reshape(shape)


def normal(seed, purpose, index, frame, shape):
    """Standard normals: element i = (float)(sqrt(-2 log u(2i)) * cos(2 pi u(2i+1)))."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = uniform_from_words(stream_words(seed, purpose, index, frame, 2 * n))
    u1, u2 = u[0::2], u[1::2]
    two_pi = 2.0 * 3.141592653589793
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(two_pi * u2)
    return z.astype(np.float32).reshape(shape)


# Random123 known-answer tests for philox4x32_10
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def self_test(verbose=True):
    for ctr, key, want in KNOWN_ANSWERS:
        got = philox4x32_10(np.array([ctr], dtype=np.uint64), key)[0]
        if tuple(int(v) for v in got) != want:
            raise AssertionError(f"philox4x32_10 ctr {ctr} key {key}: got "
                                 f"{[hex(int(v)) for v in got]}, want {[hex(v) for v in want]}")
    # stream layout: word n = word n % 4 of block n // 4, counter (b, stream_id, frame, 0)
    seed = 0x123456789ABCDEF0
    w = stream_words(seed, PURPOSE_E2, 5, 3, 10)
    blk = philox4x32_10(np.array([[2, (2 << 16) | 5, 3, 0]], dtype=np.uint64),
                        (seed & MASK32, seed >> 32))[0]
    if not np.array_equal(w[8:10], blk[0:2]):
        raise AssertionError("stream layout check failed")
    # transforms: extremes of u and a plausibility check of the moments
    if uniform_from_words(np.array([0xFFFFFFFF], dtype=np.uint32))[0] != 1.0:
        raise AssertionError("u(0xffffffff) must be 1")
    if uniform_from_words(np.array([0], dtype=np.uint32))[0] != 2.0 ** -24:
        raise AssertionError("u(0) must be 2^-24")
    e = exp1(42, PURPOSE_E1, 0, 0, (200000,))
    z = normal(42, PURPOSE_N0, 0, 0, (200000,))
    if not (abs(e.mean() - 1) < 0.01 and e.min() >= 0 and abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01):
        raise AssertionError("moments of Exp(1)/normal draws are off")
    if verbose:
        print("philox self-test passed; seed 42 E1 stage 0 first words:",
              [hex(int(v)) for v in stream_words(42, PURPOSE_E1, 0, 0, 4)])
    return True


if __name__ == "__main__":
    self_test()
    sys.exit(0)
