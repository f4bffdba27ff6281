/* gst-hart — CUDA backend: normalisations and row reductions (fp32)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One block of HART_CUDA_BLOCK threads per row (or per group): each thread
 * accumulates a strided part of the row, then a warp-shuffle block
 * reduction combines the partial sums.  Statistics are two-pass (mean, then
 * the mean of squared deviations), like the CPU backend, never E[x²]-E[x]².
 */
#include "cuda-private.cuh"

/* layer_norm: y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * w + b for
 * x, y [rows, dim]; weight/bias [dim] or NULL.  Grid: one block per row. */
static __global__ void
layer_norm_kernel (float *y, const float *x, const float *weight,
    const float *bias, int dim, float eps)
{
  __shared__ float shared[32];
  const float *xr = x + (gsize) blockIdx.x * dim;
  float *yr = y + (gsize) blockIdx.x * dim;
  float sum = 0.0f, mean, var, rstd;

  for (int i = threadIdx.x; i < dim; i += blockDim.x)
    sum += xr[i];
  mean = hart_block_sum (sum, shared) / (float) dim;
  sum = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float d = xr[i] - mean;
    sum += d * d;
  }
  var = hart_block_sum (sum, shared) / (float) dim;
  rstd = 1.0f / sqrtf (var + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = (xr[i] - mean) * rstd;
    if (weight != NULL)
      v *= weight[i];
    if (bias != NULL)
      v += bias[i];
    yr[i] = v;
  }
}

void
hart_cuda_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps)
{
  if (rows <= 0 || dim <= 0 || !hart_cuda_enter (be))
    return;
  layer_norm_kernel <<< rows, HART_CUDA_BLOCK, 0, hart_cuda_priv (be)->stream
      >>> (y, x, weight, bias, dim, eps);
  hart_cuda_check (be, "layer_norm");
}

/* rms_norm: y[r, c] = (x[r, c] * r) * w[c], r = 1 / sqrt(Σ x² / dim + eps)
 * (docs/algorithm.md §5.1) for x, y [rows, dim]; weight [dim] or NULL.  One block per
 * row. */
static __global__ void
rms_norm_kernel (float *y, const float *x, const float *weight, int dim,
    float eps)
{
  __shared__ float shared[32];
  const float *xr = x + (gsize) blockIdx.x * dim;
  float *yr = y + (gsize) blockIdx.x * dim;
  float sum = 0.0f, r;

  for (int i = threadIdx.x; i < dim; i += blockDim.x)
    sum += xr[i] * xr[i];
  r = 1.0f / sqrtf (hart_block_sum (sum, shared) / (float) dim + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = xr[i] * r;
    yr[i] = weight != NULL ? v * weight[i] : v;
  }
}

void
hart_cuda_rms_norm (HartBackend * be, float *y, const float *x,
    const float *weight, int rows, int dim, float eps)
{
  if (rows <= 0 || dim <= 0 || !hart_cuda_enter (be))
    return;
  rms_norm_kernel <<< rows, HART_CUDA_BLOCK, 0, hart_cuda_priv (be)->stream
      >>> (y, x, weight, dim, eps);
  hart_cuda_check (be, "rms_norm");
}

/* modulate, in place: x[b, t, c] = x * (1 + scale[b*mod_stride + c])
 *                                   + shift[b*mod_stride + c]
 * for x [batch, rows_per_batch, dim].  One thread per element. */
static __global__ void
modulate_kernel (float *x, const float *scale, const float *shift,
    int64_t mod_stride, gsize rows_per_batch, int dim, gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize b = i / (rows_per_batch * dim);
    gsize c = i % dim;
    gsize m = b * mod_stride + c;
    x[i] = x[i] * (1.0f + scale[m]) + shift[m];
  }
}

void
hart_cuda_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim)
{
  gsize total = (gsize) batch * rows_per_batch * dim;

  if (total == 0 || batch < 0 || rows_per_batch < 0 || dim < 0
      || !hart_cuda_enter (be))
    return;
  modulate_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (x, scale, shift, mod_stride,
      (gsize) rows_per_batch, dim, total);
  hart_cuda_check (be, "modulate");
}

