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

typedef enum
{
  OP_ALLOC, OP_FREE, OP_UPLOAD, OP_DOWNLOAD, OP_COPY, OP_COPY_2D, OP_FILL,
  OP_GEMM, OP_GEMM_BATCHED, OP_LINEAR, OP_LINEAR_HALF,
  OP_LAYER_NORM, OP_RMS_NORM, OP_MODULATE, OP_GROUP_NORM, OP_ROPE,
  OP_ATTENTION, OP_ATTENTION_HALF, OP_TO_HALF_HEADS,
  OP_SOFTMAX, OP_SILU, OP_GELU, OP_GELU_TANH, OP_SWIGLU, OP_ADD, OP_MUL,
  OP_AXPBY, OP_SCALE, OP_ADD_ROW_VECTOR, OP_CLAMP, OP_MAX_OVER_ROWS,
  OP_EMBEDDING, OP_CONV2D, OP_CONV2D_HALF, OP_GROUP_NORM_SILU_HALF,
  OP_UPSAMPLE_NEAREST2X, OP_RESIZE_BICUBIC, OP_RESIZE_AREA,
  N_OPS
} TimedOp;

G_STATIC_ASSERT (N_OPS == HART_N_TIMED_OPS);
/* Every member of the op table is timed here but name, destroy, init_half
 * and synchronize: a new op fails this until it has its wrapper (the copy
 * of the table would otherwise pass it through untimed). */
G_STATIC_ASSERT (sizeof (HartBackendOps) == (N_OPS + 4) * sizeof (void *));

static const char *const op_names[N_OPS] = {
  "alloc", "free", "upload", "download", "copy", "copy_2d", "fill",
  "gemm", "gemm_batched", "linear", "linear_half",
  "layer_norm", "rms_norm", "modulate", "group_norm", "rope",
  "attention", "attention_half", "to_half_heads",
  "softmax", "silu", "gelu", "gelu_tanh", "swiglu", "add", "mul",
  "axpby", "scale", "add_row_vector", "clamp", "max_over_rows",
  "embedding", "conv2d", "conv2d_half", "group_norm_silu_half",
  "upsample_nearest2x", "resize_bicubic", "resize_area",
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

  record (be, t, OP_ALLOC, t0, 0);
  return ptr;
}

static void
timed_free (HartBackend * be, void *ptr)
{
  TIMED_CALL (OP_FREE, 0, free (be, ptr));
}

static void
timed_upload (HartBackend * be, void *dst, const void *host_src, gsize bytes)
{
  TIMED_CALL (OP_UPLOAD, 0, upload (be, dst, host_src, bytes));
}

static void
timed_download (HartBackend * be, void *host_dst, const void *src, gsize bytes)
{
  TIMED_CALL (OP_DOWNLOAD, 0, download (be, host_dst, src, bytes));
}

static void
timed_copy (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  TIMED_CALL (OP_COPY, 0, copy (be, dst, src, bytes));
}

static void
timed_copy_2d (HartBackend * be, void *dst, gsize dst_pitch, const void *src,
    gsize src_pitch, gsize row_bytes, gsize rows)
{
  TIMED_CALL (OP_COPY_2D, 0, copy_2d (be, dst, dst_pitch, src, src_pitch,
          row_bytes, rows));
}

static void
timed_fill (HartBackend * be, float *dst, float value, gsize n)
{
  TIMED_CALL (OP_FILL, 0, fill (be, dst, value, n));
}

static void
timed_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b, int m,
    int n, int k, float alpha, const float *a, int lda, const float *b,
    int ldb, float beta, float *c, int ldc)
{
  TIMED_CALL (OP_GEMM, flops_2mnk (m, n, k), gemm (be, trans_a, trans_b, m,
          n, k, alpha, a, lda, b, ldb, beta, c, ldc));
}

static void
timed_gemm_batched (HartBackend * be, const HartGemmBatchedParams * p)
{
  TIMED_CALL (OP_GEMM_BATCHED, flops_2mnk (p->m, p->n, p->k)
      * (guint64) p->batch, gemm_batched (be, p));
}

