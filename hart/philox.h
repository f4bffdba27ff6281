/* gst-hart — counter-based random draws (Philox-4x32-10)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every random number the engine uses is a pure function of
 * (seed, purpose, index, frame, element), so the same seed gives the same
 * draws on every backend, in any order, and frames can be generated out of
 * order.  The definition (docs/random-draws.md) is shared with the PyTorch
 * reference (tests/reference/philox.py), bit for bit.
 */
#ifndef HART_PHILOX_H
#define HART_PHILOX_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum
{
  HART_DRAW_E1 = 1,             /* categorical draw: Exp(1), index = stage */
  HART_DRAW_E2 = 2,             /* Gumbel noise: Exp(1), index = stage */
  HART_DRAW_N0 = 3,             /* diffusion initial noise: N(0, 1) */
  HART_DRAW_ZN = 4,             /* diffusion step noise: N(0, 1), index = step */
} HartDrawPurpose;

typedef struct
{
  uint32_t key[2];
  uint32_t stream;              /* (purpose << 16) | index */
  uint32_t frame;
} HartPhiloxStream;

/* One Philox-4x32-10 block: out = philox(ctr, key). */
void hart_philox4x32_10 (const uint32_t ctr[4], const uint32_t key[2],
    uint32_t out[4]);

void hart_philox_stream_init (HartPhiloxStream * s, uint64_t seed,
    HartDrawPurpose purpose, uint32_t index, uint32_t frame);

/* Elements [first, first + n) of the stream, as Exp(1) or N(0, 1) floats. */
void hart_philox_exponential (const HartPhiloxStream * s, uint64_t first,
    float *out, gsize n);
void hart_philox_normal (const HartPhiloxStream * s, uint64_t first,
    float *out, gsize n);
/* Elements first + offsets[i] (offsets ascending) as Exp(1): element for
 * element what hart_philox_exponential gives, for the few entries of a row
 * a caller reads (the sampler's surviving codes). */
void hart_philox_exponential_at (const HartPhiloxStream * s, uint64_t first,
    const int *offsets, gsize n, float *out);

G_END_DECLS
#endif /* HART_PHILOX_H */
