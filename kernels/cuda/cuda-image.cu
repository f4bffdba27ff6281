/* gst-hart — CUDA backend: image ops on NCHW tensors (fp32; conv2d also bf16)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * conv2d is im2col + one cuBLAS GEMM per band of output rows; the resize
 * kernels compute one output value per thread with the exact formulas and
 * summation order of docs/algorithm.md §8.2–§8.3 (the same as the CPU backend), so the two
 * backends agree to an ulp or two.
 */
#include "cuda-private.cuh"

/* ---- conv2d ---- */

/* im2col for one batch item and one band of output rows:
 *   col[(ci·k + ky)·k + kx, (r - row0)·out_w + c]
 *     = x[ci, r + ky - pad, c + kx - pad]   (0 outside the image)
 * for r in [row0, row0 + n_rows), c < out_w.
 * x [cin, height, width]; col [cin·k·k, n_rows·out_w], fp32 or bf16. */
template < typename T > static __global__ void
im2col_kernel (T *col, const float *x, int cin, int height, int width,
    int k, int pad, int out_w, int row0, int n_rows, gsize total)
{
  gsize band = (gsize) n_rows * out_w;

  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize kk = i / band, pos = i % band;
    int kx = (int) (kk % k), ky = (int) (kk / k % k), ci = (int) (kk / k / k);
    int r = row0 + (int) (pos / out_w), c = (int) (pos % out_w);
    int sy = r + ky - pad, sx = c + kx - pad;

    hart_cuda_store (col, i, sy >= 0 && sy < height && sx >= 0 && sx < width ?
        x[((gsize) ci * height + sy) * width + sx] : 0.0f);
  }
}

/* y[b, c, p] += bias[c] for y [batch, cout, plane]. */
static __global__ void
add_channel_bias_kernel (float *y, const float *bias, int cout, gsize plane,
    gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x)
    y[i] += bias[i / plane % cout];
}

/* both convolutions' epilogue */
static void
add_channel_bias (HartBackend * be, const HartConv2dParams * p,
    gsize out_plane, const char *what)
{
  gsize total = (gsize) p->batch * p->cout * out_plane;

  add_channel_bias_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (p->y, p->bias, p->cout, out_plane,
      total);
  hart_cuda_check (be, what);
}

/* y [batch, cout, out_h, out_w] = conv(x [batch, cin, height, width],
 * w [cout, cin, k, k]) + bias, stride 1, zero padding pad, so out_h =
 * height + 2 pad - k + 1.  Per batch item, as a row-major GEMM
 *   y_b [cout, out_h·out_w] = w [cout, cin·k·k] · col [cin·k·k, out_h·out_w].
 * The im2col matrix of a whole 1024×1024 image with 128 channels would take
 * 4.8 GB, so it is built for a band of output rows at a time, at most
 * im2col_limit_bytes (64 MiB by default) per band, in the backend's scratch
 * buffer; the GEMM writes the band's columns of y_b in place (ldc =
 * out_h·out_w).  A 1×1 convolution without padding reads x directly. */
void
hart_cuda_conv2d (HartBackend * be, const HartConv2dParams * p)
{
  float *const y = p->y;
  const float *const x = p->x, *const w = p->w, *const bias = p->bias;
  const int batch = p->batch, cin = p->cin, height = p->height;
  const int width = p->width, cout = p->cout, k = p->k, pad = p->pad;
  HartCudaBackend *priv = hart_cuda_priv (be);
  int out_h = height + 2 * pad - k + 1, out_w = width + 2 * pad - k + 1;
  int kdim = cin * k * k;
  gsize out_plane = (gsize) out_h * out_w;
  gsize in_image = (gsize) cin * height * width;
  gsize row_bytes, band_rows;
  float *col = NULL;

  if (batch <= 0 || cin <= 0 || cout <= 0 || k <= 0 || pad < 0
      || out_h <= 0 || out_w <= 0 || !hart_cuda_enter (be))
    return;

  row_bytes = (gsize) kdim * out_w * sizeof (float);
  band_rows = MAX (priv->im2col_limit_bytes / row_bytes, 1);
  band_rows = MIN (band_rows, (gsize) out_h);
  if (!(k == 1 && pad == 0)) {
    col = hart_cuda_scratch (be, band_rows * row_bytes);
    if (col == NULL)
      return;
  }

  for (int b = 0; b < batch; b++) {
    const float *xb = x + b * in_image;
    float *yb = y + b * (gsize) cout * out_plane;

    if (col == NULL) {
      /* 1×1, no padding: x_b [cin, height·width] is already the matrix */
      hart_cuda_gemm (be, FALSE, FALSE, cout, (int) out_plane, cin, 1.0f, w,
          cin, xb, (int) out_plane, 0.0f, yb, (int) out_plane);
      continue;
    }
    for (int row0 = 0; row0 < out_h; row0 += (int) band_rows) {
      int n_rows = MIN ((int) band_rows, out_h - row0);
      int n_cols = n_rows * out_w;
      gsize total = (gsize) kdim * n_cols;

      im2col_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
          priv->stream >>> (col, xb, cin, height, width, k, pad, out_w, row0,
          n_rows, total);
      if (!hart_cuda_check (be, "conv2d (im2col)"))
        return;
      hart_cuda_gemm (be, FALSE, FALSE, cout, n_cols, kdim, 1.0f, w, kdim,
          col, n_cols, 0.0f, yb + (gsize) row0 * out_w, (int) out_plane);
    }
  }

  if (bias != NULL)
    add_channel_bias (be, p, out_plane, "conv2d (bias)");
}

