/* gst-hart — tests of the Philox-4x32-10 draws
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart/philox.h"
#include "hart/draws.h"

#include <glib.h>
#include <math.h>

/* Known-answer vectors of Random123 (kat_vectors, philox4x32_10). */
/* hart_draws_rows gives, row range by row range, the bits the whole-tensor
 * draw gives: one image, and three images of a batch (their streams'
 * frames), in one half and in two; ranges cross the images' parts. */
static void
test_draws_by_rows (void)
{
  enum
  { V = 37, ROWS = 5 };
  static const guint32 frames[] = { 4, 9, 2 };

  for (int items = 1; items <= 3; items += 2)
    for (int halves = 1; halves <= 2; halves++)
      for (int p = 0; p < 2; p++) {
        const HartDrawPurpose purpose = p ? HART_DRAW_E2 : HART_DRAW_ZN;
        const int64_t shape[2] = { (int64_t) halves * items * ROWS, V };
        const gsize n_rows = (gsize) shape[0];
        float *whole = g_new (float, n_rows * V);
        float *rows = g_new (float, n_rows * V);
        HartDraws *d = hart_draws_new (1234, 7);
        GError *error = NULL;

        if (items > 1)
          hart_draws_set_item_frames (d, items, frames);
        g_assert_true (hart_draws_streamed (d));
        g_assert_true (p ? hart_draws_exponential (d, purpose, 3, halves, 2,
                shape, whole, &error) : hart_draws_normal (d, purpose, 3,
                halves, 2, shape, whole, &error));
        g_assert_no_error (error);
        g_assert_true (hart_draws_rows_check (d, halves, 2, shape, &error));
        /* ranges of 1, 3 and 4 rows: some cross a part of ROWS rows */
        for (gsize r = 0, step = 1; r < n_rows; r += step, step = step % 4 + 2) {
          const gsize r1 = MIN (n_rows, r + step);
          hart_draws_rows (d, purpose, 3, halves, 2, shape, r, r1,
              rows + r * V);
        }
        g_assert_cmpmem (rows, n_rows * V * sizeof (float), whole,
            n_rows * V * sizeof (float));
        /* some entries of each row (the sampler's kept codes), Exp(1) */
        if (p) {
          int cols[V];
          float got[V];
          int n = 0;
          for (int c = 0; c < V; c += 1 + c % 4)
            cols[n++] = c;
          for (gsize r = 0; r < n_rows; r++) {
            hart_draws_row_entries (d, purpose, 3, halves, 2, shape, r, cols,
                n, got);
            for (int i = 0; i < n; i++)
              g_assert_cmpmem (&got[i], sizeof (float),
                  &whole[r * V + cols[i]], sizeof (float));
          }
        }
        hart_draws_free (d);
        g_free (whole);
        g_free (rows);
      }
}

/* Entries of rows that cross two images' parts ([3, 10] over 2 images:
 * parts of 15 values) are still the whole draw's. */
static void
test_draw_entries_across_parts (void)
{
  static const guint32 frames[] = { 6, 1 };
  const int64_t shape[2] = { 3, 10 };
  static const int cols[] = { 0, 3, 4, 5, 6, 9 };
  float whole[30], got[G_N_ELEMENTS (cols)];
  HartDraws *d = hart_draws_new (99, 0);
  GError *error = NULL;

  hart_draws_set_item_frames (d, 2, frames);
  g_assert_true (hart_draws_exponential (d, HART_DRAW_E1, 5, 1, 2, shape,
          whole, &error));
  g_assert_no_error (error);
  for (gsize r = 0; r < 3; r++) {
    hart_draws_row_entries (d, HART_DRAW_E1, 5, 1, 2, shape, r, cols,
        G_N_ELEMENTS (cols), got);
    for (gsize i = 0; i < G_N_ELEMENTS (cols); i++)
      g_assert_cmpmem (&got[i], sizeof (float), &whole[r * 10 + cols[i]],
          sizeof (float));
  }
  hart_draws_free (d);
}

