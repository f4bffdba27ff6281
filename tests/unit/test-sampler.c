/* gst-hart — tests of one stage's sampling (docs/algorithm.md §6.3, G8 of §13)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart/sampler.h"
#include "hart/error.h"
#include "hart/philox.h"
#include "kernels/backend.h"
#include "tests/sampler-whole-row.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
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

/* A part the sampler cannot take (a part of a stage with recorded draws,
 * a negative or empty part, positions past the stage) is refused before
 * anything is read or written: an error, and the logits as they were. */
static void
test_refused_parts (void)
{
  const struct
  {
    int l, p0, pc;
    gboolean record;
  } bad[] = {
    {4, 0, 2, TRUE}, {4, 0, -1, FALSE}, {4, 0, 0, FALSE}, {4, 3, 2, FALSE},
    {4, -1, 2, FALSE}, {4, 2, G_MAXINT, FALSE},
  };
  char *rec = g_build_filename (g_get_tmp_dir (), "hart-sampler-refused.bin",
      NULL);

  for (gsize t = 0; t < G_N_ELEMENTS (bad); t++) {
    float logits[2 * 4 * V], before[2 * 4 * V];
    float h[4 * CV];
    int32_t idx[4];
    HartStageSampling s = {.stage = 3,.cfg_t = 2.0,.top_k = 5 };
    HartDraws *draws = hart_draws_new (9, 0);
    GError *error = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS (logits); i++)
      logits[i] = (float) ((i * 37) % 101) * 0.01f;
    memcpy (before, logits, sizeof logits);
    if (bad[t].record)
      hart_draws_set_record_path (draws, rec);
    g_test_expect_message ("hart", G_LOG_LEVEL_CRITICAL,
        "hart_sample_stage_part: *");
    g_assert_false (hart_sample_stage_part (NULL, logits, 1, bad[t].l,
            bad[t].p0, bad[t].pc, V, &s, draws, codebook, CV, idx, h, &error));
    g_test_assert_expected_messages ();
    g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "stage 3"));
    g_assert_cmpmem (logits, sizeof logits, before, sizeof before);
    g_clear_error (&error);
    hart_draws_free (draws);
  }
  g_free (rec);
}

/* HART's last-stage shapes (4096 codes, top-k 300 and 600, smooth and
 * plain, two prompts' rows of CFG), with runs of equal logits at the
 * top-k threshold: the same codes, embeddings and filtered logits as the
 * whole-row sampler, also with the rows split over 2 threads and with the
 * draws recorded (whole tensors instead of the streamed entries). */
static void
test_codes_left_match_whole_rows (void)
{
  const int batch = 2, l = 24;
  const gsize n = 2 * (gsize) batch * l * WV;
  float *input = g_new (float, n), *got = g_new (float, n);
  float *want = g_new (float, n), *cb = g_new (float, WV * WCV);
  float *h_got = g_new (float, batch * l * WCV);
  float *h_want = g_new (float, batch * l * WCV);
  int32_t idx_got[2 * 24], idx_want[2 * 24];
  GRand *rng = g_rand_new_with_seed (77);
  HartBackend *be = hart_backend_new ("cpu", 0, 2, NULL);
  char *dir = g_dir_make_tmp ("hart-sampler-XXXXXX", NULL);
  char *rec = g_build_filename (dir, "draws.safetensors", NULL);

  for (gsize i = 0; i < n; i++)
    input[i] = (float) g_rand_double_range (rng, -6.0, 6.0);
  /* coarse values in one row of each half: ties at the threshold */
  for (int v = 0; v < WV; v++) {
    input[3 * WV + v] = (float) (v % 23) * 0.25f;
    input[(gsize) batch * l * WV + 3 * WV + v] = (float) (v % 7) * 0.5f;
  }
  for (int i = 0; i < WV * WCV; i++)
    cb[i] = (float) g_rand_double_range (rng, -1.0, 1.0);

  for (int variant = 0; variant < 6; variant++) {
    HartStageSampling s = {.stage = 12 + variant % 2,.cfg_t = 4.5 * 0.9,
      .ratio = 0.8 + 0.05 * variant,.top_k = variant % 2 ? 600 : 300,
      .smooth = variant < 4
    };
    HartDraws *draws = hart_draws_new (1234 + variant, 0);
    HartBackend *threads = variant % 3 == 1 ? be : NULL;
    GError *error = NULL;

    if (variant == 2)           /* recorded: whole tensors */
      hart_draws_set_record_path (draws, rec);
    memcpy (got, input, n * sizeof (float));
    memcpy (want, input, n * sizeof (float));
    g_assert_true (hart_sample_stage (threads, got, batch, l, WV, &s, draws,
            cb, WCV, idx_got, h_got, &error));
    g_assert_no_error (error);
    whole_row_reference (want, batch, l, &s, 1234 + variant, NULL, cb,
        idx_want, h_want);
    g_assert_cmpmem (idx_got, sizeof idx_got, idx_want, sizeof idx_want);
    g_assert_cmpmem (h_got, batch * l * WCV * sizeof (float), h_want,
        batch * l * WCV * sizeof (float));
    g_assert_cmpmem (got, n / 2 * sizeof (float), want, n / 2 * sizeof (float));
    hart_draws_free (draws);
  }
  g_unlink (rec);
  g_rmdir (dir);
  g_free (rec);
  g_free (dir);
  hart_backend_free (be);
  g_rand_free (rng);
  g_free (input);
  g_free (got);
  g_free (want);
  g_free (cb);
  g_free (h_got);
  g_free (h_want);
}

