/* gst-hart — CPU backend benchmark: GEMM, attention and conv2d at HART
 * shapes, against the raw cblas_sgemm rate of this machine
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: bench-ops [n_threads]   (0 or nothing: every core)
 *
 * First measures cblas_sgemm itself (OpenBLAS's own threading) on a large
 * square GEMM: that rate is the ceiling every op below is compared with.
 * Each op then runs once to warm up and the best of a few timed runs is
 * reported as GFLOP/s (2 flops per multiply-add; attention counts its two
 * GEMMs, 4·B·H·Lq·Lkv·d).  Sized to finish in well under a minute on two
 * cores.
 */
#include "kernels/backend.h"

#include <cblas.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_REPS 3

typedef void (*BenchFunc) (gpointer data);

/* Best wall time of BENCH_REPS runs, after one warm-up run. */
static double
time_best (BenchFunc func, gpointer data)
{
  double best = G_MAXDOUBLE;
  func (data);
  for (int r = 0; r < BENCH_REPS; r++) {
    gint64 t0 = g_get_monotonic_time ();
    func (data);
    best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
  }
  return best;
}

static float *
bench_buffer (HartBackend * be, gsize n, GRand * rng)
{
  GError *error = NULL;
  float *d = be->ops->alloc (be, n * sizeof (float), &error);
  float *host;
  if (d == NULL) {
    g_printerr ("bench-ops: %s\n", error->message);
    exit (1);
  }
  host = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    host[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  be->ops->upload (be, d, host, n * sizeof (float));
  g_free (host);
  return d;
}

/* ---- raw cblas_sgemm ---- */

typedef struct
{
  int m, n, k;
  float *a, *b, *c;
} RawGemm;

static void
run_raw_gemm (gpointer data)
{
  RawGemm *g = data;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k,
      1.0f, g->a, g->k, g->b, g->n, 0.0f, g->c, g->n);
}

/* ---- backend ops ---- */

typedef struct
{
  HartBackend *be;
  int m, n, k;
  gboolean linear;              /* y = x·Wᵀ (weights [n, k]) instead of A·B */
  float *a, *b, *c;
} GemmCase;

static void
run_gemm (gpointer data)
{
  GemmCase *g = data;
  if (g->linear)
    g->be->ops->linear (g->be, g->c, g->a, g->b, NULL, g->m, g->k, g->n);
  else
    g->be->ops->gemm (g->be, FALSE, FALSE, g->m, g->n, g->k, 1.0f, g->a,
        g->k, g->b, g->n, 0.0f, g->c, g->n);
  g->be->ops->synchronize (g->be, NULL);
}

typedef struct
{
  HartBackend *be;
  HartAttentionParams p;
} AttnCase;

static void
run_attention (gpointer data)
{
  AttnCase *a = data;
  a->be->ops->attention (a->be, &a->p);
  a->be->ops->synchronize (a->be, NULL);
}

typedef struct
{
  HartBackend *be;
  int cin, cout, size, k;
  float *x, *w, *bias, *y;
} ConvCase;

static void
run_conv (gpointer data)
{
  ConvCase *c = data;
  c->be->ops->conv2d (c->be, &(const HartConv2dParams) {
        .y = c->y,.x = c->x,.w = c->w,.bias = c->bias,.batch = 1,.cin =
        c->cin,.height = c->size,.width = c->size,.cout = c->cout,.k =
        c->k,.pad = (c->k - 1) / 2
      });
  c->be->ops->synchronize (c->be, NULL);
}

/* Results are printed at the end, against the better of the two raw
 * measurements (start and end of the run), so that load from other
 * processes during one of them does not inflate the fractions. */
typedef struct
{
  const char *op;
  char shape[64];
  double seconds, flops;
} BenchRow;

static GArray *bench_rows;

static void
add_row (const char *op, const char *shape, double seconds, double flops)
{
  BenchRow row = { op };
  g_strlcpy (row.shape, shape, sizeof row.shape);
  row.seconds = seconds;
  row.flops = flops;
  g_array_append_val (bench_rows, row);
}

