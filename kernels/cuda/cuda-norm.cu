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

#include <string.h>

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

/* A normalised value v of channel c: the affine (weight, bias may be
 * NULL), then silu for group_norm_silu_half; both group norm paths */
template < bool SILU > static __device__ __forceinline__ float
group_norm_value (float v, const float *weight, const float *bias, int c)
{
  if (weight != NULL)
    v *= weight[c];
  if (bias != NULL)
    v += bias[c];
  if (SILU)
    v = v / (1.0f + expf (-v));
  return v;
}

/* group_norm over x, y [batch, channels, hw] (NCHW): group g of batch item
 * b is the contiguous run of (channels / groups) * hw values starting at
 * channel g * channels / groups; normalised with its own mean and variance,
 * then y = v * weight[c] + bias[c] (and silu for group_norm_silu_half).
 * One block per (b, g): grid (groups, batch).  The kernel in use (checked
 * on an H200); at 1024² the decoder's 32 groups are 32 blocks, 0.25 s of
 * the generation (docs/performance.md), which the split kernels below are
 * to fix. */
template < bool SILU > static __global__ void
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
    yg[i] = group_norm_value < SILU > ((xg[i] - mean) * rstd, weight, bias,
        c);
  }
}

/* The candidate (HART_CUDA_GROUP_NORM=split), not yet run on a GPU: the
 * same in two kernels, so that the decoder's few large groups (32 groups of up
 * to 4 M values at 1024²) fill the GPU rather than 32 blocks: the first
 * sums each group's values and squares in double, GROUP_NORM_CHUNK values
 * per block, into stats[2 (b·groups + g)] by atomic adds; the second
 * normalises one value per thread.  Double sums make E[x²] − mean² as
 * accurate as the two-pass fp32 formula (and the sum's order, which atomics
 * leave open, moves it by double roundings only: ±1 ulp of fp32 at most
 * after the conversion). */
#define GROUP_NORM_CHUNK 16384

static __global__ void
group_stats_kernel (double *stats, const float *x, gsize n)
{
  __shared__ double shared[2][32];
  const float *xg = x + (gsize) blockIdx.y * n;
  gsize start = (gsize) blockIdx.x * GROUP_NORM_CHUNK;
  gsize end = MIN (start + GROUP_NORM_CHUNK, n);
  double sum = 0.0, sumsq = 0.0;
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  for (gsize i = start + threadIdx.x; i < end; i += blockDim.x) {
    double v = xg[i];
    sum += v;
    sumsq += v * v;
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    sum += __shfl_xor_sync (0xffffffffu, sum, offset);
    sumsq += __shfl_xor_sync (0xffffffffu, sumsq, offset);
  }
  if (lane == 0) {
    shared[0][warp] = sum;
    shared[1][warp] = sumsq;
  }
  __syncthreads ();
  if (threadIdx.x == 0) {
    for (int w = 1; w < (int) (blockDim.x >> 5); w++) {
      sum += shared[0][w];
      sumsq += shared[1][w];
    }
    atomicAdd (&stats[2 * blockIdx.y], sum);
    atomicAdd (&stats[2 * blockIdx.y + 1], sumsq);
  }
}

template < bool SILU > static __global__ void
group_norm_apply_kernel (float *y, const float *x, const double *stats,
    const float *weight, const float *bias, int channels, int hw, int groups,
    float eps, gsize total)
{
  int channels_per_group = channels / groups;
  double n = (double) channels_per_group * hw;

  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    int c = (int) (i / hw % channels);
    gsize bg = i / ((gsize) channels_per_group * hw);   /* b · groups + g */
    double mean_d = stats[2 * bg] / n;
    float mean = (float) mean_d;
    float var = (float) fmax (stats[2 * bg + 1] / n - mean_d * mean_d, 0.0);
    float rstd = 1.0f / sqrtf (var + eps);

    y[i] = group_norm_value < SILU > ((x[i] - mean) * rstd, weight, bias, c);
  }
}

template < bool SILU > static void
group_norm_split (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps, const char *what)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  gsize n = (gsize) (channels / groups) * hw;
  gsize n_stats = (gsize) 2 * batch * groups;
  gsize total = (gsize) batch * channels * hw;
  gsize chunks = (n + GROUP_NORM_CHUNK - 1) / GROUP_NORM_CHUNK;
  double *stats;

  if ((gsize) batch * groups > 65535 || chunks > G_MAXINT32) {
    hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
        "%s: unsupported shape (batch %d, groups %d, %" G_GSIZE_FORMAT
        " values a group)", what, batch, groups, n);
    return;
  }
  if (n_stats > priv->norm_stats_count) {
    if (priv->norm_stats != NULL)
      cudaFree (priv->norm_stats);  /* waits for queued readers */
    priv->norm_stats = NULL;
    priv->norm_stats_count = 0;
    if (!hart_cuda_check_status (be, cudaMalloc ((void **) &priv->norm_stats,
                n_stats * sizeof (double)), what))
      return;
    priv->norm_stats_count = n_stats;
  }
  stats = priv->norm_stats;
  if (!hart_cuda_check_status (be, cudaMemsetAsync (stats, 0,
              n_stats * sizeof (double), priv->stream), what))
    return;
  group_stats_kernel <<< dim3 ((unsigned) chunks, batch * groups),
      HART_CUDA_BLOCK, 0, priv->stream >>> (stats, x, n);
  if (!hart_cuda_check (be, what))
    return;
  group_norm_apply_kernel < SILU > <<< hart_cuda_grid_for (total),
      HART_CUDA_BLOCK, 0, priv->stream >>> (y, x, stats, weight, bias,
      channels, hw, groups, eps, total);
  hart_cuda_check (be, what);
}

/* Which kernels run: HART_CUDA_GROUP_NORM=split the candidate, anything
 * else the one-block-a-group kernel (read at every call, so that the op
 * harness can run both in one process). */
template < bool SILU > static void
group_norm_run (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps, const char *what)
{
  const char *env = g_getenv ("HART_CUDA_GROUP_NORM");

  if (batch <= 0 || channels <= 0 || hw <= 0 || groups <= 0
      || channels % groups != 0 || !hart_cuda_enter (be))
    return;
  if (env != NULL && strcmp (env, "split") == 0) {
    group_norm_split < SILU > (be, y, x, weight, bias, batch, channels, hw,
        groups, eps, what);
    return;
  }
  if (groups > 65535 || batch > 65535) {
    hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
        "%s: unsupported shape (batch %d, groups %d)", what, batch, groups);
    return;
  }
  group_norm_kernel < SILU > <<< dim3 (groups, batch), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, x, weight, bias, channels, hw,
      groups, eps);
  hart_cuda_check (be, what);
}

void
hart_cuda_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  group_norm_run < false > (be, y, x, weight, bias, batch, channels, hw,
      groups, eps, "group_norm");
}

/* group_norm then silu in one pass over y (backend.h) */
void
hart_cuda_group_norm_silu_half (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  group_norm_run < true > (be, y, x, weight, bias, batch, channels, hw,
      groups, eps, "group_norm_silu_half");
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