/* A batch of frames (each image from its own frame's stream) and a stage
 * sampled in two parts (hart_sample_stage_part): still the whole-row
 * sampler's codes and embeddings, bit for bit. */
static void
test_codes_left_frames_and_parts (void)
{
  enum
  { B = 2, L = 24, P0 = 10 };
  static const guint32 frames[B] = { 3, 8 };
  const gsize n = 2 * (gsize) B * L * WV;
  float *input = g_new (float, n), *work = g_new (float, n);
  float *part = g_new (float, n), *cb = g_new (float, WV * WCV);
  float h_got[B * L * WCV], h_want[B * L * WCV], h_parts[B * L * WCV];
  int32_t idx_got[B * L], idx_want[B * L], idx_parts[B * L];
  GRand *rng = g_rand_new_with_seed (5);
  HartStageSampling s = {.stage = 11,.cfg_t = 3.0,.ratio = 0.7,.top_k = 300,
    .smooth = TRUE
  };
  HartDraws *draws = hart_draws_new (4321, 0);
  GError *error = NULL;

  for (gsize i = 0; i < n; i++)
    input[i] = (float) g_rand_double_range (rng, -6.0, 6.0);
  for (int i = 0; i < WV * WCV; i++)
    cb[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  hart_draws_set_item_frames (draws, B, frames);

  memcpy (work, input, n * sizeof (float));
  g_assert_true (hart_sample_stage (NULL, work, B, L, WV, &s, draws, cb, WCV,
          idx_got, h_got, &error));
  g_assert_no_error (error);
  memcpy (work, input, n * sizeof (float));
  whole_row_reference (work, B, L, &s, 4321, frames, cb, idx_want, h_want);
  g_assert_cmpmem (idx_got, sizeof idx_got, idx_want, sizeof idx_want);
  g_assert_cmpmem (h_got, sizeof h_got, h_want, sizeof h_want);

  /* positions [0, P0) then [P0, L): logits [2B, pc, V] of those positions */
  for (int k = 0; k < 2; k++) {
    const int p0 = k ? P0 : 0, pc = k ? L - P0 : P0;
    for (int hb = 0; hb < 2 * B; hb++)
      memcpy (part + (gsize) hb * pc * WV,
          input + ((gsize) hb * L + p0) * WV, (gsize) pc * WV * sizeof (float));
    g_assert_true (hart_sample_stage_part (NULL, part, B, L, p0, pc, WV, &s,
            draws, cb, WCV, idx_parts, h_parts, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpmem (idx_parts, sizeof idx_parts, idx_want, sizeof idx_want);
  g_assert_cmpmem (h_parts, sizeof h_parts, h_want, sizeof h_want);

  hart_draws_free (draws);
  g_rand_free (rng);
  g_free (input);
  g_free (work);
  g_free (part);
  g_free (cb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  init_codebook ();
  g_test_add_func ("/sampler/plain", test_plain);
  g_test_add_func ("/sampler/smooth-convex", test_smooth_convex);
  g_test_add_func ("/sampler/non-finite", test_non_finite);
  g_test_add_func ("/sampler/refused-parts", test_refused_parts);
  g_test_add_func ("/sampler/codes-left-match-whole-rows",
      test_codes_left_match_whole_rows);
  g_test_add_func ("/sampler/codes-left-frames-and-parts",
      test_codes_left_frames_and_parts);
  return g_test_run ();
}