static void
test_known_answers (void)
{
  static const struct
  {
    uint32_t ctr[4], key[2], out[4];
  } kat[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {0xffffffff, 0xffffffff},
        {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
        {0xa4093822, 0x299f31d0},
        {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (gsize i = 0; i < G_N_ELEMENTS (kat); i++) {
    uint32_t out[4];
    hart_philox4x32_10 (kat[i].ctr, kat[i].key, out);
    for (int j = 0; j < 4; j++)
      g_assert_cmphex (out[j], ==, kat[i].out[j]);
  }
}

/* Any window of a stream equals the same elements of the whole stream. */
static void
test_windows (void)
{
  HartPhiloxStream s;
  float all[1000], part[333];

  hart_philox_stream_init (&s, 42, HART_DRAW_E1, 3, 0);
  hart_philox_exponential (&s, 0, all, 1000);
  hart_philox_exponential (&s, 401, part, 333);
  for (int i = 0; i < 333; i++)
    g_assert_cmpfloat (part[i], ==, all[401 + i]);

  hart_philox_stream_init (&s, 42, HART_DRAW_N0, 0, 0);
  hart_philox_normal (&s, 0, all, 1000);
  hart_philox_normal (&s, 7, part, 333);
  for (int i = 0; i < 333; i++)
    g_assert_cmpfloat (part[i], ==, all[7 + i]);
}

/* Streams of other purposes, indices, frames or seeds differ. */
static void
test_streams_independent (void)
{
  HartPhiloxStream s;
  float a[64], b[64];
  int same;

  hart_philox_stream_init (&s, 1, HART_DRAW_E1, 0, 0);
  hart_philox_exponential (&s, 0, a, 64);
#define CHECK_DIFFERS(seed, purpose, index, frame) \
  hart_philox_stream_init (&s, seed, purpose, index, frame); \
  hart_philox_exponential (&s, 0, b, 64); \
  same = 0; \
  for (int i = 0; i < 64; i++) same += a[i] == b[i]; \
  g_assert_cmpint (same, <, 4);
  CHECK_DIFFERS (2, HART_DRAW_E1, 0, 0);
  CHECK_DIFFERS (1ull << 32 | 1, HART_DRAW_E1, 0, 0);
  CHECK_DIFFERS (1, HART_DRAW_E2, 0, 0);
  CHECK_DIFFERS (1, HART_DRAW_E1, 1, 0);
  CHECK_DIFFERS (1, HART_DRAW_E1, 0, 1);
#undef CHECK_DIFFERS
}

/* Moments of 200k draws: Exp(1) has mean 1 and variance 1; N(0,1) mean 0
 * variance 1.  Standard error of the mean ≈ 0.0022, so 0.01 is > 4 sigma. */
static void
test_distributions (void)
{
  const gsize n = 200000;
  float *x = g_new (float, n);
  HartPhiloxStream s;
  double sum = 0, sum2 = 0;

  hart_philox_stream_init (&s, 7, HART_DRAW_E2, 5, 0);
  hart_philox_exponential (&s, 0, x, n);
  for (gsize i = 0; i < n; i++) {
    g_assert_true (x[i] >= 0.0f && isfinite (x[i]));
    sum += x[i];
    sum2 += x[i] * (double) x[i];
  }
  g_assert_cmpfloat (fabs (sum / n - 1.0), <, 0.01);
  g_assert_cmpfloat (fabs (sum2 / n - sum / n * sum / n - 1.0), <, 0.03);

  sum = sum2 = 0;
  hart_philox_stream_init (&s, 7, HART_DRAW_ZN, 3, 0);
  hart_philox_normal (&s, 0, x, n);
  for (gsize i = 0; i < n; i++) {
    g_assert_true (isfinite (x[i]));
    sum += x[i];
    sum2 += x[i] * (double) x[i];
  }
  g_assert_cmpfloat (fabs (sum / n), <, 0.01);
  g_assert_cmpfloat (fabs (sum2 / n - 1.0), <, 0.02);
  g_free (x);
}

/* Word 8,451,092 of the stream (seed 42, E2, stage 12, frame 0) has
 * w >> 8 = 0xFFFFFF, i.e. u = 1: its Exp(1) draw must be 2^-24, not 0
 * (a zero makes the Gumbel noise infinite).  Position found with
 * tests/reference/philox.py; the neighbours are ordinary draws. */
static void
test_exponential_never_zero (void)
{
  HartPhiloxStream s;
  float e[3];

  hart_philox_stream_init (&s, 42, HART_DRAW_E2, 12, 0);
  hart_philox_exponential (&s, 8451091, e, 3);
  g_assert_cmpfloat (e[1], ==, 0x1p-24f);
  g_assert_cmpfloat (e[0], >, 0.0f);
  g_assert_cmpfloat (e[2], >, 0.0f);
  g_assert_cmpfloat (e[0], !=, 0x1p-24f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/philox/draws-by-rows", test_draws_by_rows);
  g_test_add_func ("/philox/draw-entries-across-parts",
      test_draw_entries_across_parts);
  g_test_add_func ("/philox/known-answers", test_known_answers);
  g_test_add_func ("/philox/windows", test_windows);
  g_test_add_func ("/philox/streams-independent", test_streams_independent);
  g_test_add_func ("/philox/distributions", test_distributions);
  g_test_add_func ("/philox/exponential-never-zero",
      test_exponential_never_zero);
  return g_test_run ();
}
