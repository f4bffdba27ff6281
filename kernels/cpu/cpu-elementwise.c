/* gst-hart — CPU backend: activations, elementwise arithmetic, lookups
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every loop here is memory-bound; it is split across threads only when it
 * is long enough to pay for the parallel region.
 */
#include "cpu-private.h"

#define ELEMENTWISE(n, body) \
  G_STMT_START { \
    gsize n_ = (n); \
    _Pragma ("omp parallel for num_threads (be->n_threads) schedule (static) if (n_ >= HART_CPU_PARALLEL_MIN)") \
    for (gsize i = 0; i < n_; i++) { \
      body; \
    } \
  } G_STMT_END

void
hart_cpu_fill (HartBackend * be, float *dst, float value, gsize n)
{
  ELEMENTWISE (n, dst[i] = value);
}

static inline float
silu1 (float v)
{
  return v / (1.0f + expf (-v));
}

void
hart_cpu_silu (HartBackend * be, float *y, const float *x, gsize n)
{
  ELEMENTWISE (n, y[i] = silu1 (x[i]));
}

void
hart_cpu_gelu (HartBackend * be, float *y, const float *x, gsize n)
{
  /* exact GELU: x · Φ(x) = 0.5 x (1 + erf(x / √2)) */
  ELEMENTWISE (n, y[i] =
      0.5f * x[i] * (1.0f + erff (x[i] * (float) M_SQRT1_2)));
}

void
hart_cpu_gelu_tanh (HartBackend * be, float *y, const float *x, gsize n)
{
  /* torch gelu(approximate="tanh"): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) */
  const float k = 0.7978845608028654f;
  ELEMENTWISE (n, {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf (k * (v + 0.044715f * v * v * v)));
      });
}

void
hart_cpu_swiglu (HartBackend * be, float *y, const float *gate,
    const float *up, gsize n)
{
  ELEMENTWISE (n, y[i] = silu1 (gate[i]) * up[i]);
}

void
hart_cpu_add (HartBackend * be, float *y, const float *a, const float *b,
    gsize n)
{
  ELEMENTWISE (n, y[i] = a[i] + b[i]);
}

void
hart_cpu_mul (HartBackend * be, float *y, const float *a, const float *b,
    gsize n)
{
  ELEMENTWISE (n, y[i] = a[i] * b[i]);
}

void
hart_cpu_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n)
{
  ELEMENTWISE (n, y[i] = alpha * a[i] + beta * b[i]);
}

void
hart_cpu_scale (HartBackend * be, float *y, const float *x, float alpha,
    gsize n)
{
  ELEMENTWISE (n, y[i] = alpha * x[i]);
}

void
hart_cpu_add_row_vector (HartBackend * be, float *x, const float *v,
    int rows, int dim)
{
#pragma omp parallel for num_threads (be->n_threads) schedule (static) \
    if ((gsize) rows * dim >= HART_CPU_PARALLEL_MIN)
  for (int r = 0; r < rows; r++) {
    float *xr = x + (gsize) r * dim;
    for (int c = 0; c < dim; c++)
      xr[c] += v[c];
  }
}

void
hart_cpu_clamp (HartBackend * be, float *y, const float *x, float lo,
    float hi, gsize n)
{
  /* NaN stays NaN (as torch.clamp) */
  ELEMENTWISE (n, {
        float v = x[i];
        y[i] = v < lo ? lo : (v > hi ? hi : v);
      });
}

void
hart_cpu_max_over_rows (HartBackend * be, float *y, const float *x,
    int batch, int len, int dim)
{
#pragma omp parallel for num_threads (be->n_threads) schedule (static) \
    if ((gsize) batch * len * dim >= HART_CPU_PARALLEL_MIN)
  for (int b = 0; b < batch; b++) {
    const float *xb = x + (gsize) b * len * dim;
    float *yb = y + (gsize) b * dim;
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
hart_cpu_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim)
{
#pragma omp parallel for num_threads (be->n_threads) schedule (static) \
    if ((gsize) n * dim >= HART_CPU_PARALLEL_MIN)
  for (int i = 0; i < n; i++)
    memcpy (y + (gsize) i * dim, table + (gsize) ids[i] * dim,
        (gsize) dim * sizeof (float));
}
