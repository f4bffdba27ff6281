/* gst-hart — CPU backend: convolution with bf16 products (oneDNN)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The decoder's convolutions (6.5 TFLOP at 1024², docs/precision.md), in
 * bands of output rows spread over the pool, two ways:
 *   direct (conv2d_half_direct): oneDNN's convolution primitive, which
 *     runs on the matrix units (brgconv) without an im2col copy.  Per band,
 *     a oneDNN reorder rounds the band's input rows (with their halo) to a
 *     channels-last bf16 buffer, zero rows standing for the padding above
 *     and below the image; the primitive convolves it (bias added, fp32
 *     sums) into a channels-last fp32 buffer; a second reorder writes that
 *     into y's rows.  The weights are rounded into the primitive's layout
 *     once per call.  Why reorders: the engine's activations are NCHW
 *     fp32, and oneDNN's fast kernels want channels last.  ~1.3-2× im2col
 *     on the decoder's 160- and 320-channel levels (docs/precision.md).
 *   im2col (conv2d_half_im2col): cpu-image.c's scheme with the im2col
 *     matrix and the weights rounded to bf16 and the product on oneDNN's
 *     matmul.  For 1×1 convolutions (a plain product, no copy to save), for
 *     shapes oneDNN has only its reference loops for, wherever the direct
 *     path cannot be set up (a primitive or reorder oneDNN refuses, the last
 *     band's weights layout differing from the others', more than
 *     DIRECT_CONV_MAX_PACKS input row counts, out of memory before anything
 *     is written), and with HART_CPU_CONV=im2col in the environment (for
 *     comparisons).
 *   rounded (conv2d_half_rounded), where the products run widened (no bf16
 *     unit, cpu-bf16-widened.c): cpu-image.c's fp32 convolution with x
 *     and w rounded to bf16 precision (kept in fp32), which is what the
 *     im2col path would compute there, without a bf16 im2col matrix that
 *     the widened product would widen again.  k > 1 (a 1×1 convolution
 *     takes the im2col path, a plain widened product).
 * All round x and w to bf16 by nearest even and sum the products in fp32;
 * the bits differ between them (summation order).  The direct path's bands
 * depend on the image's shape and the thread count only; im2col's, as in
 * the fp32 convolution before, also shrink when a batch has too few.
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

static void
conv2d_half_im2col (HartBackend * be, const HartConv2dParams * p)
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

/* ---- oneDNN's convolution primitive over bands of output rows ---- */

/* Output band buffer per thread (fp32, channels last) */
#define DIRECT_CONV_BAND_BYTES (4u << 20)

/* The primitive for bands of `rows` output rows: src [1, cin, rows + k − 1,
 * width] bf16 channels last (the band's input rows with their halo, zero
 * rows above and below the image, as the pad rows are not the primitive's
 * business), dst [1, cout, rows, out_w] fp32 channels last, padding left
 * and right only. */
typedef struct
{
  dnnl_primitive_desc_t pd;
  dnnl_primitive_t prim;
  dnnl_memory_desc_t src_md, wei_md, dst_md, bias_md, scratch_md;
  int rows;
} BandConv;

/* A oneDNN reorder between two layouts of the same dims (the band's
 * channels-first rows and channels-last buffer): rounds to bf16 by nearest
 * even where the destination is bf16. */
typedef struct
{
  dnnl_primitive_t prim;
  dnnl_memory_desc_t src_md, dst_md;
} Reorder;

/* Bytes of a queried memory descriptor, 0 for none */
static gsize
md_bytes (const dnnl_memory_desc_t * md)
{
  return md != NULL ? dnnl_memory_desc_get_size (md) : 0;
}

static void
reorder_clear (Reorder * r)
{
  if (r->prim)
    dnnl_primitive_destroy (r->prim);
  memset (r, 0, sizeof *r);
}