/* conv2d with x and w rounded to bf16, fp32 sums (backend.h): conv2d's
 * bands with a bf16 im2col matrix, and the weights rounded once per call
 * into the front of the scratch buffer (the decoder's largest, 512 × 4608,
 * is 4.7 MB), then cublasGemmEx on the tensor cores.  The 1×1 case goes
 * through im2col too: x itself has to be rounded somewhere. */
void
hart_cuda_conv2d_half (HartBackend * be, const HartConv2dParams * p)
{
  const int batch = p->batch, cin = p->cin, height = p->height;
  const int width = p->width, cout = p->cout, k = p->k, pad = p->pad;
  HartCudaBackend *priv = hart_cuda_priv (be);
  int out_h = height + 2 * pad - k + 1, out_w = width + 2 * pad - k + 1;
  int kdim = cin * k * k;
  gsize out_plane = (gsize) out_h * out_w;
  gsize in_image = (gsize) cin * height * width;
  gsize w_elems = (gsize) cout * kdim, w_bytes, row_bytes, band_rows;
  const float one = 1.0f, zero = 0.0f;
  uint16_t *w_half, *col;

  if (batch <= 0 || cin <= 0 || cout <= 0 || k <= 0 || pad < 0
      || out_h <= 0 || out_w <= 0 || !hart_cuda_enter (be))
    return;

  w_bytes = (w_elems * 2 + 255) / 256 * 256;
  row_bytes = (gsize) kdim * out_w * 2;
  band_rows = MAX (priv->im2col_limit_bytes / row_bytes, 1);
  band_rows = MIN (band_rows, (gsize) out_h);
  w_half = (uint16_t *) hart_cuda_scratch (be, w_bytes + band_rows * row_bytes);
  if (w_half == NULL)
    return;
  col = (uint16_t *) ((char *) w_half + w_bytes);
  if (!hart_cuda_round_bf16 (be, w_half, p->w, w_elems,
          "conv2d_half (weights)"))
    return;

  for (int b = 0; b < batch; b++) {
    const float *xb = p->x + b * in_image;
    float *yb = p->y + b * (gsize) cout * out_plane;

    for (int row0 = 0; row0 < out_h; row0 += (int) band_rows) {
      int n_rows = MIN ((int) band_rows, out_h - row0);
      int n_cols = n_rows * out_w;
      gsize total = (gsize) kdim * n_cols;

      im2col_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
          priv->stream >>> (col, xb, cin, height, width, k, pad, out_w, row0,
          n_rows, total);
      if (!hart_cuda_check (be, "conv2d_half (im2col)"))
        return;
      /* row-major y_b [cout, n_cols] = w [cout, kdim] · col [kdim, n_cols]
       * (cuda-gemm.cu's column-major reading) */
      if (!hart_cuda_check_cublas (be, cublasGemmEx (priv->cublas,
                  CUBLAS_OP_N, CUBLAS_OP_N, n_cols, cout, kdim, &one, col,
                  CUDA_R_16BF, n_cols, w_half, CUDA_R_16BF, kdim, &zero,
                  yb + (gsize) row0 * out_w, CUDA_R_32F, (int) out_plane,
                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              "conv2d_half (cublasGemmEx bf16)"))
        return;
    }
  }

  if (p->bias != NULL)
    add_channel_bias (be, p, out_plane, "conv2d_half (bias)");
}

/* ---- resampling ---- */

/* y[p, 2h + i, 2w + j] = x[p, h, w] over planes p = batch·channels; one
 * thread per output value. */
static __global__ void
upsample_nearest2x_kernel (float *y, const float *x, int height, int width,
    gsize total)
{
  int out_w = 2 * width;
  gsize out_plane = (gsize) 4 * height * width;

  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize p = i / out_plane, pos = i % out_plane;
    int oy = (int) (pos / out_w), ox = (int) (pos % out_w);
    y[i] = x[(p * height + oy / 2) * width + ox / 2];
  }
}

void
hart_cuda_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width)
{
  gsize total = (gsize) batch * channels * 4 * height * width;

  if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0
      || !hart_cuda_enter (be))
    return;
  upsample_nearest2x_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK,
      0, hart_cuda_priv (be)->stream >>> (y, x, height, width, total);
  hart_cuda_check (be, "upsample_nearest2x");
}

/* Cubic convolution weights of PyTorch (A = -0.75) for the fraction t:
 *   w0 = ((A(t+1) - 5A)(t+1) + 8A)(t+1) - 4A
 *   w1 = ((A+2)t - (A+3)) t t + 1
 *   w2 = ((A+2)(1-t) - (A+3)) (1-t)(1-t) + 1
 *   w3 = ((A((1-t)+1) - 5A)((1-t)+1) + 8A)((1-t)+1) - 4A  */
