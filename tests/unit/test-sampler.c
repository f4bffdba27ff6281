/* gst-hart — tests of one stage's sampling (docs/algorithm.md §6.3, G8 of §13)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart/sampler.h"
#include "hart/error.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#define V 16
#define CV 3

static float codebook[V * CV];

static void
init_codebook (void)
{
  for (int i = 0; i < V * CV; i++)
    codebook[i] = (float) (i % 7) - 3.0f + 0.25f * (float) (i / 7);
}

/* Plain path: CFG mix, top-k keeping ties, exponential race, h = E[idx]. */
static void
test_plain (void)
{
  /* [2B = 2, l = 1, V]: conditional row then unconditional row */
  float logits[2 * V];
  float e1[V];
  float h[CV];
  int32_t idx;
  HartStageSampling s = {.stage = 3,.cfg_t = 0.5,.ratio = 0.25,.top_k = 4,
    .smooth = FALSE
  };
  HartDraws *draws = hart_draws_new (11, 0);
  HartPhiloxStream ps;
  GError *error = NULL;
  float mixed[V], p[V], best = -1, sum = 0, thr;
  int expect = -1;

  for (int v = 0; v < V; v++) {
    logits[v] = (float) ((v * 5) % V) * 0.3f;   /* conditional */
    logits[V + v] = (float) v *0.1f;    /* unconditional */
  }
  logits[2] = logits[9];        /* a tie */
  logits[V + 2] = logits[V + 9];
  for (int v = 0; v < V; v++)
    mixed[v] = 1.5f * logits[v] - 0.5f * logits[V + v];
  /* 4th largest of mixed; everything ≥ it survives (ties kept) */
  {
    float sorted[V];
    memcpy (sorted, mixed, sizeof sorted);
    for (int i = 0; i < V; i++)
      for (int j = i + 1; j < V; j++)
        if (sorted[j] > sorted[i]) {
          float t = sorted[i];
          sorted[i] = sorted[j];
          sorted[j] = t;
        }
    thr = sorted[3];
  }
  for (int v = 0; v < V; v++)
    p[v] = mixed[v] >= thr ? expf (mixed[v]) : 0.0f;
  for (int v = 0; v < V; v++)
    sum += p[v];
  hart_philox_stream_init (&ps, 11, HART_DRAW_E1, 3, 0);
  hart_philox_exponential (&ps, 0, e1, V);
  for (int v = 0; v < V; v++) {
    if (p[v] / sum / e1[v] > best) {
      best = p[v] / sum / e1[v];
      expect = v;
    }
  }

  g_assert_true (hart_sample_stage (NULL, logits, 1, 1, V, &s, draws, codebook,
          CV, &idx, h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (idx, ==, expect);
  for (int c = 0; c < CV; c++)
    g_assert_cmpfloat (h[c], ==, codebook[idx * CV + c]);
  /* filtered entries are -inf in place, the others keep the CFG value */
  for (int v = 0; v < V; v++) {
    if (mixed[v] < thr)
      g_assert_true (isinf (logits[v]) && logits[v] < 0);
    else
      g_assert_cmpfloat (fabsf (logits[v] - mixed[v]), <, 1e-6f);
  }
  hart_draws_free (draws);
}

/* Smooth path: h is a convex mix of the surviving codes only. */
static void
test_smooth_convex (void)
{
  float logits[2 * 2 * V];
  float h[2 * CV];
  int32_t idx[2];
  HartStageSampling s = {.stage = 1,.cfg_t = 0.0,.ratio = 0.0,.top_k = 2,
    .smooth = TRUE
  };
  HartDraws *draws = hart_draws_new (5, 0);
  GError *error = NULL;

  for (int i = 0; i < 2 * 2 * V; i++)
    logits[i] = (float) (i % V == 7) * 4.0f + (float) (i % V == 12) * 3.9f;
  g_assert_true (hart_sample_stage (NULL, logits, 1, 2, V, &s, draws, codebook,
          CV, idx, h, &error));
  g_assert_no_error (error);
  for (int r = 0; r < 2; r++) {
    /* h = y7·E7 + y12·E12 with y7 + y12 = 1 → on the segment E7–E12 */
    float a = h[r * CV + 0] - codebook[12 * CV + 0];
    float b = codebook[7 * CV + 0] - codebook[12 * CV + 0];
    float y7 = a / b;
    g_assert_cmpfloat (y7, >=, -1e-6);
    g_assert_cmpfloat (y7, <=, 1 + 1e-6);
    for (int c = 1; c < CV; c++)
      g_assert_cmpfloat (fabsf (h[r * CV + c] - (y7 * codebook[7 * CV + c] +
                  (1 - y7) * codebook[12 * CV + c])), <, 1e-5f);
  }
  hart_draws_free (draws);
}

static void
test_non_finite (void)
{
  float logits[2 * V] = { 0 };
  float h[CV];
  int32_t idx;
  HartStageSampling s = {.stage = 4,.top_k = 0 };
  HartDraws *draws = hart_draws_new (1, 0);
  GError *error = NULL;

  logits[V + 5] = NAN;
  g_assert_false (hart_sample_stage (NULL, logits, 1, 1, V, &s, draws, codebook,
          CV, &idx, h, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "stage 4"));
  g_assert_nonnull (strstr (error->message, "NaN"));
  g_clear_error (&error);
  hart_draws_free (draws);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  init_codebook ();
  g_test_add_func ("/sampler/plain", test_plain);
  g_test_add_func ("/sampler/smooth-convex", test_smooth_convex);
  g_test_add_func ("/sampler/non-finite", test_non_finite);
  return g_test_run ();
}
