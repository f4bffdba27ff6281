/* gst-hart — CPU backend: normalisations, modulation, RoPE, softmax
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Statistics (means, variances, sums of squares) are accumulated in double
 * and rounded once to fp32: the result is then within an ulp of the exact
 * value whatever the row length, which makes this backend a stable
 * reference for the fp32-accumulating GPU kernels.
 */
#include "cpu-private.h"

/* Rows are independent: each op below computes a row (or a group) the same
 * way whichever thread runs it, and splits its rows across the backend's
 * threads when there is enough work (hart_cpu_grain). */

typedef struct
{
  float *y;
  const float *x, *weight, *bias, *cos, *sin;
  int64_t dim, per, stride_a, stride_b, stride_c;
  int groups;
  float eps;
} RowArgs;

static void
layer_norm_rows (gsize r0, gsize r1, gpointer data)
{
  const RowArgs *A = data;
  const float *x = A->x, *weight = A->weight, *bias = A->bias;
  float *y = A->y;
  const int dim = (int) A->dim;
  const float eps = A->eps;

  for (gsize r = r0; r < r1; r++) {
    const float *xr = x + r * dim;
    float *yr = y + r * dim;
    double sum = 0.0, sq = 0.0;
    float mean, rstd;

    for (int c = 0; c < dim; c++)
      sum += xr[c];
    mean = (float) (sum / dim);
    /* two-pass variance (biased, as torch.nn.LayerNorm) */
    for (int c = 0; c < dim; c++) {
      double dv = (double) xr[c] - mean;
      sq += dv * dv;
    }
    rstd = (float) (1.0 / sqrt (sq / dim + eps));
    for (int c = 0; c < dim; c++) {
      float v = (xr[c] - mean) * rstd;
      if (weight)
        v *= weight[c];
      if (bias)
        v += bias[c];
      yr[c] = v;
    }
  }
}

void
hart_cpu_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps)
{
  RowArgs A = {.y = y,.x = x,.weight = weight,.bias = bias,.dim = dim,
    .eps = eps
  };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * (gsize) dim), layer_norm_rows, &A);
}

static void
rms_norm_rows (gsize r0, gsize r1, gpointer data)
{
  const RowArgs *A = data;
  const float *x = A->x, *weight = A->weight;
  float *y = A->y;
  const int dim = (int) A->dim;
  const float eps = A->eps;

  for (gsize r = r0; r < r1; r++) {
    const float *xr = x + r * dim;
    float *yr = y + r * dim;
    double sq = 0.0;
    float rinv;

    for (int c = 0; c < dim; c++)
      sq += (double) xr[c] * xr[c];
    /* docs/algorithm.md §5.1: y = (x · r) · w, r = 1 / sqrt(Σx² / C + eps) */
    rinv = 1.0f / sqrtf ((float) (sq / dim) + eps);
    if (weight)
      for (int c = 0; c < dim; c++)
        yr[c] = (xr[c] * rinv) * weight[c];
    else
      for (int c = 0; c < dim; c++)
        yr[c] = xr[c] * rinv;
  }
}

void
hart_cpu_rms_norm (HartBackend * be, float *y, const float *x,
    const float *weight, int rows, int dim, float eps)
{
  RowArgs A = {.y = y,.x = x,.weight = weight,.dim = dim,.eps = eps };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * (gsize) dim), rms_norm_rows, &A);
}

static void
modulate_rows (gsize r0, gsize r1, gpointer data)
{
  const RowArgs *A = data;
  /* x is modulated in place (y); weight = scale, bias = shift */
  const float *scale = A->weight, *shift = A->bias;
  float *x = A->y;
  const int64_t dim = A->dim, rows_per_batch = A->per;
  const int64_t mod_stride = A->stride_a;

  for (int64_t r = (int64_t) r0; r < (int64_t) r1; r++) {
    const int64_t b = r / rows_per_batch;
    const float *sc = scale + b * mod_stride;
    const float *sh = shift + b * mod_stride;
    float *xr = x + r * dim;
    for (int c = 0; c < dim; c++)
      xr[c] = xr[c] * (1.0f + sc[c]) + sh[c];
  }
}

void
hart_cpu_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim)
{
  const int64_t rows = (int64_t) batch * rows_per_batch;
  RowArgs A = {.y = x,.weight = scale,.bias = shift,.dim = dim,
    .per = rows_per_batch,.stride_a = mod_stride
  };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * (gsize) dim), modulate_rows, &A);
}

