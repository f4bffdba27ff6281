/* gst-hart — CPU backend: image ops on NCHW tensors (convolution,
 * nearest / bicubic / area resizing)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cpu-private.h"

#include <stdlib.h>

/* im2col buffer per thread: cin·k·k rows × (band rows · width) columns.
 * 2 MiB keeps it in L2/L3 next to the weights, and a band of a few hundred
 * pixels is still a wide enough GEMM for OpenBLAS's micro-kernels. */
#define CONV_COL_BYTES (2u << 20)
#define CONV_MIN_BAND_PIXELS 256

/* Copies input rows into the im2col matrix of one band of output rows:
 * col [cin·k·k, (row_end − row_start)·out_w], row (ci·k + ky)·k + kx holds
 * x[ci, oy + ky − pad, ox + kx − pad] (0 outside the image), rounded to
 * bf16 precision when ROUND_BF16. */
static void
im2col_band (float *col, const float *x, int cin, int height, int width,
    int out_w, int k, int pad, int row_start, int row_end, gboolean round_bf16)
{
  const gsize n_pix = (gsize) (row_end - row_start) * out_w;

  for (int ci = 0; ci < cin; ci++) {
    const float *plane = x + (gsize) ci * height * width;
    for (int ky = 0; ky < k; ky++) {
      for (int kx = 0; kx < k; kx++) {
        float *dst = col + ((gsize) (ci * k + ky) * k + kx) * n_pix;
        /* output columns ox whose input column ox + kx − pad is inside */
        const int ox_lo = MIN (out_w, MAX (0, pad - kx));
        const int ox_hi = MAX (ox_lo, MIN (out_w, width + pad - kx));
        for (int oy = row_start; oy < row_end; oy++, dst += out_w) {
          const int iy = oy + ky - pad;
          if (iy < 0 || iy >= height || ox_lo >= ox_hi) {
            memset (dst, 0, (gsize) out_w * sizeof (float));
            continue;
          }
          if (ox_lo > 0)
            memset (dst, 0, (gsize) ox_lo * sizeof (float));
          if (round_bf16)
            hart_cpu_bf16_round_f32_row (dst + ox_lo,
                plane + (gsize) iy * width + ox_lo + kx - pad, ox_hi - ox_lo);
          else
            memcpy (dst + ox_lo, plane + (gsize) iy * width + ox_lo + kx - pad,
                (gsize) (ox_hi - ox_lo) * sizeof (float));
          if (ox_hi < out_w)
            memset (dst + ox_hi, 0, (gsize) (out_w - ox_hi) * sizeof (float));
        }
      }
    }
  }
}

/* y[c, p] = bias[c] over a band of pixels (bias may be NULL: 0). */
static void
fill_bias_band (float *y, const float *bias, int cout, gsize hw,
    gsize pix_start, gsize n_pix)
{
  for (int c = 0; c < cout; c++) {
    float *dst = y + (gsize) c * hw + pix_start;
    const float v = bias ? bias[c] : 0.0f;
    for (gsize i = 0; i < n_pix; i++)
      dst[i] = v;
  }
}

/* y[c, p] = NaN over a band of pixels */
static void
fill_nan_band (float *y, int cout, gsize hw, gsize pix_start, gsize n_pix)
{
  for (int c = 0; c < cout; c++) {
    float *dst = y + (gsize) c * hw + pix_start;
    for (gsize i = 0; i < n_pix; i++)
      dst[i] = NAN;
  }
}

typedef struct
{
  const HartConv2dParams *p;
  int out_h, out_w, kdim, band_rows, n_bands;
  gint failed;                  /* a band's im2col buffer not allocated */
  gsize in_hw, out_hw;
  gboolean round_bf16;          /* x rounded to bf16 precision in im2col */
} ConvArgs;

static void
conv_bias_channels (gsize c0, gsize c1, gpointer data)
{
  const ConvArgs *A = data;
  /* p->y here is already the batch's output (see hart_cpu_conv2d) */
  float *yb = A->p->y;

  for (gsize c = c0; c < c1; c++)
    fill_bias_band (yb + c * A->out_hw, A->p->bias + c, 1, A->out_hw, 0,
        A->out_hw);
}

/* Called once by each thread of the job: one im2col buffer per thread,
 * then bands of output rows (one im2col + one GEMM each) as they come. */
