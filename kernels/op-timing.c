/* gst-hart — per-op timing of a backend (a wrapper around its op table)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kernels/op-timing.h says what and why.  How: the wrapper is a copy of
 * the backend's op table whose members call the original member between
 * two reads of CLOCK_MONOTONIC; be->ops then points at the copy, which is
 * the first member of a TimedOps, so a wrapped call finds its counters and
 * the original table from `be` alone.  A member the backend leaves NULL
 * (linear_half on a backend without half precision) stays NULL, so the
 * engine's checks of what a backend has see the same table.  Counters are
 * C11 atomics: the CPU backend's ops may run from several threads at once
 * (HartBackend.concurrent).
 */
#include "op-timing.h"

#include <stdatomic.h>
#include <time.h>

/* The timed members of the op table, in its order: the enum, the names
 * and the wrapping below all come from this one list. */
/* *INDENT-OFF* */
#define TIMED_OPS(X) \
  X (alloc) X (free) X (upload) X (download) X (alloc_host) X (free_host) \
  X (copy) X (copy_2d) X (fill) \
  X (gemm) X (gemm_batched) X (linear) X (linear_half) X (layer_norm) \
  X (rms_norm) X (modulate) X (group_norm) X (rope) X (attention) \
  X (attention_half) X (to_half_heads) X (softmax) X (silu) X (gelu) \
  X (gelu_tanh) X (swiglu) X (add) X (mul) X (axpby) X (scale) \
  X (add_row_vector) X (clamp) X (max_over_rows) X (embedding) X (conv2d) \
  X (conv2d_half) X (group_norm_silu_half) X (upsample_nearest2x) \
  X (resize_bicubic) X (resize_area)

#define OP_ENUM(name) OP_##name,
typedef enum
{
  TIMED_OPS (OP_ENUM)
  N_OPS
} TimedOp;
#undef OP_ENUM
/* *INDENT-ON* */

G_STATIC_ASSERT (N_OPS == HART_N_TIMED_OPS);
/* Every member of the op table is timed here but name, destroy, init_half
 * and synchronize: a new op fails this until it has its wrapper (the copy
 * of the table would otherwise pass it through untimed). */
G_STATIC_ASSERT (sizeof (HartBackendOps) == (N_OPS + 4) * sizeof (void *));

#define OP_NAME(name) #name,
static const char *const op_names[N_OPS] = { TIMED_OPS (OP_NAME) };

#undef OP_NAME

static const char *const host_work_names[HART_N_HOST_WORK] = {
  [HART_HOST_SAMPLING] = "(host) sampling",
  [HART_HOST_DIFFUSION_STEP] = "(host) diffusion steps",
};

typedef struct
{
  atomic_uint_least64_t calls, ns, flops;
} OpCounter;

typedef struct
{
  HartBackendOps ops;           /* first: be->ops points here */
  const HartBackendOps *inner;
  OpCounter counters[N_OPS];
  OpCounter host[HART_N_HOST_WORK];     /* flops stays 0 */
} TimedOps;

static inline TimedOps *
timed (HartBackend * be)
{
  return (TimedOps *) be->ops;
}

static inline guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * 1000000000u + (guint64) ts.tv_nsec;
}

/* After the call: a queued backend finishes it first (op-timing.h). */
static void
record (HartBackend * be, TimedOps * t, TimedOp op, guint64 t0, guint64 flops)
{
  OpCounter *c = &t->counters[op];

  if (!be->host_memory && t->inner->synchronize != NULL)
    t->inner->synchronize (be, NULL);   /* a sticky error stays for later */
  atomic_fetch_add_explicit (&c->ns, now_ns () - t0, memory_order_relaxed);
  atomic_fetch_add_explicit (&c->flops, flops, memory_order_relaxed);
  atomic_fetch_add_explicit (&c->calls, 1, memory_order_relaxed);
}

/* The body of a wrapper that returns nothing: CALL is the original
 * member's call, FLOPS its nominal work. */