static gboolean
reorder_init (HartCpuHalf * h, Reorder * r, int c, int rows, int width,
    gsize planar_hw, dnnl_data_type_t packed_type, gboolean to_packed)
{
  const dnnl_dims_t dims = { 1, c, rows, width };
  const dnnl_dims_t planar = { (int64_t) c * planar_hw, (int64_t) planar_hw,
    width, 1
  };
  dnnl_memory_desc_t planar_md, packed_md;
  dnnl_primitive_desc_t pd = NULL;
  gboolean ok;

  memset (r, 0, sizeof *r);
  if (dnnl_memory_desc_init_by_strides (&planar_md, 4, dims, dnnl_f32,
          planar) != dnnl_success
      || dnnl_memory_desc_init_by_tag (&packed_md, 4, dims, packed_type,
          dnnl_nhwc) != dnnl_success)
    return FALSE;
  r->src_md = to_packed ? planar_md : packed_md;
  r->dst_md = to_packed ? packed_md : planar_md;
  /* with the user scratchpad mode, as every primitive the pool's threads
   * share: a reorder that would need scratch memory is not taken (none of
   * these plain transposes does) */
  ok = dnnl_reorder_primitive_desc_create (&pd, &r->src_md, h->engine,
      &r->dst_md, h->engine, h->attr) == dnnl_success
      && md_bytes (dnnl_primitive_desc_query_md (pd,
          dnnl_query_scratchpad_md, 0)) == 0
      && dnnl_primitive_create (&r->prim, pd) == dnnl_success;
  if (pd)
    dnnl_primitive_desc_destroy (pd);
  if (!ok)
    reorder_clear (r);
  return ok;
}

static gboolean
reorder_run (HartCpuHalf * h, const Reorder * r, dnnl_stream_t stream,
    const void *src, void *dst)
{
  const HartOnednnArg args[] = {
    {DNNL_ARG_FROM, &r->src_md, src}, {DNNL_ARG_TO, &r->dst_md, dst},
  };

  return hart_cpu_onednn_execute (h, r->prim, stream, G_N_ELEMENTS (args),
      args);
}

/* Reorders into a band's input buffer, one per count of its rows inside
 * the image (bands at the top and bottom have fewer) */
#define DIRECT_CONV_MAX_PACKS 8

typedef struct
{
  const HartConv2dParams *p;
  HartCpuHalf *h;
  int out_h, out_w, band_rows, n_bands;
  gsize in_hw, out_hw;
  BandConv full, last;          /* last.prim: bands of out_h % band_rows */
  /* the output buffer into y's rows: full and last bands */
  Reorder unpack_full, unpack_last;
  Reorder pack[DIRECT_CONV_MAX_PACKS];
  int pack_rows[DIRECT_CONV_MAX_PACKS], n_packs;
  const void *wei;              /* bf16, in full.wei_md's layout */
  gint failed;
} DirectConvArgs;

static void
band_conv_clear (BandConv * bc)
{
  if (bc->prim)
    dnnl_primitive_destroy (bc->prim);
  if (bc->pd)
    dnnl_primitive_desc_destroy (bc->pd);
  memset (bc, 0, sizeof *bc);
}

/* FALSE when oneDNN has no fast convolution for the shape (its reference
 * loops, "ref:any", are far slower than im2col) or fails. */