static void
conv_bands (HartCpuJob * job, gpointer data)
{
  ConvArgs *A = data;
  const HartConv2dParams *p = A->p;
  const float *const x = p->x, *const w = p->w, *const bias = p->bias;
  float *const y = p->y;
  const int cin = p->cin, height = p->height, width = p->width;
  const int cout = p->cout, k = p->k, pad = p->pad;
  const int out_h = A->out_h, out_w = A->out_w, kdim = A->kdim;
  const int band_rows = A->band_rows, n_bands = A->n_bands;
  const gsize in_hw = A->in_hw, out_hw = A->out_hw;
  gsize col_floats = (gsize) kdim * band_rows * out_w;
  float *col = NULL;
  gsize t0, t1;

  if (posix_memalign ((void **) &col, 64, col_floats * sizeof (float)))
    col = NULL;

  while (hart_cpu_job_next (job, &t0, &t1)) {
    for (int64_t t = (int64_t) t0; t < (int64_t) t1; t++) {
      const int b = (int) (t / n_bands);
      const int row_start = (int) (t % n_bands) * band_rows;
      const int row_end = MIN (out_h, row_start + band_rows);
      const gsize pix_start = (gsize) row_start * out_w;
      const int n_pix = (row_end - row_start) * out_w;
      const float *xb = x + (gsize) b * cin * in_hw;
      float *yb = y + (gsize) b * cout * out_hw;

      if (col == NULL) {
        /* out of memory for the im2col buffer (2 MiB): the band's
         * outputs become NaN, which the decoder's finiteness check turns
         * into an error instead of a picture with a band of garbage */
        g_atomic_int_set (&A->failed, TRUE);
        fill_nan_band (yb, cout, out_hw, pix_start, n_pix);
        continue;
      }
      im2col_band (col, xb, cin, height, width, out_w, k, pad, row_start,
          row_end, A->round_bf16);
      if (bias)
        fill_bias_band (yb, bias, cout, out_hw, pix_start, n_pix);
      /* y[b][:, band] [cout, n_pix] = W [cout, cin·k·k] · col */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, n_pix,
          kdim, 1.0f, w, kdim, col, n_pix, bias ? 1.0f : 0.0f,
          yb + pix_start, (int) out_hw);
    }
  }
  free (col);
}

/* The k > 1 convolutions: bands of output rows, one im2col + one GEMM
 * each, distributed over the threads (each GEMM single-threaded).  The
 * bands depend on the image's shape and the thread count only: never on
 * which thread runs one, nor on the batch, so an image of a batch gets the
 * bits it gets alone (the GEMM of a band is the same call; docs/video.md,
 * "Batches of frames"). */
static void
conv2d_bands (HartBackend * be, const HartConv2dParams * p, gboolean round_bf16)
{
  const int out_h = p->height + 2 * p->pad - p->k + 1;
  const int out_w = p->width + 2 * p->pad - p->k + 1;
  const int kdim = p->cin * p->k * p->k;
  gsize band_pixels = CONV_COL_BYTES / sizeof (float) / (gsize) MAX (kdim, 1);
  int band_rows, n_bands;
  int64_t n_tasks;
  ConvArgs A;

  band_pixels = MAX (band_pixels, CONV_MIN_BAND_PIXELS);
  band_rows = (int) CLAMP (band_pixels / (gsize) out_w, 1, (gsize) out_h);
  /* at least two bands per thread (for one image) so the dynamic
   * schedule can balance */
  if ((out_h + band_rows - 1) / band_rows < 2 * be->n_threads)
    band_rows = MAX (1, out_h / (2 * be->n_threads));
  n_bands = (out_h + band_rows - 1) / band_rows;
  n_tasks = (int64_t) p->batch * n_bands;

  hart_cpu_blas_single_thread ();

  memset (&A, 0, sizeof A);
  A.p = p;
  A.out_h = out_h;
  A.out_w = out_w;
  A.kdim = kdim;
  A.band_rows = band_rows;
  A.n_bands = n_bands;
  A.in_hw = (gsize) p->height * p->width;
  A.out_hw = (gsize) out_h *out_w;
  A.round_bf16 = round_bf16;
  /* one band per chunk, or all of them on this thread when small */
  hart_cpu_pool_run (be->pool, (gsize) n_tasks,
      (double) kdim * p->cout * A.out_hw * p->batch >= (1 << 20) ? 1
      : (gsize) n_tasks, conv_bands, &A);
  if (A.failed)
    g_warning ("cpu backend: convolution failed (out of memory)");
}

