/* gst-hart — the whole-row sampler, a reference for tests and benchmarks
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * hart/sampler.c as it was written before it sampled only the codes top-k
 * leaves: every step over every code of the row, every draw of the row
 * computed.  tests/unit/test-sampler.c holds the engine's sampler to it
 * bit for bit; tests/bench/bench-sampler.c times both in one run.  Static
 * functions (one copy per program that includes it); no top-p.
 */
#ifndef HART_TESTS_SAMPLER_WHOLE_ROW_H
#define HART_TESTS_SAMPLER_WHOLE_ROW_H

#include "hart/philox.h"
#include "hart/sampler.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WV 4096                 /* HART's vocabulary */
#define WCV 32                  /* and latent channels */

static void
whole_row_softmax (float *x, int n)
{
  float mx = -INFINITY, sum = 0.0f;
  for (int v = 0; v < n; v++)
    mx = MAX (mx, x[v]);
  for (int v = 0; v < n; v++) {
    x[v] = expf (x[v] - mx);
    sum += x[v];
  }
  for (int v = 0; v < n; v++)
    x[v] /= sum;
}

static int
compare_desc (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x < y) - (x > y);
}

/* frames: each image's frame (hart_draws_set_item_frames: image b's rows
 * draw from its own frame's stream, from element 0), or NULL: one frame 0,
 * the rows one after the other */
static void
whole_row_reference (float *logits, int batch, int l,
    const HartStageSampling * s, guint64 seed, const guint32 * frames,
    const float *cb, int32_t * idx, float *h)
{
  const gsize half = (gsize) batch * l * WV;
  const float a = (float) (1.0 + s->cfg_t), bt = (float) s->cfg_t;
  const float scale = (float) (1.0 + s->ratio);
  const float inv_tau = 1.0f / (float) MAX (0.27 * (1.0 - s->ratio * 0.95),
      0.005);
  float *sorted = g_new (float, WV), *p = g_new (float, WV);
  float *e = g_new (float, WV);
  HartPhiloxStream ps;

  for (gsize i = 0; i < half; i++)
    logits[i] = a * logits[i] - bt * logits[half + i];
  for (int r = 0; r < batch * l; r++) {
    float *row = logits + (gsize) r * WV;
    int best = 0;
    float best_v = -1.0f;

    memcpy (sorted, row, sizeof (float) * WV);
    qsort (sorted, WV, sizeof (float), compare_desc);
    for (int v = 0; v < WV; v++)
      if (row[v] < sorted[s->top_k - 1])
        row[v] = -INFINITY;
    memcpy (p, row, sizeof (float) * WV);
    whole_row_softmax (p, WV);
    hart_philox_stream_init (&ps, seed, HART_DRAW_E1, s->stage,
        frames ? frames[r / l] : 0);
    hart_philox_exponential (&ps, (guint64) (frames ? r % l : r) * WV, e, WV);
    for (int v = 0; v < WV; v++)
      if (p[v] / e[v] > best_v) {
        best_v = p[v] / e[v];
        best = v;
      }
    idx[r] = best;
    if (!s->smooth) {
      memcpy (h + r * WCV, cb + best * WCV, sizeof (float) * WCV);
      continue;
    }
    hart_philox_stream_init (&ps, seed, HART_DRAW_E2, s->stage,
        frames ? frames[r / l] : 0);
    hart_philox_exponential (&ps, (guint64) (frames ? r % l : r) * WV, e, WV);
    for (int v = 0; v < WV; v++)
      p[v] = (row[v] * scale + (-logf (e[v]))) * inv_tau;
    whole_row_softmax (p, WV);
    for (int c = 0; c < WCV; c++)
      h[r * WCV + c] = 0.0f;
    for (int v = 0; v < WV; v++) {
      if (p[v] == 0.0f)
        continue;
      for (int c = 0; c < WCV; c++)
        h[r * WCV + c] += p[v] * cb[v * WCV + c];
    }
  }
  g_free (sorted);
  g_free (p);
  g_free (e);
}

#endif /* HART_TESTS_SAMPLER_WHOLE_ROW_H */