static gboolean
band_conv_init (HartCpuHalf * h, const HartConv2dParams * p, int rows,
    int out_w, BandConv * bc)
{
  const dnnl_dims_t src_dims = { 1, p->cin, rows + p->k - 1, p->width };
  const dnnl_dims_t wei_dims = { p->cout, p->cin, p->k, p->k };
  const dnnl_dims_t dst_dims = { 1, p->cout, rows, out_w };
  const dnnl_dims_t bias_dims = { p->cout };
  const dnnl_dims_t strides = { 1, 1 };
  const dnnl_dims_t pad_l = { 0, p->pad }, pad_r = { 0, p->pad };
  dnnl_convolution_desc_t op;
  const char *impl = NULL;
  const dnnl_memory_desc_t *md;

  memset (bc, 0, sizeof *bc);
  bc->rows = rows;
  omp_set_num_threads (1);
  if (dnnl_memory_desc_init_by_tag (&bc->src_md, 4, src_dims, dnnl_bf16,
          dnnl_nhwc) != dnnl_success
      || dnnl_memory_desc_init_by_tag (&bc->wei_md, 4, wei_dims, dnnl_bf16,
          dnnl_format_tag_any) != dnnl_success
      || dnnl_memory_desc_init_by_tag (&bc->dst_md, 4, dst_dims, dnnl_f32,
          dnnl_nhwc) != dnnl_success
      || dnnl_memory_desc_init_by_tag (&bc->bias_md, 1, bias_dims, dnnl_f32,
          dnnl_x) != dnnl_success
      || dnnl_convolution_forward_desc_init (&op, dnnl_forward_inference,
          dnnl_convolution_direct, &bc->src_md, &bc->wei_md,
          p->bias ? &bc->bias_md : NULL, &bc->dst_md, strides, pad_l,
          pad_r) != dnnl_success
      || dnnl_primitive_desc_create (&bc->pd, &op, h->attr, h->engine,
          NULL) != dnnl_success)
    goto fail;
  dnnl_primitive_desc_query (bc->pd, dnnl_query_impl_info_str, 0, &impl);
  if (impl == NULL || g_str_has_prefix (impl, "ref"))
    goto fail;
  md = dnnl_primitive_desc_query_md (bc->pd, dnnl_query_weights_md, 0);
  bc->wei_md = *md;
  md = dnnl_primitive_desc_query_md (bc->pd, dnnl_query_scratchpad_md, 0);
  if (md != NULL)
    bc->scratch_md = *md;
  else
    memset (&bc->scratch_md, 0, sizeof bc->scratch_md);
  if (dnnl_primitive_create (&bc->prim, bc->pd) != dnnl_success)
    goto fail;
  return TRUE;

fail:
  band_conv_clear (bc);
  return FALSE;
}

/* The fp32 [cout, cin, k, k] weights rounded to bf16 (oneDNN's reorder
 * rounds to nearest even) into the primitive's layout; NULL when out of
 * memory. */
static void *
reorder_weights (HartCpuHalf * h, const HartConv2dParams * p,
    const dnnl_memory_desc_t * wei_md)
{
  const dnnl_dims_t dims = { p->cout, p->cin, p->k, p->k };
  dnnl_memory_desc_t f32_md;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  void *wei = g_try_malloc (MAX (dnnl_memory_desc_get_size (wei_md), 1));
  gboolean ok = FALSE;

  omp_set_num_threads (1);
  if (wei != NULL
      && dnnl_memory_desc_init_by_tag (&f32_md, 4, dims, dnnl_f32,
          dnnl_oihw) == dnnl_success
      && dnnl_reorder_primitive_desc_create (&pd, &f32_md, h->engine, wei_md,
          h->engine, NULL) == dnnl_success
      && dnnl_primitive_create (&prim, pd) == dnnl_success) {
    const HartOnednnArg args[] = {
      {DNNL_ARG_FROM, &f32_md, p->w}, {DNNL_ARG_TO, wei_md, wei},
    };
    ok = hart_cpu_onednn_execute (h, prim, NULL, G_N_ELEMENTS (args), args);
  }
  if (prim)
    dnnl_primitive_destroy (prim);
  if (pd)
    dnnl_primitive_desc_destroy (pd);
  if (!ok) {
    g_free (wei);
    return NULL;
  }
  return wei;
}

/* Image rows [*lo, *hi) of the band's input rows (row_start − pad …
 * row_start − pad + rows + k − 1) */
static void
band_input_rows (const HartConv2dParams * p, int row_start, int rows,
    int *lo, int *hi)
{
  const int first = row_start - p->pad, end = first + rows + p->k - 1;

  /* both within [first, end]: a band wholly in the padding above the
   * image (pad ≥ rows + k) has lo = hi = end, one below it lo = hi = first */
  *lo = MIN (MAX (0, first), end);
  *hi = MAX (MIN (p->height, end), *lo);
}