void
hart_cpu_conv2d_bf16_rounded (HartBackend * be, const HartConv2dParams * p)
{
  const int out_h = p->height + 2 * p->pad - p->k + 1;
  const int out_w = p->width + 2 * p->pad - p->k + 1;

  g_return_if_fail (p->k > 1);
  if (p->batch <= 0 || p->cout <= 0 || out_h <= 0 || out_w <= 0)
    return;
  conv2d_bands (be, p, TRUE);
}

void
hart_cpu_conv2d (HartBackend * be, const HartConv2dParams * p)
{
  float *const y = p->y;
  const float *const x = p->x, *const w = p->w, *const bias = p->bias;
  const int batch = p->batch, cin = p->cin, height = p->height;
  const int width = p->width, cout = p->cout, k = p->k, pad = p->pad;
  /* Stride 1: the output is (H + 2·pad − k + 1) × (W + 2·pad − k + 1), which
   * is H × W for the "same" convolutions (pad = (k − 1) / 2) the models use.
   * y [batch, cout, out_h, out_w]. */
  const int out_h = height + 2 * pad - k + 1;
  const int out_w = width + 2 * pad - k + 1;
  const gsize in_hw = (gsize) height * width;
  const gsize out_hw = (gsize) MAX (out_h, 0) * MAX (out_w, 0);

  if (batch <= 0 || cout <= 0 || out_h <= 0 || out_w <= 0 || k <= 0)
    return;

  if (k == 1 && pad == 0) {
    /* 1×1: y[b] [cout, hw] = W [cout, cin] · x[b] [cin, hw] (+ bias) */
    for (int b = 0; b < batch; b++) {
      float *yb = y + (gsize) b * cout * out_hw;
      if (bias) {
        HartConv2dParams pb = *p;
        ConvArgs A = {.p = &pb,.out_hw = out_hw };
        pb.y = yb;
        hart_cpu_parallel_for (be, cout, hart_cpu_grain (be, cout,
                (gsize) cout * out_hw), conv_bias_channels, &A);
      }
      hart_cpu_sgemm (be, FALSE, FALSE, cout, (int) out_hw, cin,
          1.0f, w, cin, x + (gsize) b * cin * in_hw, (int) in_hw,
          bias ? 1.0f : 0.0f, yb, (int) out_hw);
    }
    return;
  }

  conv2d_bands (be, p, FALSE);
}

/* Cubic convolution taps and weights for one output coordinate, PyTorch
 * upsample_bicubic2d with align_corners = False and A = −0.75 (docs/algorithm.md §8.2). */
typedef struct
{
  int idx[4];
  float w[4];
} CubicTaps;

static void
cubic_taps (CubicTaps * taps, int out_size, int in_size)
{
  const float A = -0.75f;
  const float scale = (float) in_size / (float) out_size;

  for (int o = 0; o < out_size; o++) {
    const float src = scale * ((float) o + 0.5f) - 0.5f;
    const float fl = floorf (src);
    const int i0 = (int) fl;
    const float t = src - fl;
    const float t1 = t + 1.0f, u = 1.0f - t, u1 = u + 1.0f;     /* (1 − t) + 1, as PyTorch forms it */
    CubicTaps *tp = &taps[o];

    tp->w[0] = ((A * t1 - 5.0f * A) * t1 + 8.0f * A) * t1 - 4.0f * A;
    tp->w[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
    tp->w[2] = ((A + 2.0f) * u - (A + 3.0f)) * u * u + 1.0f;
    tp->w[3] = ((A * u1 - 5.0f * A) * u1 + 8.0f * A) * u1 - 4.0f * A;
    for (int j = 0; j < 4; j++)
      tp->idx[j] = CLAMP (i0 - 1 + j, 0, in_size - 1);
  }
}

typedef struct
{
  float *y;
  const float *x;
  const CubicTaps *tx, *ty;
  int in_h, in_w, out_h, out_w;
} ResizeArgs;

static void
upsample_rows (gsize r0, gsize r1, gpointer data)
{
  const ResizeArgs *A = data;
  const int width = A->in_w, out_w = 2 * width;

  for (int64_t r = (int64_t) r0; r < (int64_t) r1; r++) {
    /* input row r = (plane, h) feeds output rows 2h and 2h + 1 of its plane */
    const float *src = A->x + r * width;
    float *dst = A->y + r * 2 * out_w;
    for (int j = 0; j < width; j++)
      dst[2 * j] = dst[2 * j + 1] = src[j];
    memcpy (dst + out_w, dst, (gsize) out_w * sizeof (float));
  }
}

void
hart_cpu_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width)
{
  const int64_t rows = (int64_t) batch * channels * height;
  ResizeArgs A = {.y = y,.x = x,.in_w = width };

  if (rows <= 0)
    return;
  hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
          (gsize) rows * width), upsample_rows, &A);
}