/* group_norm over x, y [batch, channels, hw] (NCHW): group g of batch item
 * b is the contiguous run of (channels / groups) * hw values starting at
 * channel g * channels / groups; normalised with its own mean and variance,
 * then y = v * weight[c] + bias[c].  One block per (b, g): grid (groups,
 * batch). */
static __global__ void
group_norm_kernel (float *y, const float *x, const float *weight,
    const float *bias, int channels, int hw, int groups, float eps)
{
  __shared__ float shared[32];
  int channels_per_group = channels / groups;
  gsize n = (gsize) channels_per_group * hw;
  gsize offset = ((gsize) blockIdx.y * channels
      + (gsize) blockIdx.x * channels_per_group) * hw;
  const float *xg = x + offset;
  float *yg = y + offset;
  float sum = 0.0f, mean, var, rstd;

  for (gsize i = threadIdx.x; i < n; i += blockDim.x)
    sum += xg[i];
  mean = hart_block_sum (sum, shared) / (float) n;
  sum = 0.0f;
  for (gsize i = threadIdx.x; i < n; i += blockDim.x) {
    float d = xg[i] - mean;
    sum += d * d;
  }
  var = hart_block_sum (sum, shared) / (float) n;
  rstd = 1.0f / sqrtf (var + eps);
  for (gsize i = threadIdx.x; i < n; i += blockDim.x) {
    int c = blockIdx.x * channels_per_group + (int) (i / hw);
    float v = (xg[i] - mean) * rstd;
    if (weight != NULL)
      v *= weight[c];
    if (bias != NULL)
      v += bias[c];
    yg[i] = v;
  }
}

void
hart_cuda_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  if (batch <= 0 || channels <= 0 || hw <= 0 || groups <= 0
      || channels % groups != 0 || !hart_cuda_enter (be))
    return;
  group_norm_kernel <<< dim3 (groups, batch), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, x, weight, bias, channels, hw,
      groups, eps);
  hart_cuda_check (be, "group_norm");
}

/* softmax in place over each row of x [rows, n]: x = exp(x - max) / Σ.
 * -inf entries become 0; a row that is entirely -inf becomes all zeros
 * (nothing to normalise; the same rule as a fully masked attention row).
 * One block per row. */
static __global__ void
softmax_kernel (float *x, int n)
{
  __shared__ float shared[32];
  float *xr = x + (gsize) blockIdx.x * n;
  float max = -INFINITY, sum = 0.0f;

  for (int i = threadIdx.x; i < n; i += blockDim.x)
    max = fmaxf (max, xr[i]);
  max = hart_block_max (max, shared);
  if (max == -INFINITY) {
    for (int i = threadIdx.x; i < n; i += blockDim.x)
      xr[i] = 0.0f;
    return;
  }
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    float e = expf (xr[i] - max);
    xr[i] = e;
    sum += e;
  }
  /* divide rather than multiply by 1/sum, as torch and the CPU backend
   * do: the sampler's exponential race compares these probabilities */
  sum = hart_block_sum (sum, shared);
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    xr[i] /= sum;
}

void
hart_cuda_softmax (HartBackend * be, float *x, int rows, int n)
{
  if (rows <= 0 || n <= 0 || !hart_cuda_enter (be))
    return;
  softmax_kernel <<< rows, HART_CUDA_BLOCK, 0, hart_cuda_priv (be)->stream
      >>> (x, n);
  hart_cuda_check (be, "softmax");
}

/* y[b, c] = max over t of x[b, t, c] for x [batch, len, dim]: one thread
 * per (b, c), reading down the column (coalesced across c). */
static __global__ void
max_over_rows_kernel (float *y, const float *x, int len, int dim,
    gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize b = i / dim, c = i % dim;
    const float *col = x + b * (gsize) len * dim + c;
    float max = col[0];
    for (int t = 1; t < len; t++)
      max = fmaxf (max, col[(gsize) t * dim]);
    y[i] = max;
  }
}

void
hart_cuda_max_over_rows (HartBackend * be, float *y, const float *x,
    int batch, int len, int dim)
{
  gsize total = (gsize) batch * dim;

  if (batch <= 0 || len <= 0 || dim <= 0 || !hart_cuda_enter (be))
    return;
  max_over_rows_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, x, len, dim, total);
  hart_cuda_check (be, "max_over_rows");
}