static const Reorder *
pack_for (const DirectConvArgs * A, int n_rows)
{
  for (int i = 0; i < A->n_packs; i++)
    if (A->pack_rows[i] == n_rows)
      return &A->pack[i];
  return NULL;
}

/* One band: its input rows rounded into `in` (zeros outside the image),
 * the convolution into `out`, `out` into y. */
static gboolean
direct_band (const DirectConvArgs * A, dnnl_stream_t stream, uint16_t * in,
    float *out, void *scratch, int b, int row_start, int rows)
{
  const HartConv2dParams *p = A->p;
  const gboolean full = rows == A->band_rows;
  const BandConv *bc = full ? &A->full : &A->last;
  const gsize in_row = (gsize) p->width * p->cin;
  const int first = row_start - p->pad, n_in = rows + p->k - 1;
  const HartOnednnArg args[] = {
    {DNNL_ARG_SRC, &bc->src_md, in}, {DNNL_ARG_WEIGHTS, &bc->wei_md, A->wei},
    {DNNL_ARG_DST, &bc->dst_md, out},
    {DNNL_ARG_BIAS, p->bias ? &bc->bias_md : NULL, p->bias},
    {DNNL_ARG_SCRATCHPAD, scratch ? &bc->scratch_md : NULL, scratch},
  };
  const Reorder *pack;
  int lo, hi;

  band_input_rows (p, row_start, rows, &lo, &hi);
  memset (in, 0, (gsize) (lo - first) * in_row * sizeof (uint16_t));
  memset (in + (gsize) (hi - first) * in_row, 0,
      (gsize) (first + n_in - hi) * in_row * sizeof (uint16_t));
  if (hi > lo) {
    pack = pack_for (A, hi - lo);
    if (pack == NULL || !reorder_run (A->h, pack, stream,
            p->x + (gsize) b * p->cin * A->in_hw + (gsize) lo * p->width,
            in + (gsize) (lo - first) * in_row))
      return FALSE;
  }
  return hart_cpu_onednn_execute (A->h, bc->prim, stream,
      G_N_ELEMENTS (args), args)
      && reorder_run (A->h, full ? &A->unpack_full : &A->unpack_last,
      stream, out, p->y + (gsize) b * p->cout * A->out_hw +
      (gsize) row_start * A->out_w);
}

static void
direct_bands (HartCpuJob * job, gpointer data)
{
  DirectConvArgs *A = data;
  const HartConv2dParams *p = A->p;
  const gsize scratch_bytes = MAX (dnnl_memory_desc_get_size
      (&A->full.scratch_md), A->last.prim ?
      dnnl_memory_desc_get_size (&A->last.scratch_md) : 0);
  uint16_t *in = g_try_malloc ((gsize) (A->band_rows + p->k - 1) *
      p->width * p->cin * sizeof (uint16_t));
  float *out = g_try_malloc ((gsize) A->band_rows * A->out_w * p->cout *
      sizeof (float));
  void *scratch = scratch_bytes ? g_try_malloc (scratch_bytes) : NULL;
  dnnl_stream_t stream = NULL;
  gboolean usable;
  gsize t0, t1;

  omp_set_num_threads (1);
  usable = in != NULL && out != NULL && (scratch_bytes == 0 || scratch != NULL)
      && dnnl_stream_create (&stream, A->h->engine,
      dnnl_stream_default_flags) == dnnl_success;
  while (hart_cpu_job_next (job, &t0, &t1)) {
    for (gsize t = t0; t < t1; t++) {
      const int b = (int) (t / A->n_bands);
      const int row_start = (int) (t % A->n_bands) * A->band_rows;
      const int rows = MIN (A->band_rows, A->out_h - row_start);

      if (!usable || !direct_band (A, stream, in, out, scratch, b,
              row_start, rows)) {
        /* out of memory: NaN reaches the decoder's finiteness check */
        float *yb = p->y + (gsize) b * p->cout * A->out_hw;
        g_atomic_int_set (&A->failed, TRUE);
        for (int c = 0; c < p->cout; c++)
          for (gsize i = (gsize) row_start * A->out_w;
              i < (gsize) (row_start + rows) * A->out_w; i++)
            yb[(gsize) c * A->out_hw + i] = NAN;
      }
    }
  }
  if (stream)
    dnnl_stream_destroy (stream);
  g_free (in);
  g_free (out);
  g_free (scratch);
}

