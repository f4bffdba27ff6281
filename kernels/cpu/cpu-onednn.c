/* gst-hart — CPU backend: bf16 matrix products on oneDNN
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Why oneDNN: bf16 products run on the matrix units (AMX) or the bf16 dot
 * product instructions (AVX-512 BF16) only through JIT-generated kernels,
 * which oneDNN has and OpenBLAS's CBLAS interface does not expose.  Debian
 * ships it (libdnnl-dev); docs/precision.md gives the figures.
 *
 * Threading: Debian's oneDNN runs on OpenMP (libgomp).  The backend keeps
 * its own pool (cpu-private.h: libgomp's threads spin at barriers), so each
 * call into oneDNN is single-threaded (omp_set_num_threads (1) on the
 * calling thread, which then creates no OpenMP team) and the product is cut
 * into column panels, one per pool thread.  Column panels of y are row
 * panels of W [out, in]: each thread reads (and oneDNN packs) only its own
 * share of the weights.  The cut depends on be->n_threads only, so a
 * thread count always gives the same bits.
 *
 * x is rounded to bf16 in blocks of HALF_ROW_BLOCK rows, which bounds the
 * scratch at HALF_ROW_BLOCK × in × 2 bytes whatever the number of rows.
 */
#include "cpu-onednn.h"

#include <oneapi/dnnl/dnnl_version.h>


#define HALF_ROW_BLOCK 1024
/* Column panels are multiples of this (oneDNN's AMX kernels work on
 * 16-column tiles, in blocks of up to 64). */
#define HALF_COL_QUANTUM 64
/* Below this many multiply-adds a product runs on one thread. */
#define HALF_PARALLEL_MIN_MACS (1 << 21)

typedef struct
{
  HartBackend *be;
  float *y;
  const uint16_t *xh;           /* [mb, in] bf16 */
  const uint16_t *w;            /* [out, in] */
  const float *bias;
  int mb, in, out, chunk;
} HalfPanels;

typedef struct
{
  uint16_t *dst;
  const float *src;
  int in;
} RoundArgs;

static void
round_rows (gsize r0, gsize r1, gpointer data)
{
  const RoundArgs *A = data;
  const float *src = A->src + r0 * A->in;
  uint16_t *dst = A->dst + r0 * A->in;
  gsize n = (r1 - r0) * (gsize) A->in;

  hart_cpu_bf16_round_row (dst, src, n);
}

#define ONEDNN_MAX_ARGS 8

gboolean
hart_cpu_onednn_execute (HartCpuHalf * h, dnnl_primitive_t prim,
    dnnl_stream_t stream, int n_args, const HartOnednnArg * args)
{
  dnnl_memory_t mem[ONEDNN_MAX_ARGS] = { NULL };
  dnnl_exec_arg_t exec[ONEDNN_MAX_ARGS];
  dnnl_stream_t own = NULL;
  int n = 0;
  gboolean ok = n_args <= ONEDNN_MAX_ARGS;

  for (int i = 0; ok && i < n_args; i++) {
    if (args[i].md == NULL)
      continue;
    ok = dnnl_memory_create (&mem[n], args[i].md, h->engine,
        (void *) args[i].ptr) == dnnl_success;
    if (ok) {
      exec[n].arg = args[i].kind;
      exec[n].memory = mem[n];
      n++;
    }
  }
  if (ok && stream == NULL) {
    ok = dnnl_stream_create (&own, h->engine, dnnl_stream_default_flags)
        == dnnl_success;
    stream = own;
  }
  ok = ok && dnnl_primitive_execute (prim, stream, n, exec) == dnnl_success
      && dnnl_stream_wait (stream) == dnnl_success;
  for (int i = 0; i < n; i++)
    dnnl_memory_destroy (mem[i]);
  if (own)
    dnnl_stream_destroy (own);
  return ok;
}

