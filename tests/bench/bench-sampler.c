/* gst-hart — one stage's sampling at HART's last-stage shape, timed
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   build/tests/bench/bench-sampler [--threads N] [--rows N] [--repeat N]
 *
 * The host side of every generation, on every backend (the GPU's too: the
 * logits come back to it, docs/performance.md): CFG, top-k 300, the
 * exponential race and the smooth embedding over 4096 codes for --rows
 * tokens (4096: a 1024² image's last stage), timed against the whole-row
 * sampler (tests/sampler-whole-row.h: plain on purpose — one thread, a full
 * sort for top-k — so the ratio is to a fixed yardstick, not to an earlier
 * engine) in the same run, after checking that both give the same codes
 * and embeddings bit for bit.  Prints the best of --repeat runs of each
 * and their ratio, smooth and plain.
 */
#include "hart/draws.h"
#include "hart/sampler.h"
#include "kernels/backend.h"
#include "tests/sampler-whole-row.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static double
best_of (int repeat, double (*run) (gpointer), gpointer data)
{
  double best = G_MAXDOUBLE;
  for (int r = 0; r < repeat; r++)
    best = MIN (best, run (data));
  return best;
}

typedef struct
{
  HartBackend *be;
  const float *input;
  float *work, *cb, *h;
  int32_t *idx;
  int rows;
  HartStageSampling s;
} Bench;

static double
run_engine (gpointer data)
{
  Bench *b = data;
  HartDraws *draws = hart_draws_new (42, 0);
  GError *error = NULL;
  gint64 t0;

  memcpy (b->work, b->input, (gsize) 2 * b->rows * WV * sizeof (float));
  t0 = g_get_monotonic_time ();
  if (!hart_sample_stage (b->be, b->work, 1, b->rows, WV, &b->s, draws,
          b->cb, WCV, b->idx, b->h, &error))
    g_error ("%s", error->message);
  t0 = g_get_monotonic_time () - t0;
  hart_draws_free (draws);
  return t0 / 1e6;
}

static double
run_whole_rows (gpointer data)
{
  Bench *b = data;
  gint64 t0;

  memcpy (b->work, b->input, (gsize) 2 * b->rows * WV * sizeof (float));
  t0 = g_get_monotonic_time ();
  whole_row_reference (b->work, 1, b->rows, &b->s, 42, NULL, b->cb, b->idx,
      b->h);
  return (g_get_monotonic_time () - t0) / 1e6;
}

int
main (int argc, char **argv)
{
  int threads = 0, rows = 4096, repeat = 3;
  GOptionEntry entries[] = {
    {"threads", 0, 0, G_OPTION_ARG_INT, &threads,
        "Host threads of the engine's sampler (0: every core)", "N"},
    {"rows", 0, 0, G_OPTION_ARG_INT, &rows, "Tokens of the stage (4096)",
        "N"},
    {"repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Runs of each (3)", "N"},
    {NULL}
  };
  GOptionContext *octx = g_option_context_new ("- time one stage's sampling");
  GError *error = NULL;
  Bench b = { 0 };
  GRand *rng = g_rand_new_with_seed (1);
  const gsize n = (gsize) 2 * MAX (rows, 1) * WV;
  float *input, *h2;
  int32_t *idx2;

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error) || rows < 1
      || repeat < 1) {
    fprintf (stderr, "bench-sampler: %s\n", error ? error->message :
        "--rows and --repeat must be positive");
    return 2;
  }
  g_option_context_free (octx);
  if (!(b.be = hart_backend_new ("cpu", 0, threads, &error))) {
    fprintf (stderr, "bench-sampler: %s\n", error->message);
    return 1;
  }
  input = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    input[i] = (float) g_rand_double_range (rng, -5.0, 5.0);
  b.input = input;
  b.work = g_new (float, n);
  b.cb = g_new (float, WV * WCV);
  for (int i = 0; i < WV * WCV; i++)
    b.cb[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  b.rows = rows;
  b.h = g_new (float, (gsize) rows * WCV);
  b.idx = g_new (int32_t, rows);
  h2 = g_new (float, (gsize) rows * WCV);
  idx2 = g_new (int32_t, rows);

  printf ("one stage's sampling: %d tokens × %d codes, top-k 300, CFG 4.05, "
      "%d host thread(s) (the whole-row sampler: 1)\n", rows, WV,
      b.be->n_threads);
  printf ("%-8s %12s %12s %8s\n", "", "engine (s)", "whole rows", "ratio");
  for (int smooth = 1; smooth >= 0; smooth--) {
    HartStageSampling s = {.stage = 13,.cfg_t = 4.05,.ratio = 0.9,.top_k =
          300,.smooth = smooth
    };
    double te, tw;
    b.s = s;
    /* the same codes and embeddings, bit for bit, before any timing */
    run_engine (&b);
    memcpy (h2, b.h, (gsize) rows * WCV * sizeof (float));
    memcpy (idx2, b.idx, rows * sizeof (int32_t));
    run_whole_rows (&b);
    if (memcmp (h2, b.h, (gsize) rows * WCV * sizeof (float)) != 0
        || memcmp (idx2, b.idx, rows * sizeof (int32_t)) != 0) {
      fprintf (stderr, "bench-sampler: the engine's sampler and the whole-row"
          " sampler differ\n");
      return 1;
    }
    te = best_of (repeat, run_engine, &b);
    tw = best_of (repeat, run_whole_rows, &b);
    printf ("%-8s %12.3f %12.3f %7.2fx\n", smooth ? "smooth" : "plain", te,
        tw, tw / te);
  }
  hart_backend_free (b.be);
  g_rand_free (rng);
  g_free (input);
  g_free (b.work);
  g_free (b.cb);
  g_free (b.h);
  g_free (b.idx);
  g_free (h2);
  g_free (idx2);
  return 0;
}
