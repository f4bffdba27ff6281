/* gst-hart — counter-based random draws (Philox-4x32-10)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Philox-4x32-10 as defined by Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3" (SC'11), with the Random123 constants.  The transforms to
 * Exp(1) and N(0, 1) are computed in double and rounded once, so that the C
 * engine and the numpy reference agree bit for bit.
 */
#include "philox.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void
hart_philox4x32_10 (const uint32_t ctr[4], const uint32_t key[2],
    uint32_t out[4])
{
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];

  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t) PHILOX_M0 * c0;
    uint64_t p1 = (uint64_t) PHILOX_M1 * c2;
    uint32_t hi0 = (uint32_t) (p0 >> 32), lo0 = (uint32_t) p0;
    uint32_t hi1 = (uint32_t) (p1 >> 32), lo1 = (uint32_t) p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

void
hart_philox_stream_init (HartPhiloxStream * s, uint64_t seed,
    HartDrawPurpose purpose, uint32_t index, uint32_t frame)
{
  s->key[0] = (uint32_t) seed;
  s->key[1] = (uint32_t) (seed >> 32);
  s->stream = ((uint32_t) purpose << 16) | (index & 0xFFFFu);
  s->frame = frame;
}

/* Word n of the stream. Blocks are cached by the callers' loops below. */
static inline void
stream_block (const HartPhiloxStream * s, uint64_t block, uint32_t out[4])
{
  const uint32_t ctr[4] = { (uint32_t) block, s->stream, s->frame,
    (uint32_t) (block >> 32)
  };
  hart_philox4x32_10 (ctr, s->key, out);
}

/* (0, 1]: never 0, so -log(u) is finite. */
static inline double
uniform_open0 (uint32_t w)
{
  return ((double) (w >> 8) + 1.0) * (1.0 / 16777216.0);
}

/* Exp(1) from one word; never 0: u = 1 gives 2^-24, PyTorch's ε/2 rule
 * (docs/random-draws.md) */
static inline float
exponential_from_word (uint32_t w)
{
  return (w >> 8) == 0xFFFFFFu ? 0x1p-24f : (float) (-log (uniform_open0 (w)));
}

void
hart_philox_exponential (const HartPhiloxStream * s, uint64_t first,
    float *out, gsize n)
{
  uint32_t block[4];
  uint64_t cached = G_MAXUINT64;

  for (gsize i = 0; i < n; i++) {
    uint64_t word = first + i;
    if (word / 4 != cached) {
      cached = word / 4;
      stream_block (s, cached, block);
    }
    out[i] = exponential_from_word (block[word % 4]);
  }
}

void
hart_philox_exponential_at (const HartPhiloxStream * s, uint64_t first,
    const int *offsets, gsize n, float *out)
{
  uint32_t block[4];
  uint64_t cached = G_MAXUINT64;

  for (gsize i = 0; i < n; i++) {
    uint64_t word = first + (uint64_t) offsets[i];
    if (word / 4 != cached) {
      cached = word / 4;
      stream_block (s, cached, block);
    }
    out[i] = exponential_from_word (block[word % 4]);
  }
}

void
hart_philox_normal (const HartPhiloxStream * s, uint64_t first, float *out,
    gsize n)
{
  uint32_t block[4];
  uint64_t cached = G_MAXUINT64;

  for (gsize i = 0; i < n; i++) {
    uint64_t w1 = 2 * (first + i), w2 = w1 + 1;
    uint32_t a, b;
    if (w1 / 4 != cached) {
      cached = w1 / 4;
      stream_block (s, cached, block);
    }
    a = block[w1 % 4];
    b = block[w2 % 4];          /* w1 is even: w2 is in the same block */
    double radius = sqrt (-2.0 * log (uniform_open0 (a)));
    out[i] = (float) (radius * cos (2.0 * 3.141592653589793 *
            uniform_open0 (b)));
  }
}