static void
timed_linear (HartBackend * be, float *y, const float *x, const float *w,
    const float *bias, int rows, int in, int out)
{
  TIMED_CALL (OP_LINEAR, flops_2mnk (rows, out, in), linear (be, y, x, w,
          bias, rows, in, out));
}

static void
timed_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
    int in, int out)
{
  TIMED_CALL (OP_LINEAR_HALF, flops_2mnk (rows, out, in), linear_half (be, y,
          x, w, w_dtype, bias, rows, in, out));
}

static void
timed_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps)
{
  TIMED_CALL (OP_LAYER_NORM, 0, layer_norm (be, y, x, weight, bias, rows,
          dim, eps));
}

static void
timed_rms_norm (HartBackend * be, float *y, const float *x,
    const float *weight, int rows, int dim, float eps)
{
  TIMED_CALL (OP_RMS_NORM, 0, rms_norm (be, y, x, weight, rows, dim, eps));
}

static void
timed_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim)
{
  TIMED_CALL (OP_MODULATE, 0, modulate (be, x, scale, shift, mod_stride,
          batch, rows_per_batch, dim));
}

static void
timed_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  TIMED_CALL (OP_GROUP_NORM, 0, group_norm (be, y, x, weight, bias, batch,
          channels, hw, groups, eps));
}

static void
timed_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim)
{
  TIMED_CALL (OP_ROPE, 0, rope (be, x, batch_stride, row_stride, cos, sin,
          table_batch_stride, batch, len, heads, head_dim));
}

static void
timed_attention (HartBackend * be, const HartAttentionParams * p)
{
  TIMED_CALL (OP_ATTENTION, attention_flops (p), attention (be, p));
}

static void
timed_attention_half (HartBackend * be, const HartAttentionParams * p)
{
  TIMED_CALL (OP_ATTENTION_HALF, attention_flops (p), attention_half (be, p));
}

static void
timed_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim)
{
  TIMED_CALL (OP_TO_HALF_HEADS, 0, to_half_heads (be, dst, dst_batch_stride,
          dst_head_stride, src, src_batch_stride, src_row_stride, batch, len,
          heads, head_dim));
}

static void
timed_softmax (HartBackend * be, float *x, int rows, int n)
{
  TIMED_CALL (OP_SOFTMAX, 0, softmax (be, x, rows, n));
}

static void
timed_silu (HartBackend * be, float *y, const float *x, gsize n)
{
  TIMED_CALL (OP_SILU, 0, silu (be, y, x, n));
}

static void
timed_gelu (HartBackend * be, float *y, const float *x, gsize n)
{
  TIMED_CALL (OP_GELU, 0, gelu (be, y, x, n));
}

static void
timed_gelu_tanh (HartBackend * be, float *y, const float *x, gsize n)
{
  TIMED_CALL (OP_GELU_TANH, 0, gelu_tanh (be, y, x, n));
}

static void
timed_swiglu (HartBackend * be, float *y, const float *gate, const float *up,
    gsize n)
{
  TIMED_CALL (OP_SWIGLU, 0, swiglu (be, y, gate, up, n));
}

static void
timed_add (HartBackend * be, float *y, const float *a, const float *b, gsize n)
{
  TIMED_CALL (OP_ADD, 0, add (be, y, a, b, n));
}

static void
timed_mul (HartBackend * be, float *y, const float *a, const float *b, gsize n)
{
  TIMED_CALL (OP_MUL, 0, mul (be, y, a, b, n));
}

static void
timed_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n)
{
  TIMED_CALL (OP_AXPBY, 0, axpby (be, y, alpha, a, beta, b, n));
}

static void
timed_scale (HartBackend * be, float *y, const float *x, float alpha, gsize n)
{
  TIMED_CALL (OP_SCALE, 0, scale (be, y, x, alpha, n));
}

static void
timed_add_row_vector (HartBackend * be, float *x, const float *v, int rows,
    int dim)
{
  TIMED_CALL (OP_ADD_ROW_VECTOR, 0, add_row_vector (be, x, v, rows, dim));
}

static void
timed_clamp (HartBackend * be, float *y, const float *x, float lo, float hi,
    gsize n)
{
  TIMED_CALL (OP_CLAMP, 0, clamp (be, y, x, lo, hi, n));
}