static void
group_norm_tasks (gsize t0, gsize t1, gpointer data)
{
  const RowArgs *A = data;
  const float *x = A->x, *weight = A->weight, *bias = A->bias;
  float *y = A->y;
  const int groups = A->groups, per_group = (int) A->per;
  const int hw = (int) A->dim;
  const gsize group_len = (gsize) per_group * hw;
  const float eps = A->eps;

  for (gsize t = t0; t < t1; t++) {
    const int g = (int) (t % groups);
    const float *xg = x + t * group_len;
    float *yg = y + t * group_len;
    double sum = 0.0, sq = 0.0;
    float mean, rstd;

    for (gsize i = 0; i < group_len; i++)
      sum += xg[i];
    mean = (float) (sum / group_len);
    for (gsize i = 0; i < group_len; i++) {
      double dv = (double) xg[i] - mean;
      sq += dv * dv;
    }
    rstd = (float) (1.0 / sqrt (sq / group_len + eps));

    for (int cg = 0; cg < per_group; cg++) {
      const int c = g * per_group + cg;
      /* fold normalisation and affine into one multiply-add per element */
      const float a = rstd * (weight ? weight[c] : 1.0f);
      const float off = (bias ? bias[c] : 0.0f) - mean * a;
      const float *xc = xg + (gsize) cg * hw;
      float *yc = yg + (gsize) cg * hw;
      for (int i = 0; i < hw; i++)
        yc[i] = xc[i] * a + off;
    }
  }
}

void
hart_cpu_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels,
    int hw, int groups, float eps)
{
  const int per_group = channels / groups;
  const int n_tasks = batch * groups;
  /* one group = per_group consecutive channel planes = one contiguous run */
  const gsize group_len = (gsize) per_group * hw;
  RowArgs A = {.y = y,.x = x,.weight = weight,.bias = bias,.dim = hw,
    .per = per_group,.groups = groups,.eps = eps
  };

  if (n_tasks <= 0)
    return;
  /* few, large tasks: one per chunk */
  hart_cpu_parallel_for (be, n_tasks, (gsize) n_tasks * group_len >=
      HART_CPU_PARALLEL_MIN ? 1 : (gsize) n_tasks, group_norm_tasks, &A);
}

static void
rope_rows (gsize r0, gsize r1, gpointer data)
{
  const RowArgs *A = data;
  const float *cos = A->cos, *sin = A->sin;
  float *x = A->y;
  const int head_dim = (int) A->dim, heads = A->groups, h2 = head_dim / 2;
  const int64_t len = A->per, batch_stride = A->stride_a;
  const int64_t row_stride = A->stride_b, table_batch_stride = A->stride_c;

  for (int64_t r = (int64_t) r0; r < (int64_t) r1; r++) {
    const int64_t b = r / len, t = r % len;
    const float *cr = cos + b * table_batch_stride + t * head_dim;
    const float *sr = sin + b * table_batch_stride + t * head_dim;
    float *xr = x + b * batch_stride + t * row_stride;

    for (int h = 0; h < heads; h++) {
      float *xh = xr + (gsize) h * head_dim;
      for (int d = 0; d < h2; d++) {
        float lo = xh[d], hi = xh[d + h2];
        xh[d] = lo * cr[d] - hi * sr[d];
        xh[d + h2] = hi * cr[d + h2] + lo * sr[d + h2];
      }
    }
  }
}

void
hart_cpu_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim)
{
  const int64_t rows = (int64_t) batch * len;
  RowArgs A = {.y = x,.cos = cos,.sin = sin,.dim = head_dim,.groups = heads,
    .per = len,.stride_a = batch_stride,.stride_b = row_stride,
    .stride_c = table_batch_stride
  };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * heads * head_dim), rope_rows, &A);
}

static void
softmax_rows (gsize r0, gsize r1, gpointer data)
{
  const RowArgs *A = data;
  float *x = A->y;
  const int n = (int) A->dim;

  for (gsize r = r0; r < r1; r++) {
    float *xr = x + r * n;
    float max = -INFINITY, sum = 0.0f;

    for (int j = 0; j < n; j++)
      max = xr[j] > max ? xr[j] : max;
    if (max == -INFINITY) {
      /* every entry masked: an all-zero row rather than 0/0 */
      memset (xr, 0, (gsize) n * sizeof (float));
      continue;
    }
    for (int j = 0; j < n; j++) {
      xr[j] = expf (xr[j] - max);
      sum += xr[j];
    }
    /* divide (as torch does) rather than multiply by 1/sum: the sampler's
     * exponential race compares these probabilities */
    for (int j = 0; j < n; j++)
      xr[j] /= sum;
  }
}

void
hart_cpu_softmax (HartBackend * be, float *x, int rows, int n)
{
  RowArgs A = {.y = x,.dim = n };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * (gsize) n), softmax_rows, &A);
}