static void
direct_clear (DirectConvArgs * A)
{
  band_conv_clear (&A->full);
  band_conv_clear (&A->last);
  reorder_clear (&A->unpack_full);
  reorder_clear (&A->unpack_last);
  for (int i = 0; i < A->n_packs; i++)
    reorder_clear (&A->pack[i]);
  A->n_packs = 0;
}

/* The primitives of every band shape: the convolution and the output's
 * reorder for full bands and the last one, and the input's reorders for
 * each count of rows inside the image.  FALSE: none for this shape. */
static gboolean
direct_init (DirectConvArgs * A)
{
  const HartConv2dParams *p = A->p;
  const int last_rows = A->out_h % A->band_rows;

  if (!band_conv_init (A->h, p, A->band_rows, A->out_w, &A->full)
      || !reorder_init (A->h, &A->unpack_full, p->cout, A->band_rows,
          A->out_w, A->out_hw, dnnl_f32, FALSE))
    return FALSE;
  if (last_rows != 0
      && (!band_conv_init (A->h, p, last_rows, A->out_w, &A->last)
          || !dnnl_memory_desc_equal (&A->full.wei_md, &A->last.wei_md)
          || !reorder_init (A->h, &A->unpack_last, p->cout, last_rows,
              A->out_w, A->out_hw, dnnl_f32, FALSE)))
    return FALSE;
  for (int band = 0; band < A->n_bands; band++) {
    const int row_start = band * A->band_rows;
    int lo, hi;
    band_input_rows (p, row_start, MIN (A->band_rows, A->out_h - row_start),
        &lo, &hi);
    if (hi == lo || pack_for (A, hi - lo) != NULL)
      continue;
    if (A->n_packs == DIRECT_CONV_MAX_PACKS
        || !reorder_init (A->h, &A->pack[A->n_packs], p->cin, hi - lo,
            p->width, A->in_hw, dnnl_bf16, TRUE))
      return FALSE;
    A->pack_rows[A->n_packs++] = hi - lo;
  }
  return TRUE;
}

/* The direct convolution, or FALSE (nothing written) where oneDNN has
 * none for this shape: then im2col runs. */
static gboolean
conv2d_half_direct (HartBackend * be, const HartConv2dParams * p)
{
  DirectConvArgs A;
  void *wei = NULL;
  gsize row_bytes;
  int n_bands;

  memset (&A, 0, sizeof A);
  A.p = p;
  A.h = be->priv;
  A.out_h = p->height + 2 * p->pad - p->k + 1;
  A.out_w = p->width + 2 * p->pad - p->k + 1;
  A.in_hw = (gsize) p->height * p->width;
  A.out_hw = (gsize) A.out_h * A.out_w;
  /* bands of at most DIRECT_CONV_BAND_BYTES of output, at least two per
   * thread, their count first rounded up to a multiple of the thread count
   * (rows per band rounded up may then give a few fewer); they depend on
   * the image's shape and the thread count only, not on the batch, so that
   * an image gives the same bits alone or in a batch */
  row_bytes = (gsize) A.out_w * p->cout * sizeof (float);
  n_bands = (int) MIN ((A.out_h * row_bytes + DIRECT_CONV_BAND_BYTES - 1) /
      DIRECT_CONV_BAND_BYTES, (gsize) A.out_h);
  n_bands = MAX (n_bands, 2 * be->n_threads);
  n_bands = (n_bands + be->n_threads - 1) / be->n_threads * be->n_threads;
  n_bands = CLAMP (n_bands, 1, A.out_h);
  A.band_rows = (A.out_h + n_bands - 1) / n_bands;
  A.n_bands = (A.out_h + A.band_rows - 1) / A.band_rows;

  omp_set_num_threads (1);
  if (!direct_init (&A)) {
    direct_clear (&A);
    return FALSE;
  }
  A.wei = wei = reorder_weights (A.h, p, &A.full.wei_md);
  if (wei == NULL) {
    /* nothing written yet: im2col may still manage */
    direct_clear (&A);
    return FALSE;
  }
  hart_cpu_pool_run (be->pool, (gsize) p->batch * A.n_bands, 1, direct_bands,
      &A);
  if (A.failed)
    g_warning ("cpu backend: bf16 convolution failed (out of memory)");
  g_free (wei);
  direct_clear (&A);
  return TRUE;
}

