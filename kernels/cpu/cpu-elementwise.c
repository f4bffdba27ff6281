/* gst-hart — CPU backend: activations, elementwise arithmetic, lookups
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every loop here is memory-bound; it is split across threads only when it
 * is long enough to pay for a pool job.  Elements (and rows) are
 * independent, so the split never changes a result.
 */
#include "cpu-private.h"

/* The arguments of an elementwise op: y[i] = f(a[i], b[i], s0, s1). */
typedef struct
{
  float *y;
  const float *a, *b;
  float s0, s1;
} Ew;

/* Defines NAME_range (), the loop over one chunk [begin, end). */
#define ELEMENTWISE_RANGE(name, body) \
  static void \
  name##_range (gsize begin, gsize end, gpointer data) \
  { \
    const Ew *e_ = data; \
    float *const y = e_->y; \
    const float *const a = e_->a, *const b = e_->b; \
    const float s0 = e_->s0, s1 = e_->s1; \
    (void) a; (void) b; (void) s0; (void) s1; \
    for (gsize i = begin; i < end; i++) { \
      body; \
    } \
  }

static void
elementwise (HartBackend * be, gsize n, HartCpuRangeFunc fn, Ew e)
{
  if (n == 0)
    return;
  hart_cpu_parallel_for (be, n, hart_cpu_grain (be, n, n), fn, &e);
}

static inline float
silu1 (float v)
{
  return v / (1.0f + expf (-v));
}

/* *INDENT-OFF* */
ELEMENTWISE_RANGE (fill, y[i] = s0)
ELEMENTWISE_RANGE (silu, y[i] = silu1 (a[i]))
/* exact GELU: x · Φ(x) = 0.5 x (1 + erf(x / √2)) */
ELEMENTWISE_RANGE (gelu,
    y[i] = 0.5f * a[i] * (1.0f + erff (a[i] * (float) M_SQRT1_2)))
/* torch gelu(approximate="tanh"): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) */
ELEMENTWISE_RANGE (gelu_tanh, {
      const float k = 0.7978845608028654f;
      float v = a[i];
      y[i] = 0.5f * v * (1.0f + tanhf (k * (v + 0.044715f * v * v * v)));
    })
ELEMENTWISE_RANGE (swiglu, y[i] = silu1 (a[i]) * b[i])
ELEMENTWISE_RANGE (add, y[i] = a[i] + b[i])
ELEMENTWISE_RANGE (mul, y[i] = a[i] * b[i])
ELEMENTWISE_RANGE (axpby, y[i] = s0 * a[i] + s1 * b[i])
ELEMENTWISE_RANGE (scale, y[i] = s0 * a[i])
/* NaN stays NaN (as torch.clamp) */
ELEMENTWISE_RANGE (clamp, {
      float v = a[i];
      y[i] = v < s0 ? s0 : (v > s1 ? s1 : v);
    })
/* *INDENT-ON* */

void
hart_cpu_fill (HartBackend * be, float *dst, float value, gsize n)
{
  elementwise (be, n, fill_range, (Ew) {
      .y = dst,.s0 = value});
}

void
hart_cpu_silu (HartBackend * be, float *y, const float *x, gsize n)
{
  elementwise (be, n, silu_range, (Ew) {
      .y = y,.a = x});
}

void
hart_cpu_gelu (HartBackend * be, float *y, const float *x, gsize n)
{
  elementwise (be, n, gelu_range, (Ew) {
      .y = y,.a = x});
}

void
hart_cpu_gelu_tanh (HartBackend * be, float *y, const float *x, gsize n)
{
  elementwise (be, n, gelu_tanh_range, (Ew) {
      .y = y,.a = x});
}

void
hart_cpu_swiglu (HartBackend * be, float *y, const float *gate,
    const float *up, gsize n)
{
  elementwise (be, n, swiglu_range, (Ew) {
      .y = y,.a = gate,.b = up});
}

void
hart_cpu_add (HartBackend * be, float *y, const float *a, const float *b,
    gsize n)
{
  elementwise (be, n, add_range, (Ew) {
      .y = y,.a = a,.b = b});
}

void
hart_cpu_mul (HartBackend * be, float *y, const float *a, const float *b,
    gsize n)
{
  elementwise (be, n, mul_range, (Ew) {
      .y = y,.a = a,.b = b});
}

void
hart_cpu_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n)
{
  elementwise (be, n, axpby_range, (Ew) {
      .y = y,.a = a,.b = b,.s0 = alpha,.s1 = beta});
}

void
hart_cpu_scale (HartBackend * be, float *y, const float *x, float alpha,
    gsize n)
{
  elementwise (be, n, scale_range, (Ew) {
      .y = y,.a = x,.s0 = alpha});
}

void
hart_cpu_clamp (HartBackend * be, float *y, const float *x, float lo,
    float hi, gsize n)
{
  elementwise (be, n, clamp_range, (Ew) {
      .y = y,.a = x,.s0 = lo,.s1 = hi});
}

/* Row ops: rows (or batches, or lookups) are independent. */
typedef struct
{
  float *y;
  const float *x;
  const int32_t *ids;
  int len, dim;
} RowsArgs;

static void
add_row_vector_range (gsize r0, gsize r1, gpointer data)
{
  const RowsArgs *A = data;

  for (gsize r = r0; r < r1; r++) {
    float *xr = A->y + r * A->dim;
    for (int c = 0; c < A->dim; c++)
      xr[c] += A->x[c];
  }
}

void
hart_cpu_add_row_vector (HartBackend * be, float *x, const float *v,
    int rows, int dim)
{
  RowsArgs A = {.y = x,.x = v,.dim = dim };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * dim), add_row_vector_range, &A);
}

static void
max_over_rows_range (gsize b0, gsize b1, gpointer data)
{
  const RowsArgs *A = data;
  const int len = A->len, dim = A->dim;

  for (gsize b = b0; b < b1; b++) {
    const float *xb = A->x + b * len * dim;
    float *yb = A->y + b * dim;
    if (len <= 0) {
      for (int c = 0; c < dim; c++)
        yb[c] = -INFINITY;
      continue;
    }
    memcpy (yb, xb, (gsize) dim * sizeof (float));
    for (int t = 1; t < len; t++) {
      const float *xt = xb + (gsize) t * dim;
      for (int c = 0; c < dim; c++)
        yb[c] = xt[c] > yb[c] ? xt[c] : yb[c];
    }
  }
}

void
hart_cpu_max_over_rows (HartBackend * be, float *y, const float *x,
    int batch, int len, int dim)
{
  RowsArgs A = {.y = y,.x = x,.len = len,.dim = dim };

  if (batch <= 0)
    return;
  hart_cpu_parallel_for (be, batch, hart_cpu_grain (be, batch,
          (gsize) batch * len * dim), max_over_rows_range, &A);
}

static void
embedding_range (gsize i0, gsize i1, gpointer data)
{
  const RowsArgs *A = data;

  for (gsize i = i0; i < i1; i++)
    memcpy (A->y + i * A->dim, A->x + (gsize) A->ids[i] * A->dim,
        (gsize) A->dim * sizeof (float));
}

void
hart_cpu_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim)
{
  RowsArgs A = {.y = y,.x = table,.ids = ids,.dim = dim };

  if (n <= 0)
    return;
  hart_cpu_parallel_for (be, n, hart_cpu_grain (be, n, (gsize) n * dim),
      embedding_range, &A);
}