static void
bicubic_planes (gsize p0, gsize p1, gpointer data)
{
  const ResizeArgs *A = data;
  const int in_h = A->in_h, in_w = A->in_w, out_h = A->out_h;
  const int out_w = A->out_w;
  const CubicTaps *tx = A->tx, *ty = A->ty;

  for (int64_t p = (int64_t) p0; p < (int64_t) p1; p++) {
    const float *src = A->x + p * in_h * in_w;
    float *dst = A->y + p * out_h * out_w;
    for (int oy = 0; oy < out_h; oy++) {
      const CubicTaps *cy = &ty[oy];
      for (int ox = 0; ox < out_w; ox++) {
        const CubicTaps *cx = &tx[ox];
        float rowv[4];
        /* along x for each of the 4 source rows, then along y */
        for (int j = 0; j < 4; j++) {
          const float *row = src + (gsize) cy->idx[j] * in_w;
          rowv[j] = row[cx->idx[0]] * cx->w[0] + row[cx->idx[1]] * cx->w[1]
              + row[cx->idx[2]] * cx->w[2] + row[cx->idx[3]] * cx->w[3];
        }
        dst[(gsize) oy * out_w + ox] = rowv[0] * cy->w[0] +
            rowv[1] * cy->w[1] + rowv[2] * cy->w[2] + rowv[3] * cy->w[3];
      }
    }
  }
}

void
hart_cpu_resize_bicubic (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w)
{
  const int64_t planes = (int64_t) batch * channels;
  CubicTaps *tx, *ty;
  ResizeArgs A;

  if (planes <= 0 || out_h <= 0 || out_w <= 0 || in_h <= 0 || in_w <= 0)
    return;
  tx = g_new (CubicTaps, out_w);
  ty = g_new (CubicTaps, out_h);
  cubic_taps (tx, out_w, in_w);
  cubic_taps (ty, out_h, in_h);

  A = (ResizeArgs) {
  .y = y,.x = x,.tx = tx,.ty = ty,.in_h = in_h,.in_w = in_w,.out_h =
        out_h,.out_w = out_w};
  /* ×16: some 20 operations per output pixel */
  hart_cpu_parallel_for (be, planes, hart_cpu_grain (be, planes,
          (gsize) planes * out_h * out_w * 16), bicubic_planes, &A);
  g_free (tx);
  g_free (ty);
}

static void
area_planes (gsize p0, gsize p1, gpointer data)
{
  const ResizeArgs *A = data;
  const int in_h = A->in_h, in_w = A->in_w, out_h = A->out_h;
  const int out_w = A->out_w;

  for (int64_t p = (int64_t) p0; p < (int64_t) p1; p++) {
    const float *src = A->x + p * in_h * in_w;
    float *dst = A->y + p * out_h * out_w;
    for (int oy = 0; oy < out_h; oy++) {
      /* window rows [floor(oy·in/out), ceil((oy+1)·in/out)) */
      const int y0 = (int) (((int64_t) oy * in_h) / out_h);
      const int y1 = (int) (((int64_t) (oy + 1) * in_h + out_h - 1) / out_h);
      for (int ox = 0; ox < out_w; ox++) {
        const int x0 = (int) (((int64_t) ox * in_w) / out_w);
        const int x1 = (int) (((int64_t) (ox + 1) * in_w + out_w - 1) / out_w);
        float sum = 0.0f;
        /* sequential row-major fp32 sum, then ÷ height, then ÷ width */
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++)
            sum += src[(gsize) iy * in_w + ix];
        dst[(gsize) oy * out_w + ox] = sum / (float) (y1 - y0) /
            (float) (x1 - x0);
      }
    }
  }
}

void
hart_cpu_resize_area (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w)
{
  const int64_t planes = (int64_t) batch * channels;
  ResizeArgs A = {.y = y,.x = x,.in_h = in_h,.in_w = in_w,.out_h = out_h,
    .out_w = out_w
  };

  if (planes <= 0 || out_h <= 0 || out_w <= 0)
    return;
  hart_cpu_parallel_for (be, planes, hart_cpu_grain (be, planes,
          (gsize) planes * in_h * in_w), area_planes, &A);
}