static __device__ __forceinline__ void
cubic_weights (float t, float w[4])
{
  const float A = -0.75f;
  float t1 = t + 1.0f, s = 1.0f - t, s1 = s + 1.0f;

  w[0] = ((A * t1 - 5.0f * A) * t1 + 8.0f * A) * t1 - 4.0f * A;
  w[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
  w[2] = ((A + 2.0f) * s - (A + 3.0f)) * s * s + 1.0f;
  w[3] = ((A * s1 - 5.0f * A) * s1 + 8.0f * A) * s1 - 4.0f * A;
}

/* resize_bicubic, one thread per output (p, oy, ox), x [planes, in_h, in_w],
 * y [planes, out_h, out_w]; PyTorch bicubic, align_corners=False
 * (docs/algorithm.md §8.2): source coordinate (o + 0.5) · (in/out as fp32) - 0.5, not clamped;
 * taps at floor - 1 … floor + 2 clamped into the image; the 4 rows are
 * interpolated along x first (Σ w_k v_k in order k = 0..3), then the 4
 * results along y. */
static __global__ void
resize_bicubic_kernel (float *y, const float *x, int in_h, int in_w,
    int out_h, int out_w, gsize total)
{
  float scale_h = (float) in_h / (float) out_h;
  float scale_w = (float) in_w / (float) out_w;
  gsize out_plane = (gsize) out_h * out_w;

  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize p = i / out_plane, pos = i % out_plane;
    int oy = (int) (pos / out_w), ox = (int) (pos % out_w);
    const float *plane = x + p * in_h * in_w;
    float sy = ((float) oy + 0.5f) * scale_h - 0.5f;
    float sx = ((float) ox + 0.5f) * scale_w - 0.5f;
    float fy = floorf (sy), fx = floorf (sx);
    int y0 = (int) fy, x0 = (int) fx;
    float wy[4], wx[4], rows[4];

    cubic_weights (sy - fy, wy);
    cubic_weights (sx - fx, wx);
    for (int r = 0; r < 4; r++) {
      int yy = min (max (y0 - 1 + r, 0), in_h - 1);
      const float *row = plane + (gsize) yy * in_w;
      float v[4];
      for (int c = 0; c < 4; c++)
        v[c] = row[min (max (x0 - 1 + c, 0), in_w - 1)];
      rows[r] = v[0] * wx[0] + v[1] * wx[1] + v[2] * wx[2] + v[3] * wx[3];
    }
    y[i] = rows[0] * wy[0] + rows[1] * wy[1] + rows[2] * wy[2]
        + rows[3] * wy[3];
  }
}

void
hart_cuda_resize_bicubic (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w)
{
  gsize total = (gsize) batch * channels * out_h * out_w;

  if (batch <= 0 || channels <= 0 || in_h <= 0 || in_w <= 0 || out_h <= 0
      || out_w <= 0 || !hart_cuda_enter (be))
    return;
  resize_bicubic_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, x, in_h, in_w, out_h, out_w,
      total);
  hart_cuda_check (be, "resize_bicubic");
}

/* resize_area (adaptive average pooling), one thread per output (p, I, J):
 * the window is rows [floor(I·in_h/out_h), ceil((I+1)·in_h/out_h)) ×
 * columns likewise; its values are summed sequentially in row-major order,
 * then divided by the window height, then by the window width (docs/algorithm.md §8.3:
 * two divisions, not one by the area). */
static __global__ void
resize_area_kernel (float *y, const float *x, int in_h, int in_w, int out_h,
    int out_w, gsize total)
{
  gsize out_plane = (gsize) out_h * out_w;

  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize p = i / out_plane, pos = i % out_plane;
    int oy = (int) (pos / out_w), ox = (int) (pos % out_w);
    const float *plane = x + p * in_h * in_w;
    int r0 = (int) ((int64_t) oy * in_h / out_h);
    int r1 = (int) (((int64_t) (oy + 1) * in_h + out_h - 1) / out_h);
    int c0 = (int) ((int64_t) ox * in_w / out_w);
    int c1 = (int) (((int64_t) (ox + 1) * in_w + out_w - 1) / out_w);
    float sum = 0.0f;

    for (int r = r0; r < r1; r++)
      for (int c = c0; c < c1; c++)
        sum += plane[(gsize) r * in_w + c];
    y[i] = sum / (float) (r1 - r0) / (float) (c1 - c0);
  }
}

void
hart_cuda_resize_area (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w)
{
  gsize total = (gsize) batch * channels * out_h * out_w;

  if (batch <= 0 || channels <= 0 || in_h <= 0 || in_w <= 0 || out_h <= 0
      || out_w <= 0 || !hart_cuda_enter (be))
    return;
  resize_area_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, x, in_h, in_w, out_h, out_w,
      total);
  hart_cuda_check (be, "resize_area");
}