#define TIMED_CALL(op, flops, call) \
  G_STMT_START { \
    TimedOps *t_ = timed (be); \
    const guint64 t0_ = now_ns (); \
    t_->inner->call; \
    record (be, t_, (op), t0_, (flops)); \
  } G_STMT_END

static guint64
flops_2mnk (guint64 m, guint64 n, guint64 k)
{
  return 2 * m * n * k;
}

static guint64
attention_flops (const HartAttentionParams * p)
{
  /* q·kᵀ and P·v: 2 · 2 · q_len · kv_len · head_dim per query head */
  return 2 * flops_2mnk (p->q_len, p->kv_len, p->head_dim)
      * (guint64) p->batch * (guint64) p->q_heads;
}

static guint64
conv2d_flops (const HartConv2dParams * p)
{
  const guint64 oh = p->height + 2 * p->pad - p->k + 1;
  const guint64 ow = p->width + 2 * p->pad - p->k + 1;

  return flops_2mnk ((guint64) p->batch * oh * ow, p->cout,
      (guint64) p->cin * p->k * p->k);
}

static void *
timed_alloc (HartBackend * be, gsize bytes, GError ** error)
{
  TimedOps *t = timed (be);
  const guint64 t0 = now_ns ();
  void *ptr = t->inner->alloc (be, bytes, error);

  record (be, t, OP_alloc, t0, 0);
  return ptr;
}

static void
timed_free (HartBackend * be, void *ptr)
{
  TIMED_CALL (OP_free, 0, free (be, ptr));
}

static void
timed_upload (HartBackend * be, void *dst, const void *host_src, gsize bytes)
{
  TIMED_CALL (OP_upload, 0, upload (be, dst, host_src, bytes));
}

static void
timed_download (HartBackend * be, void *host_dst, const void *src, gsize bytes)
{
  TIMED_CALL (OP_download, 0, download (be, host_dst, src, bytes));
}

static void *
timed_alloc_host (HartBackend * be, gsize bytes, GError ** error)
{
  TimedOps *t = timed (be);
  const guint64 t0 = now_ns ();
  void *ptr = t->inner->alloc_host (be, bytes, error);

  record (be, t, OP_alloc_host, t0, 0);
  return ptr;
}

static void
timed_free_host (HartBackend * be, void *ptr)
{
  TIMED_CALL (OP_free_host, 0, free_host (be, ptr));
}

static void
timed_copy (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  TIMED_CALL (OP_copy, 0, copy (be, dst, src, bytes));
}

static void
timed_copy_2d (HartBackend * be, void *dst, gsize dst_pitch, const void *src,
    gsize src_pitch, gsize row_bytes, gsize rows)
{
  TIMED_CALL (OP_copy_2d, 0, copy_2d (be, dst, dst_pitch, src, src_pitch,
          row_bytes, rows));
}

static void
timed_fill (HartBackend * be, float *dst, float value, gsize n)
{
  TIMED_CALL (OP_fill, 0, fill (be, dst, value, n));
}

static void
timed_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b, int m,
    int n, int k, float alpha, const float *a, int lda, const float *b,
    int ldb, float beta, float *c, int ldc)
{
  TIMED_CALL (OP_gemm, flops_2mnk (m, n, k), gemm (be, trans_a, trans_b, m,
          n, k, alpha, a, lda, b, ldb, beta, c, ldc));
}

static void
timed_gemm_batched (HartBackend * be, const HartGemmBatchedParams * p)
{
  TIMED_CALL (OP_gemm_batched, flops_2mnk (p->m, p->n, p->k)
      * (guint64) p->batch, gemm_batched (be, p));
}

static void
timed_linear (HartBackend * be, float *y, const float *x, const float *w,
    const float *bias, int rows, int in, int out)
{
  TIMED_CALL (OP_linear, flops_2mnk (rows, out, in), linear (be, y, x, w,
          bias, rows, in, out));
}

static void
timed_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
    int in, int out)
{
  TIMED_CALL (OP_linear_half, flops_2mnk (rows, out, in), linear_half (be, y,
          x, w, w_dtype, bias, rows, in, out));
}

static void
timed_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps)
{
  TIMED_CALL (OP_layer_norm, 0, layer_norm (be, y, x, weight, bias, rows,
          dim, eps));
}