gboolean
hart_cpu_conv_half_probe (HartCpuHalf * h, char *impl, gsize size)
{
  /* a 160-channel 3×3 convolution, as the decoder's largest levels */
  static const float bias[160];
  const HartConv2dParams p = {.bias = bias,.batch = 1,.cin = 160,.height = 8,
    .width = 64,.cout = 160,.k = 3,.pad = 1
  };
  BandConv bc;
  const char *name = NULL;

  if (!band_conv_init (h, &p, 4, 64, &bc))
    return FALSE;
  dnnl_primitive_desc_query (bc.pd, dnnl_query_impl_info_str, 0, &name);
  g_strlcpy (impl, name ? name : "?", size);
  band_conv_clear (&bc);
  return TRUE;
}

/* Where the products run widened (no bf16 unit): the fp32 convolution of
 * cpu-image.c on operands rounded to bf16 precision, weights here and the
 * input on its way into im2col.  The same arithmetic as the bf16 im2col
 * path below (bf16 operands, fp32 sums), without its bf16 copy of the
 * im2col matrix widened again tile by tile, and with the fp32 path's bands,
 * which never depend on the batch.  FALSE when out of memory for the
 * rounded weights (nothing written). */
static gboolean
conv2d_half_rounded (HartBackend * be, const HartConv2dParams * p)
{
  const gsize n_w = (gsize) p->cout * p->cin * p->k * p->k;
  float *wr = g_try_malloc (MAX (n_w, 1) * sizeof (float));
  HartConv2dParams rounded = *p;

  if (wr == NULL)
    return FALSE;
  /* on this thread: at most 3.7 M weights (640 → 640 channels, 3 × 3), a
   * pass of a few ms against the convolution's tenths of a second */
  hart_cpu_bf16_round_f32_row (wr, p->w, n_w);
  rounded.w = wr;
  hart_cpu_conv2d_bf16_rounded (be, &rounded);
  g_free (wr);
  return TRUE;
}

void
hart_cpu_conv2d_half (HartBackend * be, const HartConv2dParams * p)
{
  const int out_h = p->height + 2 * p->pad - p->k + 1;
  const int out_w = p->width + 2 * p->pad - p->k + 1;

  g_return_if_fail (be->priv != NULL);
  if (p->batch <= 0 || p->cout <= 0 || out_h <= 0 || out_w <= 0 || p->k <= 0)
    return;
  /* a 1×1 convolution is a plain matrix product: no im2col copy, and the
   * direct path's two reorders would cost more than they save; where the
   * products run widened, the fp32 convolution on rounded operands
   * (conv2d_half_rounded); where the probe found no bf16 convolution,
   * im2col without trying */
  if (p->k > 1 && ((HartCpuHalf *) be->priv)->conv_direct
      && g_strcmp0 (g_getenv ("HART_CPU_CONV"), "im2col") != 0
      && conv2d_half_direct (be, p))
    return;
  if (p->k > 1 && ((HartCpuHalf *) be->priv)->widened
      && g_strcmp0 (g_getenv ("HART_CPU_CONV"), "im2col") != 0
      && conv2d_half_rounded (be, p))
    return;
  conv2d_half_im2col (be, p);
}