static void
timed_max_over_rows (HartBackend * be, float *y, const float *x, int batch,
    int len, int dim)
{
  TIMED_CALL (OP_MAX_OVER_ROWS, 0, max_over_rows (be, y, x, batch, len, dim));
}

static void
timed_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim)
{
  TIMED_CALL (OP_EMBEDDING, 0, embedding (be, y, table, ids, n, dim));
}

static void
timed_conv2d (HartBackend * be, const HartConv2dParams * p)
{
  TIMED_CALL (OP_CONV2D, conv2d_flops (p), conv2d (be, p));
}

static void
timed_conv2d_half (HartBackend * be, const HartConv2dParams * p)
{
  TIMED_CALL (OP_CONV2D_HALF, conv2d_flops (p), conv2d_half (be, p));
}

static void
timed_group_norm_silu_half (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  TIMED_CALL (OP_GROUP_NORM_SILU_HALF, 0, group_norm_silu_half (be, y, x,
          weight, bias, batch, channels, hw, groups, eps));
}

static void
timed_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width)
{
  TIMED_CALL (OP_UPSAMPLE_NEAREST2X, 0, upsample_nearest2x (be, y, x, batch,
          channels, height, width));
}

static void
timed_resize_bicubic (HartBackend * be, float *y, const float *x, int batch,
    int channels, int in_h, int in_w, int out_h, int out_w)
{
  TIMED_CALL (OP_RESIZE_BICUBIC, 0, resize_bicubic (be, y, x, batch,
          channels, in_h, in_w, out_h, out_w));
}

static void
timed_resize_area (HartBackend * be, float *y, const float *x, int batch,
    int channels, int in_h, int in_w, int out_h, int out_w)
{
  TIMED_CALL (OP_RESIZE_AREA, 0, resize_area (be, y, x, batch, channels,
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
  G_STMT_START { \
    if (t->inner->member != NULL) \
      t->ops.member = timed_##member; \
  } G_STMT_END

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
  WRAP (alloc);
  WRAP (free);
  WRAP (upload);
  WRAP (download);
  WRAP (copy);
  WRAP (copy_2d);
  WRAP (fill);
  WRAP (gemm);
  WRAP (gemm_batched);
  WRAP (linear);
  WRAP (linear_half);
  WRAP (layer_norm);
  WRAP (rms_norm);
  WRAP (modulate);
  WRAP (group_norm);
  WRAP (rope);
  WRAP (attention);
  WRAP (attention_half);
  WRAP (to_half_heads);
  WRAP (softmax);
  WRAP (silu);
  WRAP (gelu);
  WRAP (gelu_tanh);
  WRAP (swiglu);
  WRAP (add);
  WRAP (mul);
  WRAP (axpby);
  WRAP (scale);
  WRAP (add_row_vector);
  WRAP (clamp);
  WRAP (max_over_rows);
  WRAP (embedding);
  WRAP (conv2d);
  WRAP (conv2d_half);
  WRAP (group_norm_silu_half);
  WRAP (upsample_nearest2x);
  WRAP (resize_bicubic);
  WRAP (resize_area);
  for (int i = 0; i < N_OPS; i++) {
    atomic_init (&t->counters[i].calls, 0);
    atomic_init (&t->counters[i].ns, 0);
    atomic_init (&t->counters[i].flops, 0);
  }
  be->ops = &t->ops;
}

gboolean
hart_backend_ops_timed (const HartBackend * be)
{
  return be != NULL && be->ops != NULL && be->ops->destroy == timed_destroy;
}

gboolean
hart_backend_get_op_totals (const HartBackend * be,
    HartOpTotal totals[HART_N_TIMED_OPS])
{
  TimedOps *t;

  if (!hart_backend_ops_timed (be))
    return FALSE;
  t = (TimedOps *) be->ops;
  for (int i = 0; i < N_OPS; i++) {
    OpCounter *c = &t->counters[i];

    totals[i].op = op_names[i];
    totals[i].calls = atomic_load_explicit (&c->calls, memory_order_relaxed);
    totals[i].ns = atomic_load_explicit (&c->ns, memory_order_relaxed);
    totals[i].flops = atomic_load_explicit (&c->flops, memory_order_relaxed);
  }
  return TRUE;
}