/* GFLOP/s of cblas_sgemm itself on a 2048³ GEMM, with OpenBLAS's own
 * threading over n_threads. */
static double
measure_raw_sgemm (HartBackend * be, GRand * rng)
{
  RawGemm g = { 2048, 2048, 2048 };
  double t;

  g.a = bench_buffer (be, (gsize) g.m * g.k, rng);
  g.b = bench_buffer (be, (gsize) g.k * g.n, rng);
  g.c = bench_buffer (be, (gsize) g.m * g.n, rng);
#ifdef HART_HAVE_OPENBLAS_THREADS
  openblas_set_num_threads (be->n_threads);
#endif
  t = time_best (run_raw_gemm, &g);
#ifdef HART_HAVE_OPENBLAS_THREADS
  /* the backend runs OpenBLAS single-threaded inside its own threads */
  openblas_set_num_threads (1);
#endif
  be->ops->free (be, g.a);
  be->ops->free (be, g.b);
  be->ops->free (be, g.c);
  return 2.0 * g.m * g.n * g.k / t / 1e9;
}

int
main (int argc, char **argv)
{
  int n_threads = argc > 1 ? atoi (argv[1]) : 0;
  GError *error = NULL;
  HartBackend *be = hart_backend_cpu_new (n_threads, &error);
  GRand *rng;
  double raw_start, raw_end, raw_gflops, t;
  char shape[64];

  if (be == NULL) {
    g_printerr ("bench-ops: %s\n", error->message);
    g_clear_error (&error);
    return 1;
  }

  rng = g_rand_new_with_seed (7);
  bench_rows = g_array_new (FALSE, TRUE, sizeof (BenchRow));
  raw_start = measure_raw_sgemm (be, rng);

  /* ---- GEMM: the transformer's projections (C 1536, SwiGLU 4096) ---- */
  {
    static const struct
    {
      int m, n, k;
      gboolean linear;
    } shapes[] = {
      {4096, 4096, 1536, FALSE},        /* 4096 tokens of the last stage */
      {600, 1536, 1536, FALSE}, /* 2 × 300 context tokens */
      {600, 4096, 1536, TRUE},  /* linear: up projection */
      {4096, 1536, 4096, TRUE}, /* linear: down projection */
    };
    for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
      GemmCase g = { be, shapes[s].m, shapes[s].n, shapes[s].k,
        shapes[s].linear
      };
      g.a = bench_buffer (be, (gsize) g.m * g.k, rng);
      g.b = bench_buffer (be, (gsize) g.k * g.n, rng);
      g.c = bench_buffer (be, (gsize) g.m * g.n, rng);
      t = time_best (run_gemm, &g);
      g_snprintf (shape, sizeof shape, "%dx%d . %dx%d%s", g.m, g.k,
          g.k, g.n, g.linear ? " (x.W^T)" : "");
      add_row (g.linear ? "linear" : "gemm", shape, t, 2.0 * g.m * g.n * g.k);
      be->ops->free (be, g.a);
      be->ops->free (be, g.b);
      be->ops->free (be, g.c);
    }
  }

  /* ---- attention: a late stage over the KV cache, CFG batch 2 ---- */
  {
    static const struct
    {
      int batch, heads, q_len, kv_len, head_dim;
      gboolean fused;
    } shapes[] = {
      {2, 24, 1296, 3350, 64, FALSE},
      {1, 1, 4096, 4096, 512, TRUE},    /* VAE mid attention, c 640→512 */
    };
    for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
      AttnCase a = { be };
      const int c = shapes[s].heads * shapes[s].head_dim;
      gsize nq, nkv;
      float *q, *kv;
      a.p.batch = shapes[s].batch;
      a.p.q_heads = a.p.kv_heads = shapes[s].heads;
      a.p.q_len = shapes[s].q_len;
      a.p.kv_len = shapes[s].kv_len;
      a.p.head_dim = shapes[s].head_dim;
      a.p.scale = 1.0f / 8.0f;
      nq = (gsize) a.p.batch * a.p.q_len * c;
      nkv = (gsize) a.p.batch * a.p.kv_len * c;
      q = bench_buffer (be, nq, rng);
      kv = bench_buffer (be, 2 * nkv, rng);
      a.p.q = q;
      a.p.q_row_stride = c;
      a.p.q_batch_stride = (int64_t) a.p.q_len * c;
      /* k and v interleaved per row, as read out of a fused projection */
      a.p.k = kv;
      a.p.v = kv + c;
      a.p.k_row_stride = a.p.v_row_stride = 2 * c;
      a.p.k_batch_stride = a.p.v_batch_stride = (int64_t) a.p.kv_len * 2 * c;
      a.p.out = bench_buffer (be, nq, rng);
      a.p.out_row_stride = c;
      a.p.out_batch_stride = (int64_t) a.p.q_len * c;
      t = time_best (run_attention, &a);
      g_snprintf (shape, sizeof shape, "%dx%dh q%d kv%d d%d", a.p.batch,
          a.p.q_heads, a.p.q_len, a.p.kv_len, a.p.head_dim);
      add_row ("attention", shape, t, 4.0 * a.p.batch * a.p.q_heads *
          (double) a.p.q_len * a.p.kv_len * a.p.head_dim);
      be->ops->free (be, q);
      be->ops->free (be, kv);
      be->ops->free (be, a.p.out);
    }
  }

  /* ---- conv2d: the VAE decoder's levels ---- */
  {
    static const int shapes[][4] = {    /* cin, cout, size, k */
      {160, 160, 256, 3}, {320, 320, 128, 3}, {640, 640, 64, 3},
      {640, 1920, 64, 1},
    };
    for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
      ConvCase c = { be, shapes[s][0], shapes[s][1], shapes[s][2],
        shapes[s][3]
      };
      gsize hw = (gsize) c.size * c.size;
      c.x = bench_buffer (be, c.cin * hw, rng);
      c.w = bench_buffer (be, (gsize) c.cout * c.cin * c.k * c.k, rng);
      c.bias = bench_buffer (be, c.cout, rng);
      c.y = bench_buffer (be, c.cout * hw, rng);
      t = time_best (run_conv, &c);
      g_snprintf (shape, sizeof shape, "%d->%d %dx%d at %dx%d", c.cin,
          c.cout, c.k, c.k, c.size, c.size);
      add_row ("conv2d", shape, t, 2.0 * c.cout * c.cin * c.k * c.k *
          (double) hw);
      be->ops->free (be, c.x);
      be->ops->free (be, c.w);
      be->ops->free (be, c.bias);
      be->ops->free (be, c.y);
    }
  }

  raw_end = measure_raw_sgemm (be, rng);
  raw_gflops = MAX (raw_start, raw_end);

  printf ("cpu backend, %d threads\n", be->n_threads);
  printf ("raw cblas_sgemm 2048x2048x2048 (OpenBLAS threads): %.1f GFLOP/s "
      "at start, %.1f at end; the better one = 100%% below\n\n", raw_start,
      raw_end);
  printf ("%-10s %-38s %9s %9s %8s\n", "op", "shape", "ms", "GFLOP/s",
      "of raw");
  printf ("---------------------------------------------------------------"
      "-----------------\n");
  for (guint i = 0; i < bench_rows->len; i++) {
    BenchRow *row = &g_array_index (bench_rows, BenchRow, i);
    double gflops = row->flops / row->seconds / 1e9;
    printf ("%-10s %-38s %9.1f %9.1f %7.0f%%\n", row->op, row->shape,
        row->seconds * 1e3, gflops, 100.0 * gflops / raw_gflops);
  }

  g_array_free (bench_rows, TRUE);
  g_rand_free (rng);
  hart_backend_free (be);
  return 0;
}