static gboolean
onednn_matmul (HartCpuHalf * h, const dnnl_memory_desc_t * src_md,
    const void *src, const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate,
    gboolean rows_fixed)
{
  const dnnl_memory_desc_t *scratch_md;
  dnnl_matmul_desc_t op;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  void *scratch = NULL;
  gboolean ok = FALSE;

  if (h->widened)
    return hart_cpu_bf16_matmul_widened (src_md, src, wei_md, wei, bias_md,
        bias, dst_md, dst, accumulate, rows_fixed);
  omp_set_num_threads (1);
  if (dnnl_matmul_desc_init (&op, src_md, wei_md, bias_md, dst_md)
      != dnnl_success)
    goto out;
  if (dnnl_primitive_desc_create (&pd, &op, accumulate ? h->attr_sum :
          h->attr, h->engine, NULL) != dnnl_success
      || dnnl_primitive_create (&prim, pd) != dnnl_success)
    goto out;
  scratch_md = dnnl_primitive_desc_query_md (pd, dnnl_query_scratchpad_md, 0);
  if (scratch_md && dnnl_memory_desc_get_size (scratch_md) > 0) {
    scratch = g_try_malloc (dnnl_memory_desc_get_size (scratch_md));
    if (scratch == NULL)
      goto out;
  } else {
    scratch_md = NULL;
  }
  {
    const HartOnednnArg args[] = {
      {DNNL_ARG_SRC, src_md, src}, {DNNL_ARG_WEIGHTS, wei_md, wei},
      {DNNL_ARG_DST, dst_md, dst}, {DNNL_ARG_BIAS, bias_md, bias},
      {DNNL_ARG_SCRATCHPAD, scratch_md, scratch},
    };
    ok = hart_cpu_onednn_execute (h, prim, NULL, G_N_ELEMENTS (args), args);
  }

out:
  if (prim)
    dnnl_primitive_destroy (prim);
  if (pd)
    dnnl_primitive_desc_destroy (pd);
  g_free (scratch);
  return ok;
}

gboolean
hart_cpu_onednn_matmul (HartCpuHalf * h, const dnnl_memory_desc_t * src_md,
    const void *src, const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate)
{
  return onednn_matmul (h, src_md, src, wei_md, wei, bias_md, bias, dst_md,
      dst, accumulate, FALSE);
}

gboolean
hart_cpu_onednn_matmul_blocks (HartCpuHalf * h,
    const dnnl_memory_desc_t * src_md, const void *src,
    const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate)
{
  return onednn_matmul (h, src_md, src, wei_md, wei, bias_md, bias, dst_md,
      dst, accumulate, TRUE);
}

/* One panel of a linear: y[:, n0:n0+nlen] of the block. */
static gboolean
half_matmul (HartCpuHalf * h, float *y, int ldy, const uint16_t * xh,
    const uint16_t * w, const float *bias, int mb, int in, int nlen)
{
  dnnl_memory_desc_t src_md, wei_md, bias_md, dst_md;
  const dnnl_dims_t src_dims = { mb, in }, src_strides = { in, 1 };
  /* W [out, in] row-major is op(B) = Wᵀ [in, nlen] with strides (1, in) */
  const dnnl_dims_t wei_dims = { in, nlen }, wei_strides = { 1, in };
  const dnnl_dims_t bias_dims = { 1, nlen }, bias_strides = { nlen, 1 };
  const dnnl_dims_t dst_dims = { mb, nlen }, dst_strides = { ldy, 1 };

  if (dnnl_memory_desc_init_by_strides (&src_md, 2, src_dims, dnnl_bf16,
          src_strides) != dnnl_success
      || dnnl_memory_desc_init_by_strides (&wei_md, 2, wei_dims, dnnl_bf16,
          wei_strides) != dnnl_success
      || dnnl_memory_desc_init_by_strides (&bias_md, 2, bias_dims, dnnl_f32,
          bias_strides) != dnnl_success
      || dnnl_memory_desc_init_by_strides (&dst_md, 2, dst_dims, dnnl_f32,
          dst_strides) != dnnl_success)
    return FALSE;
  return hart_cpu_onednn_matmul (h, &src_md, xh, &wei_md, w,
      bias ? &bias_md : NULL, bias, &dst_md, y, FALSE);
}

