/* gst-hart — CPU backend: convolution with bf16 products (oneDNN)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The decoder's convolutions (6.5 TFLOP at 1024², docs/precision.md) as
 * cpu-image.c computes them — bands of output rows, one im2col and one
 * matrix product per band, bands spread over the pool — with the im2col
 * matrix and the weights rounded to bf16 and the product on oneDNN's
 * matmul (the matrix units), summed in fp32 into the fp32 output.  The
 * weights stay fp32 in the model and are rounded once per call: the
 * decoder's are small (≤ 2.4 M values a layer) next to its activations.
 * The bands depend on the thread count only.
 */
#include "cpu-onednn.h"

/* im2col buffer per thread, as cpu-image.c's (there in fp32) */
#define HALF_CONV_COL_BYTES (2u << 20)
#define HALF_CONV_MIN_BAND_PIXELS 256

typedef struct
{
  const HartConv2dParams *p;
  HartCpuHalf *h;
  const uint16_t *wh;           /* [cout, cin·k·k] in bf16 */
  int out_h, out_w, kdim, band_rows, n_bands;
  gsize in_hw, out_hw;
  gint failed;
} HalfConvArgs;

/* cpu-image.c's im2col_band, rounding to bf16 on the way: col [cin·k·k,
 * (row_end − row_start)·out_w], row (ci·k + ky)·k + kx holds
 * x[ci, oy + ky − pad, ox + kx − pad] (0 outside the image). */
static void
im2col_band_bf16 (uint16_t * col, const float *x, int cin, int height,
    int width, int out_w, int k, int pad, int row_start, int row_end)
{
  const gsize n_pix = (gsize) (row_end - row_start) * out_w;

  for (int ci = 0; ci < cin; ci++) {
    const float *plane = x + (gsize) ci * height * width;
    for (int ky = 0; ky < k; ky++) {
      for (int kx = 0; kx < k; kx++) {
        uint16_t *dst = col + ((gsize) (ci * k + ky) * k + kx) * n_pix;
        const int ox_lo = MIN (out_w, MAX (0, pad - kx));
        const int ox_hi = MAX (ox_lo, MIN (out_w, width + pad - kx));
        for (int oy = row_start; oy < row_end; oy++, dst += out_w) {
          const int iy = oy + ky - pad;
          const float *src;
          if (iy < 0 || iy >= height || ox_lo >= ox_hi) {
            memset (dst, 0, (gsize) out_w * sizeof (uint16_t));
            continue;
          }
          src = plane + (gsize) iy *width + kx - pad;
          for (int ox = 0; ox < ox_lo; ox++)
            dst[ox] = 0;
          hart_cpu_bf16_round_row (dst + ox_lo, src + ox_lo, ox_hi - ox_lo);
          for (int ox = ox_hi; ox < out_w; ox++)
            dst[ox] = 0;
        }
      }
    }
  }
}

static gboolean
conv_band (const HalfConvArgs * A, uint16_t * col, int b, int row_start,
    int row_end)
{
  const HartConv2dParams *p = A->p;
  const gsize pix_start = (gsize) row_start * A->out_w;
  const int n_pix = (row_end - row_start) * A->out_w;
  const float *xb = p->x + (gsize) b * p->cin * A->in_hw;
  float *yb = p->y + (gsize) b * p->cout * A->out_hw;
  dnnl_memory_desc_t w_md, col_md, y_md;
  const dnnl_dims_t w_dims = { p->cout, A->kdim }, w_strides = { A->kdim, 1 };
  const dnnl_dims_t col_dims = { A->kdim, n_pix }, col_strides = { n_pix, 1 };
  const dnnl_dims_t y_dims = { p->cout, n_pix };
  const dnnl_dims_t y_strides = { (int64_t) A->out_hw, 1 };

  im2col_band_bf16 (col, xb, p->cin, p->height, p->width, A->out_w, p->k,
      p->pad, row_start, row_end);
  if (p->bias)
    for (int c = 0; c < p->cout; c++) {
      float *row = yb + (gsize) c * A->out_hw + pix_start;
      const float v = p->bias[c];
      for (int i = 0; i < n_pix; i++)
        row[i] = v;
    }
  /* y[b][:, band] [cout, n_pix] (+)= W [cout, cin·k·k] · col */
  return dnnl_memory_desc_init_by_strides (&w_md, 2, w_dims, dnnl_bf16,
      w_strides) == dnnl_success
      && dnnl_memory_desc_init_by_strides (&col_md, 2, col_dims, dnnl_bf16,
      col_strides) == dnnl_success
      && dnnl_memory_desc_init_by_strides (&y_md, 2, y_dims, dnnl_f32,
      y_strides) == dnnl_success
      && hart_cpu_onednn_matmul (A->h, &w_md, A->wh, &col_md, col, NULL, NULL,
      &y_md, yb + pix_start, p->bias != NULL);
}