static void
timed_rms_norm (HartBackend * be, float *y, const float *x,
    const float *weight, int rows, int dim, float eps)
{
  TIMED_CALL (OP_rms_norm, 0, rms_norm (be, y, x, weight, rows, dim, eps));
}

static void
timed_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim)
{
  TIMED_CALL (OP_modulate, 0, modulate (be, x, scale, shift, mod_stride,
          batch, rows_per_batch, dim));
}

static void
timed_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  TIMED_CALL (OP_group_norm, 0, group_norm (be, y, x, weight, bias, batch,
          channels, hw, groups, eps));
}

static void
timed_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim)
{
  TIMED_CALL (OP_rope, 0, rope (be, x, batch_stride, row_stride, cos, sin,
          table_batch_stride, batch, len, heads, head_dim));
}

static void
timed_attention (HartBackend * be, const HartAttentionParams * p)
{
  TIMED_CALL (OP_attention, attention_flops (p), attention (be, p));
}

static void
timed_attention_half (HartBackend * be, const HartAttentionParams * p)
{
  TIMED_CALL (OP_attention_half, attention_flops (p), attention_half (be, p));
}

static void
timed_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim)
{
  TIMED_CALL (OP_to_half_heads, 0, to_half_heads (be, dst, dst_batch_stride,
          dst_head_stride, src, src_batch_stride, src_row_stride, batch, len,
          heads, head_dim));
}

static void
timed_softmax (HartBackend * be, float *x, int rows, int n)
{
  TIMED_CALL (OP_softmax, 0, softmax (be, x, rows, n));
}

static void
timed_silu (HartBackend * be, float *y, const float *x, gsize n)
{
  TIMED_CALL (OP_silu, 0, silu (be, y, x, n));
}

static void
timed_gelu (HartBackend * be, float *y, const float *x, gsize n)
{
  TIMED_CALL (OP_gelu, 0, gelu (be, y, x, n));
}

static void
timed_gelu_tanh (HartBackend * be, float *y, const float *x, gsize n)
{
  TIMED_CALL (OP_gelu_tanh, 0, gelu_tanh (be, y, x, n));
}

static void
timed_swiglu (HartBackend * be, float *y, const float *gate, const float *up,
    gsize n)
{
  TIMED_CALL (OP_swiglu, 0, swiglu (be, y, gate, up, n));
}

static void
timed_add (HartBackend * be, float *y, const float *a, const float *b, gsize n)
{
  TIMED_CALL (OP_add, 0, add (be, y, a, b, n));
}

static void
timed_mul (HartBackend * be, float *y, const float *a, const float *b, gsize n)
{
  TIMED_CALL (OP_mul, 0, mul (be, y, a, b, n));
}

static void
timed_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n)
{
  TIMED_CALL (OP_axpby, 0, axpby (be, y, alpha, a, beta, b, n));
}

static void
timed_scale (HartBackend * be, float *y, const float *x, float alpha, gsize n)
{
  TIMED_CALL (OP_scale, 0, scale (be, y, x, alpha, n));
}

static void
timed_add_row_vector (HartBackend * be, float *x, const float *v, int rows,
    int dim)
{
  TIMED_CALL (OP_add_row_vector, 0, add_row_vector (be, x, v, rows, dim));
}

static void
timed_clamp (HartBackend * be, float *y, const float *x, float lo, float hi,
    gsize n)
{
  TIMED_CALL (OP_clamp, 0, clamp (be, y, x, lo, hi, n));
}

static void
timed_max_over_rows (HartBackend * be, float *y, const float *x, int batch,
    int len, int dim)
{
  TIMED_CALL (OP_max_over_rows, 0, max_over_rows (be, y, x, batch, len, dim));
}

static void
timed_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim)
{
  TIMED_CALL (OP_embedding, 0, embedding (be, y, table, ids, n, dim));
}

static void
timed_conv2d (HartBackend * be, const HartConv2dParams * p)
{
  TIMED_CALL (OP_conv2d, conv2d_flops (p), conv2d (be, p));
}

