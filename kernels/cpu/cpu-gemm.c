/* gst-hart — CPU backend: GEMM, batched GEMM, linear
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cpu-private.h"

/* Below this many multiply-adds a GEMM runs on one thread: splitting costs
 * a parallel region and a second packing of the shared operand. */
#define GEMM_PARALLEL_MIN_MACS (1 << 20)
/* Panels of C are multiples of this many rows/columns, which keeps the
 * OpenBLAS micro-kernels on their full-width paths. */
#define GEMM_PANEL_QUANTUM 16

static void
scale_matrix (float *c, int m, int n, int ldc, float beta)
{
  for (int i = 0; i < m; i++) {
    float *row = c + (gsize) i * ldc;
    if (beta == 0.0f)
      memset (row, 0, (gsize) n * sizeof (float));
    else
      for (int j = 0; j < n; j++)
        row[j] *= beta;
  }
}

static inline void
sgemm_one_thread (gboolean trans_a, gboolean trans_b, int m, int n, int k,
    float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    /* BLAS semantics: C = beta * C (OpenBLAS versions disagree on k = 0) */
    scale_matrix (c, m, n, ldc, beta);
    return;
  }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
      trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
      beta, c, ldc);
}

void
hart_cpu_sgemm (int n_threads, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc)
{
  double macs = (double) m * n * k;
  gboolean split_rows = m >= n;
  int dim = split_rows ? m : n;
  int parts = n_threads;
  int chunk;

  hart_cpu_blas_single_thread ();

  if (parts > 1 && macs >= GEMM_PARALLEL_MIN_MACS
      && dim >= 2 * GEMM_PANEL_QUANTUM) {
    chunk = (dim + parts - 1) / parts;
    chunk = (chunk + GEMM_PANEL_QUANTUM - 1) / GEMM_PANEL_QUANTUM *
        GEMM_PANEL_QUANTUM;
    parts = (dim + chunk - 1) / chunk;
  } else {
    parts = 1;
    chunk = dim;
  }

  if (parts == 1) {
    sgemm_one_thread (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
        c, ldc);
    return;
  }

  /* C is cut into `parts` panels along its longer side; panel p of rows
   * [r0, r1) reads rows r0.. of op(A), a panel of columns reads columns of
   * op(B).  Panels never overlap, so threads write disjoint memory. */
#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (int p = 0; p < parts; p++) {
    int start = p * chunk;
    int len = MIN (chunk, dim - start);
    if (split_rows) {
      const float *a_panel = trans_a ? a + start : a + (gsize) start * lda;
      sgemm_one_thread (trans_a, trans_b, len, n, k, alpha, a_panel, lda, b,
          ldb, beta, c + (gsize) start * ldc, ldc);
    } else {
      const float *b_panel = trans_b ? b + (gsize) start * ldb : b + start;
      sgemm_one_thread (trans_a, trans_b, m, len, k, alpha, a, lda, b_panel,
          ldb, beta, c + start, ldc);
    }
  }
}

void
hart_cpu_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc)
{
  hart_cpu_sgemm (be->n_threads, trans_a, trans_b, m, n, k, alpha, a, lda, b,
      ldb, beta, c, ldc);
}

void
hart_cpu_gemm_batched (HartBackend * be, const HartGemmBatchedParams * p)
{
  const gboolean trans_a = p->trans_a, trans_b = p->trans_b;
  const int m = p->m, n = p->n, k = p->k, batch = p->batch;
  const float alpha = p->alpha, beta = p->beta;
  const float *a = p->a, *b = p->b;
  float *c = p->c;
  const int lda = p->lda, ldb = p->ldb, ldc = p->ldc;
  const int64_t stride_a = p->stride_a, stride_b = p->stride_b;
  const int64_t stride_c = p->stride_c;
  double macs = (double) m * n * k;

  if (batch <= 0)
    return;
  /* Many small matrices: one matrix per thread.  Few large ones: split
   * each matrix across the threads. */
  if (batch >= be->n_threads && macs < 16.0 * GEMM_PARALLEL_MIN_MACS) {
    hart_cpu_blas_single_thread ();
#pragma omp parallel for num_threads (be->n_threads) schedule (dynamic) \
    if (macs * batch >= GEMM_PARALLEL_MIN_MACS)
    for (int i = 0; i < batch; i++)
      sgemm_one_thread (trans_a, trans_b, m, n, k, alpha, a + i * stride_a,
          lda, b + i * stride_b, ldb, beta, c + i * stride_c, ldc);
  } else {
    for (int i = 0; i < batch; i++)
      hart_cpu_sgemm (be->n_threads, trans_a, trans_b, m, n, k, alpha,
          a + i * stride_a, lda, b + i * stride_b, ldb, beta,
          c + i * stride_c, ldc);
  }
}

void
hart_cpu_linear (HartBackend * be, float *y, const float *x, const float *w,
    const float *bias, int rows, int in, int out)
{
  float beta = 0.0f;

  if (rows <= 0 || out <= 0)
    return;
  /* y starts as the bias broadcast over rows, and the GEMM adds x·Wᵀ to it
   * (beta = 1): one pass over y instead of two. */
  if (bias != NULL) {
#pragma omp parallel for num_threads (be->n_threads) schedule (static) \
    if ((gsize) rows * out >= HART_CPU_PARALLEL_MIN)
    for (int r = 0; r < rows; r++)
      memcpy (y + (gsize) r * out, bias, (gsize) out * sizeof (float));
    beta = 1.0f;
  }
  /* x [rows, in] · W[out, in]ᵀ */
  hart_cpu_sgemm (be->n_threads, FALSE, TRUE, rows, out, in, 1.0f, x, in, w,
      in, beta, y, out);
}