static void
half_panels (gsize p0, gsize p1, gpointer data)
{
  const HalfPanels *P = data;
  HartCpuHalf *h = P->be->priv;

  for (gsize p = p0; p < p1; p++) {
    int n0 = (int) p * P->chunk;
    int nlen = MIN (P->chunk, P->out - n0);
    if (!half_matmul (h, P->y + n0, P->out, P->xh,
            P->w + (gsize) n0 * P->in, P->bias ? P->bias + n0 : NULL, P->mb,
            P->in, nlen)) {
      /* Ops do not fail on valid arguments; this is oneDNN out of memory.
       * NaN reaches the finiteness checks of the generation, which fail
       * it with an error instead of an image of garbage. */
      g_warning ("cpu backend: oneDNN bf16 matmul %dx%dx%d failed", P->mb,
          nlen, P->in);
      for (int r = 0; r < P->mb; r++)
        for (int j = 0; j < nlen; j++)
          P->y[(gsize) r * P->out + n0 + j] = NAN;
    }
  }
}

void
hart_cpu_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
    int in, int out)
{
  uint16_t *xh;
  int block = MIN (rows, HALF_ROW_BLOCK);

  g_return_if_fail (w_dtype == HART_DTYPE_BF16 && be->priv != NULL);
  if (rows <= 0 || out <= 0)
    return;
  if (in <= 0) {
    for (int r = 0; r < rows; r++)
      for (int j = 0; j < out; j++)
        y[(gsize) r * out + j] = bias ? bias[j] : 0.0f;
    return;
  }
  xh = g_malloc ((gsize) block * in * sizeof (uint16_t));
  for (int r0 = 0; r0 < rows; r0 += block) {
    int mb = MIN (block, rows - r0);
    RoundArgs R = { xh, x + (gsize) r0 * in, in };
    double macs = (double) mb * in * out;
    int parts = be->n_threads, chunk = out;
    HalfPanels P;

    hart_cpu_parallel_for (be, mb, hart_cpu_grain (be, mb, (gsize) mb * in),
        round_rows, &R);
    /* widened products: panels cut at their column tiles, so that a
     * column's bits do not depend on whether the product was cut (which
     * depends on the rows: a frame alone or in a batch) */
    const int quantum = ((HartCpuHalf *) be->priv)->widened ?
        HART_CPU_WIDE_COL_TILE : HALF_COL_QUANTUM;

    if (parts > 1 && macs >= HALF_PARALLEL_MIN_MACS && out >= 2 * quantum) {
      chunk = (out + parts - 1) / parts;
      chunk = (chunk + quantum - 1) / quantum * quantum;
    }
    parts = (out + chunk - 1) / chunk;
    P.be = be;
    P.y = y + (gsize) r0 *out;
    P.xh = xh;
    P.w = w;
    P.bias = bias;
    P.mb = mb;
    P.in = in;
    P.out = out;
    P.chunk = chunk;
    hart_cpu_parallel_for (be, parts, 1, half_panels, &P);
  }
  g_free (xh);
}

/* A small bf16 product tells whether this oneDNN has a bf16 matmul on this
 * CPU and which kernel it picked. */
static gboolean
half_probe (HartCpuHalf * h, gboolean * native)
{
  dnnl_memory_desc_t a, b, c;
  dnnl_matmul_desc_t op;
  dnnl_primitive_desc_t pd = NULL;
  const char *impl = NULL;
  const dnnl_dims_t dims = { 64, 64 }, strides = { 64, 1 };
  const dnnl_version_t *v = dnnl_version ();

  omp_set_num_threads (1);
  if (dnnl_memory_desc_init_by_strides (&a, 2, dims, dnnl_bf16, strides)
      != dnnl_success
      || dnnl_memory_desc_init_by_strides (&b, 2, dims, dnnl_bf16, strides)
      != dnnl_success
      || dnnl_memory_desc_init_by_strides (&c, 2, dims, dnnl_f32, strides)
      != dnnl_success
      || dnnl_matmul_desc_init (&op, &a, &b, NULL, &c) != dnnl_success
      || dnnl_primitive_desc_create (&pd, &op, h->attr, h->engine, NULL)
      != dnnl_success)
    return FALSE;
  dnnl_primitive_desc_query (pd, dnnl_query_impl_info_str, 0, &impl);
  g_snprintf (h->impl, sizeof h->impl, "oneDNN %d.%d.%d %s", v->major,
      v->minor, v->patch, impl ? impl : "?");
  dnnl_primitive_desc_destroy (pd);
  /* "ref": the reference loops, slower than fp32 BLAS; not worth using */
  if (impl == NULL || g_str_has_prefix (impl, "ref"))
    return FALSE;
  /* the ISA names the bf16 hardware: avx512_core_amx_bf16, avx512_core_bf16 */
  *native = strstr (impl, "amx") != NULL || strstr (impl, "bf16") != NULL;
  return TRUE;
}