static void
conv_bands (HartCpuJob * job, gpointer data)
{
  HalfConvArgs *A = data;
  const HartConv2dParams *p = A->p;
  uint16_t *col = g_try_malloc ((gsize) A->kdim * A->band_rows * A->out_w *
      sizeof (uint16_t));
  gsize t0, t1;

  while (hart_cpu_job_next (job, &t0, &t1)) {
    for (gsize t = t0; t < t1; t++) {
      const int b = (int) (t / A->n_bands);
      const int row_start = (int) (t % A->n_bands) * A->band_rows;
      const int row_end = MIN (A->out_h, row_start + A->band_rows);

      if (col == NULL || !conv_band (A, col, b, row_start, row_end)) {
        /* out of memory: NaN reaches the decoder's finiteness check */
        float *yb = p->y + (gsize) b * p->cout * A->out_hw;
        g_atomic_int_set (&A->failed, TRUE);
        for (int c = 0; c < p->cout; c++)
          for (gsize i = (gsize) row_start * A->out_w;
              i < (gsize) row_end * A->out_w; i++)
            yb[(gsize) c * A->out_hw + i] = NAN;
      }
    }
  }
  g_free (col);
}

typedef struct
{
  uint16_t *dst;
  const float *src;
} RoundArgs;

static void
round_range (gsize i0, gsize i1, gpointer data)
{
  const RoundArgs *R = data;

  hart_cpu_bf16_round_row (R->dst + i0, R->src + i0, i1 - i0);
}

void
hart_cpu_conv2d_half (HartBackend * be, const HartConv2dParams * p)
{
  const int out_h = p->height + 2 * p->pad - p->k + 1;
  const int out_w = p->width + 2 * p->pad - p->k + 1;
  const int kdim = p->cin * p->k * p->k;
  const gsize n_w = (gsize) p->cout * kdim;
  HalfConvArgs A;
  RoundArgs R;
  gsize band_pixels;
  uint16_t *wh;

  g_return_if_fail (be->priv != NULL);
  if (p->batch <= 0 || p->cout <= 0 || out_h <= 0 || out_w <= 0 || p->k <= 0)
    return;
  wh = g_try_malloc (MAX (n_w, 1) * sizeof (uint16_t));
  R = (RoundArgs) {
  wh, p->w};
  if (wh != NULL)
    hart_cpu_parallel_for (be, n_w, hart_cpu_grain (be, n_w, n_w),
        round_range, &R);

  memset (&A, 0, sizeof A);
  A.p = p;
  A.h = be->priv;
  A.wh = wh;
  A.out_h = out_h;
  A.out_w = out_w;
  A.kdim = kdim;
  A.in_hw = (gsize) p->height * p->width;
  A.out_hw = (gsize) out_h *out_w;
  /* bands as cpu-image.c cuts them, for a bf16 im2col buffer */
  band_pixels = HALF_CONV_COL_BYTES / sizeof (uint16_t) / (gsize) MAX (kdim, 1);
  band_pixels = MAX (band_pixels, HALF_CONV_MIN_BAND_PIXELS);
  A.band_rows = (int) CLAMP (band_pixels / (gsize) out_w, 1, (gsize) out_h);
  if ((int64_t) p->batch * ((out_h + A.band_rows - 1) / A.band_rows) <
      2 * be->n_threads)
    A.band_rows = MAX (1, out_h / MAX (1, 2 * be->n_threads / p->batch));
  A.n_bands = (out_h + A.band_rows - 1) / A.band_rows;

  if (wh == NULL) {
    A.failed = TRUE;
    for (gsize i = 0; i < (gsize) p->batch * p->cout * A.out_hw; i++)
      p->y[i] = NAN;
  } else {
    hart_cpu_pool_run (be->pool, (gsize) p->batch * A.n_bands, 1, conv_bands,
        &A);
  }
  if (A.failed)
    g_warning ("cpu backend: bf16 convolution failed (out of memory)");
  g_free (wh);
}