static void
timed_conv2d_half (HartBackend * be, const HartConv2dParams * p)
{
  TIMED_CALL (OP_conv2d_half, conv2d_flops (p), conv2d_half (be, p));
}

static void
timed_group_norm_silu_half (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  TIMED_CALL (OP_group_norm_silu_half, 0, group_norm_silu_half (be, y, x,
          weight, bias, batch, channels, hw, groups, eps));
}

static void
timed_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width)
{
  TIMED_CALL (OP_upsample_nearest2x, 0, upsample_nearest2x (be, y, x, batch,
          channels, height, width));
}

static void
timed_resize_bicubic (HartBackend * be, float *y, const float *x, int batch,
    int channels, int in_h, int in_w, int out_h, int out_w)
{
  TIMED_CALL (OP_resize_bicubic, 0, resize_bicubic (be, y, x, batch,
          channels, in_h, in_w, out_h, out_w));
}

static void
timed_resize_area (HartBackend * be, float *y, const float *x, int batch,
    int channels, int in_h, int in_w, int out_h, int out_w)
{
  TIMED_CALL (OP_resize_area, 0, resize_area (be, y, x, batch, channels,
          in_h, in_w, out_h, out_w));
}

static void
timed_destroy (HartBackend * be)
{
  TimedOps *t = timed (be);

  /* the backend's own destroy frees be, and may look at be->ops */
  be->ops = t->inner;
  t->inner->destroy (be);
  g_free (t);
}

/* Each member the backend has, replaced by its wrapper; NULL stays NULL. */
#define WRAP(member) \
  if (t->inner->member != NULL) \
    t->ops.member = timed_##member;

void
hart_backend_time_ops (HartBackend * be)
{
  TimedOps *t;

  g_return_if_fail (be != NULL);
  if (hart_backend_ops_timed (be))
    return;
  t = g_new0 (TimedOps, 1);
  t->inner = be->ops;
  t->ops = *be->ops;            /* name, init_half, synchronize as they are */
  t->ops.destroy = timed_destroy;
  TIMED_OPS (WRAP);
  for (int i = 0; i < N_OPS + HART_N_HOST_WORK; i++) {
    OpCounter *c = i < N_OPS ? &t->counters[i] : &t->host[i - N_OPS];
    atomic_init (&c->calls, 0);
    atomic_init (&c->ns, 0);
    atomic_init (&c->flops, 0);
  }
  be->ops = &t->ops;
}

gboolean
hart_backend_ops_timed (const HartBackend * be)
{
  return be != NULL && be->ops != NULL && be->ops->destroy == timed_destroy;
}

guint64
hart_backend_host_clock (const HartBackend * be)
{
  return hart_backend_ops_timed (be) ? now_ns () : 0;
}

void
hart_backend_host_done (HartBackend * be, HartHostWork work, guint64 t0)
{
  OpCounter *c;

  g_return_if_fail (work >= 0 && work < HART_N_HOST_WORK);
  if (t0 == 0 || !hart_backend_ops_timed (be))
    return;
  c = &timed (be)->host[work];
  atomic_fetch_add_explicit (&c->ns, now_ns () - t0, memory_order_relaxed);
  atomic_fetch_add_explicit (&c->calls, 1, memory_order_relaxed);
}

gboolean
hart_backend_get_op_totals (const HartBackend * be,
    HartOpTotal totals[HART_N_TIMED])
{
  TimedOps *t;

  if (!hart_backend_ops_timed (be))
    return FALSE;
  t = (TimedOps *) be->ops;
  for (int i = 0; i < N_OPS + HART_N_HOST_WORK; i++) {
    OpCounter *c = i < N_OPS ? &t->counters[i] : &t->host[i - N_OPS];

    totals[i].op = i < N_OPS ? op_names[i] : host_work_names[i - N_OPS];
    totals[i].calls = atomic_load_explicit (&c->calls, memory_order_relaxed);
    totals[i].ns = atomic_load_explicit (&c->ns, memory_order_relaxed);
    totals[i].flops = atomic_load_explicit (&c->flops, memory_order_relaxed);
  }
  return TRUE;
}