/* h->attr_sum: user scratchpad and a sum post-op (dst += product) */
static gboolean
attr_with_sum (HartCpuHalf * h)
{
  dnnl_post_ops_t ops = NULL;
  gboolean ok;

  if (dnnl_primitive_attr_create (&h->attr_sum) != dnnl_success
      || dnnl_post_ops_create (&ops) != dnnl_success)
    return FALSE;
  ok = dnnl_post_ops_append_sum (ops, 1.0f) == dnnl_success
      && dnnl_primitive_attr_set_post_ops (h->attr_sum, ops) == dnnl_success
      && dnnl_primitive_attr_set_scratchpad_mode (h->attr_sum,
      dnnl_scratchpad_mode_user) == dnnl_success;
  dnnl_post_ops_destroy (ops);
  return ok;
}

void
hart_cpu_half_init (HartBackend * be)
{
  HartCpuHalf *h;
  gboolean native = FALSE;

  if (be->priv != NULL || be->half_impl != NULL)
    return;                     /* probed before */
  h = g_new0 (HartCpuHalf, 1);
  if (dnnl_engine_create (&h->engine, dnnl_cpu, 0) != dnnl_success
      || dnnl_primitive_attr_create (&h->attr) != dnnl_success
      || dnnl_primitive_attr_set_scratchpad_mode (h->attr,
          dnnl_scratchpad_mode_user) != dnnl_success || !attr_with_sum (h)) {
    g_debug ("cpu backend: oneDNN could not be set up: no bf16");
    hart_cpu_half_free (h);
    be->half_impl = "none";     /* probed: no bf16 */
    return;
  }
  /* HART_CPU_BF16=widened: the widened products where oneDNN has its own,
   * for comparisons and for testing that path on any machine */
  if (g_strcmp0 (g_getenv ("HART_CPU_BF16"), "widened") == 0
      || !half_probe (h, &native)) {
    /* no bf16 product in oneDNN for this CPU (its reference loops, or
     * none): every bf16 product widened to fp32 on OpenBLAS
     * (cpu-bf16-widened.c), the 3 × 3 convolutions on the fp32 one with
     * rounded operands (cpu-conv-half.c) */
    g_debug ("cpu backend: oneDNN has no bf16 matmul here (%s): bf16 "
        "products widened to fp32", h->impl[0] ? h->impl : "none");
    h->widened = TRUE;
    g_snprintf (h->impl, sizeof h->impl, "bf16 widened to fp32 on %s "
        "(no bf16 unit), convolutions in fp32 on rounded operands",
        hart_cpu_gemm_describe ());
  } else {
    /* the decoder's convolution, for logs and benchmarks */
    char conv[64];
    h->conv_direct = hart_cpu_conv_half_probe (h, conv, sizeof conv);
    if (h->conv_direct) {
      g_strlcat (h->impl, ", convolutions on ", sizeof h->impl);
      g_strlcat (h->impl, conv, sizeof h->impl);
    } else {
      g_strlcat (h->impl, ", convolutions by im2col", sizeof h->impl);
    }
#ifdef HART_HAVE_AMX_ATTENTION
    {
      /* the bf16 attention's kernel, for logs and benchmarks */
      const HartAttentionParams hd64 = {.head_dim = 64 };
      if (hart_cpu_attention_amx_usable (&hd64))
        g_strlcat (h->impl, ", attention on AMX tiles", sizeof h->impl);
    }
#endif
  }
  be->priv = h;
  be->half_dtypes = 1u << HART_DTYPE_BF16;
  be->half_impl = h->impl;
  be->half_native = native;
}

void
hart_cpu_half_free (HartCpuHalf * h)
{
  if (h == NULL)
    return;
  if (h->attr)
    dnnl_primitive_attr_destroy (h->attr);
  if (h->attr_sum)
    dnnl_primitive_attr_destroy (h->attr_sum);
  if (h->engine)
    dnnl_engine_destroy (h->engine);
  g_free (h);
}
