/* gst-hart — per-op timing (kernels/op-timing.h, hart_engine_time_ops)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *  - the wrapper passes every call through: the same outputs, bit for bit,
 *    op by op and for a whole generation of the bundled model;
 *  - it counts each call once, with the op's nominal work (exact counts,
 *    also from several threads at once);
 *  - a member the backend lacks stays NULL, and the backend is destroyed
 *    through the wrapper;
 *  - through the engine: nothing before hart_engine_time_ops (), then the
 *    ops a generation runs, their time within the generation's.
 */
#include "hart/hart.h"
#include "hart/bundled-model.h"
#include "hart/text-encoder.h"
#include "kernels/op-timing.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

static float *
random_floats (GRand * rand, gsize n)
{
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -1, 1);
  return v;
}

static const HartOpTotal *
find_total (const HartOpTotal * totals, const char *op)
{
  for (int i = 0; i < HART_N_TIMED; i++)
    if (strcmp (totals[i].op, op) == 0)
      return &totals[i];
  g_assert_not_reached ();
  return NULL;
}

static HartBackend *
cpu_backend (int n_threads)
{
  GError *error = NULL;
  HartBackend *be = hart_backend_new ("cpu", 0, n_threads, &error);

  g_assert_no_error (error);
  return be;
}

/* linear, gemm_batched, attention and conv2d through a plain and a timed
 * backend: the same bits, and each counted once with its nominal work */
static void
test_pass_through (void)
{
  HartBackend *plain = cpu_backend (2), *timed = cpu_backend (2);
  HartOpTotal totals[HART_N_TIMED];
  GRand *rand = g_rand_new_with_seed (7);
  enum
  { R = 5, IN = 24, OUT = 17, BATCH = 3, L = 9, HEADS = 2, D = 8,
    CIN = 3, COUT = 4, H = 6, W = 7, K = 3
  };
  float *x = random_floats (rand, R * IN), *w = random_floats (rand,
      OUT * IN), *bias = random_floats (rand, OUT);
  float *y0 = g_new0 (float, R * OUT), *y1 = g_new0 (float, R * OUT);
  float *a = random_floats (rand, BATCH * L * IN), *b =
      random_floats (rand, BATCH * IN * OUT);
  float *c0 = g_new0 (float, BATCH * L * OUT), *c1 =
      g_new0 (float, BATCH * L * OUT);
  float *qkv = random_floats (rand, 2 * L * 3 * HEADS * D);
  float *o0 = g_new0 (float, 2 * L * HEADS * D), *o1 =
      g_new0 (float, 2 * L * HEADS * D);
  float *img = random_floats (rand, 2 * CIN * H * W), *cw =
      random_floats (rand, COUT * CIN * K * K);
  float *i0 = g_new0 (float, 2 * COUT * H * W), *i1 =
      g_new0 (float, 2 * COUT * H * W);
  HartGemmBatchedParams gp = {
    .trans_a = FALSE,.trans_b = FALSE,.m = L,.n = OUT,.k = IN,.batch = BATCH,
    .alpha = 1,.beta = 0,.a = a,.lda = IN,.stride_a = L * IN,.b = b,
    .ldb = OUT,.stride_b = IN * OUT,.ldc = OUT,.stride_c = L * OUT,
  };
  HartAttentionParams ap = {
    .batch = 2,.q_heads = HEADS,.kv_heads = HEADS,.q_len = L,.kv_len = L,
    .head_dim = D,.scale = 0.35f,.q = qkv,.q_batch_stride = L * 3 * HEADS * D,
    .q_row_stride = 3 * HEADS * D,.k = qkv + HEADS * D,
    .k_batch_stride = L * 3 * HEADS * D,.k_row_stride = 3 * HEADS * D,
    .v = qkv + 2 * HEADS * D,.v_batch_stride = L * 3 * HEADS * D,
    .v_row_stride = 3 * HEADS * D,.out_batch_stride = L * HEADS * D,
    .out_row_stride = HEADS * D,.causal = TRUE,
  };
  HartConv2dParams cp = {
    .x = img,.w = cw,.bias = bias,.batch = 2,.cin = CIN,.height = H,
    .width = W,.cout = COUT,.k = K,.pad = 1,
  };
  guint64 ns = 0;

  g_assert_false (hart_backend_ops_timed (timed));
  g_assert_false (hart_backend_get_op_totals (timed, totals));
  hart_backend_time_ops (timed);
  g_assert_true (hart_backend_ops_timed (timed));
  g_assert_false (hart_backend_ops_timed (plain));
  g_assert_cmpstr (timed->ops->name, ==, plain->ops->name);

  plain->ops->linear (plain, y0, x, w, bias, R, IN, OUT);
  timed->ops->linear (timed, y1, x, w, bias, R, IN, OUT);
  g_assert_cmpmem (y0, R * OUT * sizeof (float), y1, R * OUT * sizeof (float));

  gp.c = c0;
  plain->ops->gemm_batched (plain, &gp);
  gp.c = c1;
  timed->ops->gemm_batched (timed, &gp);
  g_assert_cmpmem (c0, BATCH * L * OUT * sizeof (float), c1,
      BATCH * L * OUT * sizeof (float));

  ap.out = o0;
  plain->ops->attention (plain, &ap);
  ap.out = o1;
  timed->ops->attention (timed, &ap);
  g_assert_cmpmem (o0, 2 * L * HEADS * D * sizeof (float), o1,
      2 * L * HEADS * D * sizeof (float));

  cp.y = i0;
  plain->ops->conv2d (plain, &cp);
  cp.y = i1;
  timed->ops->conv2d (timed, &cp);
  g_assert_cmpmem (i0, 2 * COUT * H * W * sizeof (float), i1,
      2 * COUT * H * W * sizeof (float));

  timed->ops->silu (timed, y1, y1, R * OUT);
  timed->ops->silu (timed, y1, y1, R * OUT);

  g_assert_true (hart_backend_get_op_totals (timed, totals));
  for (int i = 0; i < HART_N_TIMED; i++) {
    g_assert_nonnull (totals[i].op);
    for (int j = 0; j < i; j++)
      g_assert_cmpstr (totals[i].op, !=, totals[j].op);
    ns += totals[i].ns;
  }
  g_assert_cmpuint (find_total (totals, "linear")->calls, ==, 1);
  g_assert_cmpuint (find_total (totals, "linear")->flops, ==, 2 * R * IN * OUT);
  g_assert_cmpuint (find_total (totals, "gemm_batched")->calls, ==, 1);
  g_assert_cmpuint (find_total (totals, "gemm_batched")->flops, ==,
      2 * BATCH * L * IN * OUT);
  /* every query against every key, the causal mask notwithstanding */
  g_assert_cmpuint (find_total (totals, "attention")->flops, ==,
      2 * HEADS * 4 * L * L * D);
  /* pad 1, k 3: the output is H × W */
  g_assert_cmpuint (find_total (totals, "conv2d")->flops, ==,
      2 * 2 * COUT * H * W * CIN * K * K);
  g_assert_cmpuint (find_total (totals, "silu")->calls, ==, 2);
  g_assert_cmpuint (find_total (totals, "silu")->flops, ==, 0);
  g_assert_cmpuint (find_total (totals, "gemm")->calls, ==, 0);
  g_assert_cmpuint (ns, >, 0);

  /* a second wrap changes nothing */
  {
    const HartBackendOps *ops = timed->ops;
    hart_backend_time_ops (timed);
    g_assert_true (timed->ops == ops);
    g_assert_true (hart_backend_get_op_totals (timed, totals));
    g_assert_cmpuint (find_total (totals, "silu")->calls, ==, 2);
  }

  hart_backend_free (plain);
  hart_backend_free (timed);
  g_rand_free (rand);
  g_free (x);
  g_free (w);
  g_free (bias);
  g_free (y0);
  g_free (y1);
  g_free (a);
  g_free (b);
  g_free (c0);
  g_free (c1);
  g_free (qkv);
  g_free (o0);
  g_free (o1);
  g_free (img);
  g_free (cw);
  g_free (i0);
  g_free (i1);
}

/* ---- every member's arguments, in order ---- */

/* What the last call of a recording member saw: its name and its
 * arguments as numbers (pointers by address), in the order of the member's
 * declaration. */
static struct
{
  const char *op;
  double v[16];
  int n;
} seen;

#define SEEN_BEGIN(name) (seen.op = (name), seen.n = 0)
#define SEEN(x) (seen.v[seen.n++] = (double) (x))
#define SEEN_PTR(p) SEEN ((uintptr_t) (p))

static void *
rec_alloc (HartBackend * be, gsize bytes, GError ** error)
{
  SEEN_BEGIN ("alloc"), SEEN (bytes), SEEN_PTR (error);
  return (void *) (uintptr_t) 0x7700;
}

static void
rec_free (HartBackend * be, void *ptr)
{
  SEEN_BEGIN ("free"), SEEN_PTR (ptr);
}

static void
rec_upload (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  SEEN_BEGIN ("upload"), SEEN_PTR (dst), SEEN_PTR (src), SEEN (bytes);
}

static void
rec_download (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  SEEN_BEGIN ("download"), SEEN_PTR (dst), SEEN_PTR (src), SEEN (bytes);
}

static void *
rec_alloc_host (HartBackend * be, gsize bytes, GError ** error)
{
  SEEN_BEGIN ("alloc_host"), SEEN (bytes), SEEN_PTR (error);
  return (void *) (uintptr_t) 0x7800;
}

static void
rec_free_host (HartBackend * be, void *ptr)
{
  SEEN_BEGIN ("free_host"), SEEN_PTR (ptr);
}

static void
rec_copy (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  SEEN_BEGIN ("copy"), SEEN_PTR (dst), SEEN_PTR (src), SEEN (bytes);
}

static void
rec_copy_2d (HartBackend * be, void *dst, gsize dst_pitch, const void *src,
    gsize src_pitch, gsize row_bytes, gsize rows)
{
  SEEN_BEGIN ("copy_2d"), SEEN_PTR (dst), SEEN (dst_pitch), SEEN_PTR (src),
      SEEN (src_pitch), SEEN (row_bytes), SEEN (rows);
}

static void
rec_fill (HartBackend * be, float *dst, float value, gsize n)
{
  SEEN_BEGIN ("fill"), SEEN_PTR (dst), SEEN (value), SEEN (n);
}

static void
rec_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b, int m, int n,
    int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  SEEN_BEGIN ("gemm"), SEEN (trans_a), SEEN (trans_b), SEEN (m), SEEN (n),
      SEEN (k), SEEN (alpha), SEEN_PTR (a), SEEN (lda), SEEN_PTR (b),
      SEEN (ldb), SEEN (beta), SEEN_PTR (c), SEEN (ldc);
}

static void
rec_gemm_batched (HartBackend * be, const HartGemmBatchedParams * p)
{
  SEEN_BEGIN ("gemm_batched"), SEEN_PTR (p);
}

static void
rec_linear (HartBackend * be, float *y, const float *x, const float *w,
    const float *bias, int rows, int in, int out)
{
  SEEN_BEGIN ("linear"), SEEN_PTR (y), SEEN_PTR (x), SEEN_PTR (w),
      SEEN_PTR (bias), SEEN (rows), SEEN (in), SEEN (out);
}

static void
rec_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows, int in,
    int out)
{
  SEEN_BEGIN ("linear_half"), SEEN_PTR (y), SEEN_PTR (x), SEEN_PTR (w),
      SEEN (w_dtype), SEEN_PTR (bias), SEEN (rows), SEEN (in), SEEN (out);
}

static void
rec_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps)
{
  SEEN_BEGIN ("layer_norm"), SEEN_PTR (y), SEEN_PTR (x), SEEN_PTR (weight),
      SEEN_PTR (bias), SEEN (rows), SEEN (dim), SEEN (eps);
}

static void
rec_rms_norm (HartBackend * be, float *y, const float *x, const float *weight,
    int rows, int dim, float eps)
{
  SEEN_BEGIN ("rms_norm"), SEEN_PTR (y), SEEN_PTR (x), SEEN_PTR (weight),
      SEEN (rows), SEEN (dim), SEEN (eps);
}

static void
rec_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim)
{
  SEEN_BEGIN ("modulate"), SEEN_PTR (x), SEEN_PTR (scale), SEEN_PTR (shift),
      SEEN (mod_stride), SEEN (batch), SEEN (rows_per_batch), SEEN (dim);
}

static void
rec_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  SEEN_BEGIN ("group_norm"), SEEN_PTR (y), SEEN_PTR (x), SEEN_PTR (weight),
      SEEN_PTR (bias), SEEN (batch), SEEN (channels), SEEN (hw),
      SEEN (groups), SEEN (eps);
}

static void
rec_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim)
{
  SEEN_BEGIN ("rope"), SEEN_PTR (x), SEEN (batch_stride), SEEN (row_stride),
      SEEN_PTR (cos), SEEN_PTR (sin), SEEN (table_batch_stride),
      SEEN (batch), SEEN (len), SEEN (heads), SEEN (head_dim);
}

static void
rec_attention (HartBackend * be, const HartAttentionParams * p)
{
  SEEN_BEGIN ("attention"), SEEN_PTR (p);
}

static void
rec_attention_half (HartBackend * be, const HartAttentionParams * p)
{
  SEEN_BEGIN ("attention_half"), SEEN_PTR (p);
}

static void
rec_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim)
{
  SEEN_BEGIN ("to_half_heads"), SEEN_PTR (dst), SEEN (dst_batch_stride),
      SEEN (dst_head_stride), SEEN_PTR (src), SEEN (src_batch_stride),
      SEEN (src_row_stride), SEEN (batch), SEEN (len), SEEN (heads),
      SEEN (head_dim);
}

static void
rec_softmax (HartBackend * be, float *x, int rows, int n)
{
  SEEN_BEGIN ("softmax"), SEEN_PTR (x), SEEN (rows), SEEN (n);
}

/* y, x, n: silu, gelu, gelu_tanh */
#define REC_UNARY(name) \
  static void \
  rec_##name (HartBackend * be, float *y, const float *x, gsize n) \
  { \
    SEEN_BEGIN (#name), SEEN_PTR (y), SEEN_PTR (x), SEEN (n); \
  }
/* *INDENT-OFF* */
REC_UNARY (silu)
REC_UNARY (gelu)
REC_UNARY (gelu_tanh)
/* *INDENT-ON* */

/* y, a, b, n: swiglu, add, mul */
#define REC_BINARY(name) \
  static void \
  rec_##name (HartBackend * be, float *y, const float *a, const float *b, \
      gsize n) \
  { \
    SEEN_BEGIN (#name), SEEN_PTR (y), SEEN_PTR (a), SEEN_PTR (b), SEEN (n); \
  }
/* *INDENT-OFF* */
REC_BINARY (swiglu)
REC_BINARY (add)
REC_BINARY (mul)
/* *INDENT-ON* */

static void
rec_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n)
{
  SEEN_BEGIN ("axpby"), SEEN_PTR (y), SEEN (alpha), SEEN_PTR (a),
      SEEN (beta), SEEN_PTR (b), SEEN (n);
}

static void
rec_scale (HartBackend * be, float *y, const float *x, float alpha, gsize n)
{
  SEEN_BEGIN ("scale"), SEEN_PTR (y), SEEN_PTR (x), SEEN (alpha), SEEN (n);
}

static void
rec_add_row_vector (HartBackend * be, float *x, const float *v, int rows,
    int dim)
{
  SEEN_BEGIN ("add_row_vector"), SEEN_PTR (x), SEEN_PTR (v), SEEN (rows),
      SEEN (dim);
}

static void
rec_clamp (HartBackend * be, float *y, const float *x, float lo, float hi,
    gsize n)
{
  SEEN_BEGIN ("clamp"), SEEN_PTR (y), SEEN_PTR (x), SEEN (lo), SEEN (hi),
      SEEN (n);
}

static void
rec_max_over_rows (HartBackend * be, float *y, const float *x, int batch,
    int len, int dim)
{
  SEEN_BEGIN ("max_over_rows"), SEEN_PTR (y), SEEN_PTR (x), SEEN (batch),
      SEEN (len), SEEN (dim);
}

static void
rec_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim)
{
  SEEN_BEGIN ("embedding"), SEEN_PTR (y), SEEN_PTR (table), SEEN_PTR (ids),
      SEEN (n), SEEN (dim);
}

static void
rec_conv2d (HartBackend * be, const HartConv2dParams * p)
{
  SEEN_BEGIN ("conv2d"), SEEN_PTR (p);
}

static void
rec_conv2d_half (HartBackend * be, const HartConv2dParams * p)
{
  SEEN_BEGIN ("conv2d_half"), SEEN_PTR (p);
}

static void
rec_group_norm_silu_half (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
  SEEN_BEGIN ("group_norm_silu_half"), SEEN_PTR (y), SEEN_PTR (x),
      SEEN_PTR (weight), SEEN_PTR (bias), SEEN (batch), SEEN (channels),
      SEEN (hw), SEEN (groups), SEEN (eps);
}

static void
rec_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width)
{
  SEEN_BEGIN ("upsample_nearest2x"), SEEN_PTR (y), SEEN_PTR (x),
      SEEN (batch), SEEN (channels), SEEN (height), SEEN (width);
}

/* y, x, batch, channels, in_h, in_w, out_h, out_w: the two resizes */
#define REC_RESIZE(name) \
  static void \
  rec_##name (HartBackend * be, float *y, const float *x, int batch, \
      int channels, int in_h, int in_w, int out_h, int out_w) \
  { \
    SEEN_BEGIN (#name), SEEN_PTR (y), SEEN_PTR (x), SEEN (batch), \
        SEEN (channels), SEEN (in_h), SEEN (in_w), SEEN (out_h), \
        SEEN (out_w); \
  }
/* *INDENT-OFF* */
REC_RESIZE (resize_bicubic)
REC_RESIZE (resize_area)
/* *INDENT-ON* */

static void
rec_destroy (HartBackend * be)
{
  g_free (be);
}

static const HartBackendOps recording_ops = {
  .name = "recording",.destroy = rec_destroy,.alloc = rec_alloc,
  .free = rec_free,.upload = rec_upload,.download = rec_download,
  .alloc_host = rec_alloc_host,.free_host = rec_free_host,
  .copy = rec_copy,.copy_2d = rec_copy_2d,.fill = rec_fill,.gemm = rec_gemm,
  .gemm_batched = rec_gemm_batched,.linear = rec_linear,
  .linear_half = rec_linear_half,.layer_norm = rec_layer_norm,
  .rms_norm = rec_rms_norm,.modulate = rec_modulate,
  .group_norm = rec_group_norm,.rope = rec_rope,.attention = rec_attention,
  .attention_half = rec_attention_half,.to_half_heads = rec_to_half_heads,
  .softmax = rec_softmax,.silu = rec_silu,.gelu = rec_gelu,
  .gelu_tanh = rec_gelu_tanh,.swiglu = rec_swiglu,.add = rec_add,
  .mul = rec_mul,.axpby = rec_axpby,.scale = rec_scale,
  .add_row_vector = rec_add_row_vector,.clamp = rec_clamp,
  .max_over_rows = rec_max_over_rows,.embedding = rec_embedding,
  .conv2d = rec_conv2d,.conv2d_half = rec_conv2d_half,
  .group_norm_silu_half = rec_group_norm_silu_half,
  .upsample_nearest2x = rec_upsample_nearest2x,
  .resize_bicubic = rec_resize_bicubic,.resize_area = rec_resize_area,
};

/* A distinct pointer per argument position */
#define P(i) ((void *) (uintptr_t) (0x1000 + 0x10 * (i)))

/* Calls each member through the timed table: the recording member must
 * see every argument where the caller put it (distinct values per
 * position: a swap or a dropped argument shows), be counted once, with
 * its nominal work. */
static void
test_arguments (void)
{
  HartBackend *be = g_new0 (HartBackend, 1);
  HartOpTotal totals[HART_N_TIMED];
  const HartAttentionParams ap = {.batch = 2,.q_heads = 3,.q_len = 5,
    .kv_len = 7,.head_dim = 11
  };
  /* pad 0: the output is (9 − 3 + 1) × (8 − 3 + 1) */
  const HartConv2dParams cp = {.batch = 2,.cin = 3,.height = 9,.width = 8,
    .cout = 4,.k = 3,.pad = 0
  };
  const HartGemmBatchedParams gp = {.m = 2,.n = 3,.k = 5,.batch = 7 };
  const struct
  {
    const char *op;
    guint64 flops;
  } work[] = {
    {"gemm", 2 * 3 * 4 * 5}, {"gemm_batched", 2 * 2 * 3 * 5 * 7},
    {"linear", 2 * 4 * 5 * 6}, {"linear_half", 2 * 5 * 6 * 7},
    {"attention", 4 * 2 * 3 * 5 * 7 * 11},
    {"attention_half", 4 * 2 * 3 * 5 * 7 * 11},
    {"conv2d", 2 * 2 * 7 * 6 * 4 * 3 * 3 * 3},
    {"conv2d_half", 2 * 2 * 7 * 6 * 4 * 3 * 3 * 3},
  };
  const HartBackendOps *o;

  be->ops = &recording_ops;
  be->host_memory = TRUE;
  hart_backend_time_ops (be);
  o = be->ops;

#define EXPECT(name, ...) \
  G_STMT_START { \
    const double want_[] = { __VA_ARGS__ }; \
    g_assert_cmpstr (seen.op, ==, (name)); \
    g_assert_cmpint (seen.n, ==, G_N_ELEMENTS (want_)); \
    for (int i_ = 0; i_ < seen.n; i_++) \
      g_assert_cmpfloat (seen.v[i_], ==, want_[i_]); \
  } G_STMT_END
#define U(i) ((double) (uintptr_t) P (i))

  g_assert_true (o->alloc (be, 11, P (1)) == (void *) (uintptr_t) 0x7700);
  EXPECT ("alloc", 11, U (1));
  o->free (be, P (1));
  EXPECT ("free", U (1));
  o->upload (be, P (1), P (2), 13);
  EXPECT ("upload", U (1), U (2), 13);
  o->download (be, P (1), P (2), 14);
  EXPECT ("download", U (1), U (2), 14);
  g_assert_true (o->alloc_host (be, 12, P (2)) == (void *) (uintptr_t) 0x7800);
  EXPECT ("alloc_host", 12, U (2));
  o->free_host (be, P (3));
  EXPECT ("free_host", U (3));
  o->copy (be, P (1), P (2), 15);
  EXPECT ("copy", U (1), U (2), 15);
  o->copy_2d (be, P (1), 2, P (3), 4, 5, 6);
  EXPECT ("copy_2d", U (1), 2, U (3), 4, 5, 6);
  o->fill (be, P (1), 2.5f, 3);
  EXPECT ("fill", U (1), 2.5, 3);
  o->gemm (be, TRUE, FALSE, 3, 4, 5, 6.5f, P (7), 8, P (9), 10, 11.5f,
      P (12), 13);
  EXPECT ("gemm", 1, 0, 3, 4, 5, 6.5, U (7), 8, U (9), 10, 11.5, U (12), 13);
  o->gemm_batched (be, &gp);
  EXPECT ("gemm_batched", (double) (uintptr_t) & gp);
  o->linear (be, P (1), P (2), P (3), P (4), 4, 5, 6);
  EXPECT ("linear", U (1), U (2), U (3), U (4), 4, 5, 6);
  o->linear_half (be, P (1), P (2), P (3), HART_DTYPE_BF16, P (5), 5, 6, 7);
  EXPECT ("linear_half", U (1), U (2), U (3), HART_DTYPE_BF16, U (5), 5, 6, 7);
  o->layer_norm (be, P (1), P (2), P (3), P (4), 5, 6, 7.5f);
  EXPECT ("layer_norm", U (1), U (2), U (3), U (4), 5, 6, 7.5);
  o->rms_norm (be, P (1), P (2), P (3), 4, 5, 6.5f);
  EXPECT ("rms_norm", U (1), U (2), U (3), 4, 5, 6.5);
  o->modulate (be, P (1), P (2), P (3), 4, 5, 6, 7);
  EXPECT ("modulate", U (1), U (2), U (3), 4, 5, 6, 7);
  o->group_norm (be, P (1), P (2), P (3), P (4), 5, 6, 7, 8, 9.5f);
  EXPECT ("group_norm", U (1), U (2), U (3), U (4), 5, 6, 7, 8, 9.5);
  o->rope (be, P (1), 2, 3, P (4), P (5), 6, 7, 8, 9, 10);
  EXPECT ("rope", U (1), 2, 3, U (4), U (5), 6, 7, 8, 9, 10);
  o->attention (be, &ap);
  EXPECT ("attention", (double) (uintptr_t) & ap);
  o->attention_half (be, &ap);
  EXPECT ("attention_half", (double) (uintptr_t) & ap);
  o->to_half_heads (be, P (1), 2, 3, P (4), 5, 6, 7, 8, 9, 10);
  EXPECT ("to_half_heads", U (1), 2, 3, U (4), 5, 6, 7, 8, 9, 10);
  o->softmax (be, P (1), 2, 3);
  EXPECT ("softmax", U (1), 2, 3);
  o->silu (be, P (1), P (2), 3);
  EXPECT ("silu", U (1), U (2), 3);
  o->gelu (be, P (1), P (2), 4);
  EXPECT ("gelu", U (1), U (2), 4);
  o->gelu_tanh (be, P (1), P (2), 5);
  EXPECT ("gelu_tanh", U (1), U (2), 5);
  o->swiglu (be, P (1), P (2), P (3), 4);
  EXPECT ("swiglu", U (1), U (2), U (3), 4);
  o->add (be, P (1), P (2), P (3), 5);
  EXPECT ("add", U (1), U (2), U (3), 5);
  o->mul (be, P (1), P (2), P (3), 6);
  EXPECT ("mul", U (1), U (2), U (3), 6);
  o->axpby (be, P (1), 2.5f, P (3), 4.5f, P (5), 6);
  EXPECT ("axpby", U (1), 2.5, U (3), 4.5, U (5), 6);
  o->scale (be, P (1), P (2), 3.5f, 4);
  EXPECT ("scale", U (1), U (2), 3.5, 4);
  o->add_row_vector (be, P (1), P (2), 3, 4);
  EXPECT ("add_row_vector", U (1), U (2), 3, 4);
  o->clamp (be, P (1), P (2), 3.5f, 4.5f, 5);
  EXPECT ("clamp", U (1), U (2), 3.5, 4.5, 5);
  o->max_over_rows (be, P (1), P (2), 3, 4, 5);
  EXPECT ("max_over_rows", U (1), U (2), 3, 4, 5);
  o->embedding (be, P (1), P (2), P (3), 4, 5);
  EXPECT ("embedding", U (1), U (2), U (3), 4, 5);
  o->conv2d (be, &cp);
  EXPECT ("conv2d", (double) (uintptr_t) & cp);
  o->conv2d_half (be, &cp);
  EXPECT ("conv2d_half", (double) (uintptr_t) & cp);
  o->group_norm_silu_half (be, P (1), P (2), P (3), P (4), 5, 6, 7, 8, 9.5f);
  EXPECT ("group_norm_silu_half", U (1), U (2), U (3), U (4), 5, 6, 7, 8, 9.5);
  o->upsample_nearest2x (be, P (1), P (2), 3, 4, 5, 6);
  EXPECT ("upsample_nearest2x", U (1), U (2), 3, 4, 5, 6);
  o->resize_bicubic (be, P (1), P (2), 3, 4, 5, 6, 7, 8);
  EXPECT ("resize_bicubic", U (1), U (2), 3, 4, 5, 6, 7, 8);
  o->resize_area (be, P (1), P (2), 4, 5, 6, 7, 8, 9);
  EXPECT ("resize_area", U (1), U (2), 4, 5, 6, 7, 8, 9);
#undef EXPECT
#undef U

  /* each once, under its own name; the products with their work */
  g_assert_true (hart_backend_get_op_totals (be, totals));
  for (int i = 0; i < HART_N_TIMED_OPS; i++) {
    guint64 flops = 0;
    for (gsize j = 0; j < G_N_ELEMENTS (work); j++)
      if (strcmp (work[j].op, totals[i].op) == 0)
        flops = work[j].flops;
    g_test_message ("%s: %" G_GUINT64_FORMAT " flops", totals[i].op,
        totals[i].flops);
    g_assert_cmpuint (totals[i].calls, ==, 1);
    g_assert_cmpuint (totals[i].flops, ==, flops);
  }
  hart_backend_free (be);
}

#undef P

/* ---- a backend with few members ---- */

static int destroyed;

static void
fake_destroy (HartBackend * be)
{
  destroyed++;
  g_free (be);
}

static void
fake_scale (HartBackend * be, float *y, const float *x, float alpha, gsize n)
{
  for (gsize i = 0; i < n; i++)
    y[i] = alpha * x[i];
}

static gboolean
fake_synchronize (HartBackend * be, GError ** error)
{
  /* counted in `destroyed`'s neighbour: a queued backend is waited for */
  (*(int *) be->priv)++;
  return TRUE;
}

static const HartBackendOps fake_ops = {
  .name = "fake",
  .destroy = fake_destroy,
  .synchronize = fake_synchronize,
  .scale = fake_scale,
};

/* NULL members stay NULL (the engine asks whether a backend has an op by
 * looking at its member); a queued backend is synchronised after each op;
 * destroying goes through to the backend's own destroy */
static void
test_partial_table (void)
{
  HartBackend *be = g_new0 (HartBackend, 1);
  HartOpTotal totals[HART_N_TIMED];
  int syncs = 0;
  float x[3] = { 1, 2, 3 }, y[3];

  be->ops = &fake_ops;
  be->priv = &syncs;
  be->host_memory = FALSE;
  hart_backend_time_ops (be);
  g_assert_null (be->ops->linear);
  g_assert_null (be->ops->linear_half);
  g_assert_null (be->ops->conv2d_half);
  g_assert_null (be->ops->alloc);
  g_assert_nonnull (be->ops->scale);
  g_assert_true (be->ops->synchronize == fake_synchronize);
  g_assert_cmpstr (be->ops->name, ==, "fake");

  be->ops->scale (be, y, x, 2.0f, 3);
  g_assert_cmpfloat (y[2], ==, 6.0f);
  g_assert_cmpint (syncs, ==, 1);
  g_assert_true (hart_backend_get_op_totals (be, totals));
  g_assert_cmpuint (find_total (totals, "scale")->calls, ==, 1);

  /* a backend with host memory is not synchronised */
  be->host_memory = TRUE;
  be->ops->scale (be, y, x, 2.0f, 3);
  g_assert_cmpint (syncs, ==, 1);

  destroyed = 0;
  hart_backend_free (be);
  g_assert_cmpint (destroyed, ==, 1);
}

/* ---- several threads on one timed backend ---- */

#define THREAD_CALLS 2000

static gpointer
call_scale (gpointer data)
{
  HartBackend *be = data;
  float x[16] = { 0 }, y[16];

  for (int i = 0; i < THREAD_CALLS; i++)
    be->ops->scale (be, y, x, 1.0f, 16);
  return NULL;
}

static void
test_threads (void)
{
  HartBackend *be = cpu_backend (1);
  HartOpTotal totals[HART_N_TIMED];
  GThread *threads[4];

  hart_backend_time_ops (be);
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("caller", call_scale, be);
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  g_assert_true (hart_backend_get_op_totals (be, totals));
  g_assert_cmpuint (find_total (totals, "scale")->calls, ==, 4 * THREAD_CALLS);
  hart_backend_free (be);
}

/* ---- through the engine, a generation of the bundled model ---- */

static const HartOpTime *
find_time (const HartOpTime * times, int n, const char *op)
{
  for (int i = 0; i < n; i++)
    if (strcmp (times[i].op, op) == 0)
      return &times[i];
  g_assert_not_reached ();
  return NULL;
}

/* The seconds of every timed op so far (0 when not timed) */
static double
op_seconds (HartEngine * engine)
{
  HartOpTime times[64];
  int n = MIN (hart_engine_get_op_times (engine, times, 64), 64);
  double s = 0;

  for (int i = 0; i < n; i++)
    s += times[i].seconds;
  return s;
}

/* A picture of the bundled model; *seconds: the generation's wall time,
 * *in_ops: the time its ops took */
static guint8 *
generate (HartEngine * engine, const char *dir, gsize * size,
    double *seconds, double *in_ops)
{
  const char *const prompts[] = { "a red circle on a blue background" };
  GError *error = NULL;
  HartModel *model = hart_model_load (engine, dir, TRUE, &error);
  char *qwen = hart_text_encoder_default_dir (dir);
  HartTextEncoder *encoder;
  HartContext *ctx;
  HartGenerateParams params;
  HartImage **images;
  guint8 *bytes;
  gint64 t0;

  g_assert_no_error (error);
  encoder = hart_text_encoder_load (engine, qwen, NULL, &error);
  g_assert_no_error (error);
  ctx = hart_text_encoder_encode (encoder, prompts, 1,
      hart_model_get_transformer_config (model)->context_token, NULL, &error);
  g_assert_no_error (error);
  hart_generate_params_init (&params);
  params.seed = 3;
  *in_ops = op_seconds (engine);
  t0 = g_get_monotonic_time ();
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  *seconds = (g_get_monotonic_time () - t0) / 1e6;
  *in_ops = op_seconds (engine) - *in_ops;
  g_assert_no_error (error);
  *size = (gsize) images[0]->height * images[0]->stride;
  bytes = g_memdup2 (images[0]->rgb, *size);
  hart_images_free (images);
  hart_context_free (ctx);
  hart_text_encoder_free (encoder);
  hart_model_unref (model);
  g_free (qwen);
  return bytes;
}

/* The bundled model: its scales and its diffusion's steps
 * (data/models/shapes-64px, docs/bundled-model.md) */
#define N_STAGES 6
#define N_DIFFUSION_STEPS 8
static const int bundled_scales[N_STAGES] = { 1, 2, 3, 4, 6, 8 };

/* Host work: timed on a timed backend only, each call once, its time
 * within the caller's clock */
static void
test_host_work (void)
{
  HartBackend *plain = cpu_backend (1), *timed = cpu_backend (1);
  HartOpTotal totals[HART_N_TIMED];
  guint64 t0;
  gint64 w0, w1;

  hart_backend_time_ops (timed);
  g_assert_cmpuint (hart_backend_host_clock (plain), ==, 0);
  hart_backend_host_done (plain, HART_HOST_SAMPLING, 0);
  g_assert_false (hart_backend_get_op_totals (plain, totals));

  w0 = g_get_monotonic_time ();
  t0 = hart_backend_host_clock (timed);
  g_assert_cmpuint (t0, >, 0);
  g_usleep (3000);
  hart_backend_host_done (timed, HART_HOST_SAMPLING, t0);
  w1 = g_get_monotonic_time ();
  /* a clock of 0 (read while the backend was not timed) adds nothing */
  hart_backend_host_done (timed, HART_HOST_DIFFUSION_STEP, 0);
  hart_backend_host_done (timed, HART_HOST_DIFFUSION_STEP,
      hart_backend_host_clock (timed));

  g_assert_true (hart_backend_get_op_totals (timed, totals));
  g_assert_cmpuint (find_total (totals, "(host) sampling")->calls, ==, 1);
  g_assert_cmpuint (find_total (totals, "(host) sampling")->ns, >=, 3000000);
  g_assert_cmpuint (find_total (totals, "(host) sampling")->ns, <=,
      (guint64) (w1 - w0 + 2) * 1000);
  g_assert_cmpuint (find_total (totals, "(host) sampling")->flops, ==, 0);
  g_assert_cmpuint (find_total (totals, "(host) diffusion steps")->calls, ==,
      1);
  /* the ops' entries come first, the host work's after them */
  g_assert_cmpstr (totals[HART_N_TIMED_OPS].op, ==, "(host) sampling");
  g_assert_cmpstr (totals[HART_N_TIMED - 1].op, ==, "(host) diffusion steps");
  for (int i = 0; i < HART_N_TIMED_OPS; i++)
    g_assert_cmpuint (totals[i].calls, ==, 0);

  hart_backend_free (plain);
  hart_backend_free (timed);
}

static void
test_engine_generation (void)
{
  GError *error = NULL;
  char *dir = hart_bundled_model_path (&error);
  HartEngine *plain, *timed;
  HartOpTime times[64];
  guint8 *a, *b;
  gsize na, nb;
  double sa, sb, oa, ob;
  int n;

  g_assert_no_error (error);
  plain = hart_engine_new_full ("cpu", 0, 2, &error);
  g_assert_no_error (error);
  timed = hart_engine_new_full ("cpu", 0, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hart_engine_get_op_times (timed, times, 64), ==, 0);
  hart_engine_time_ops (timed);
  n = hart_engine_get_op_times (timed, times, 64);
  g_assert_cmpint (n, ==, HART_N_TIMED);
  for (int i = 0; i < n; i++)
    g_assert_cmpuint (times[i].calls, ==, 0);

  a = generate (plain, dir, &na, &sa, &oa);
  b = generate (timed, dir, &nb, &sb, &ob);
  g_assert_cmpmem (a, na, b, nb);

  g_assert_cmpint (hart_engine_get_op_times (timed, times, 64), ==, n);
  /* the bundled model's fp32 generation: its transformer's linears and
   * attention, the decoder's convolutions */
  g_assert_cmpuint (find_time (times, n, "linear")->calls, >, 0);
  g_assert_cmpfloat (find_time (times, n, "linear")->flops, >, 0);
  g_assert_cmpuint (find_time (times, n, "attention")->calls, >, 0);
  g_assert_cmpuint (find_time (times, n, "conv2d")->calls, >, 0);
  g_assert_cmpuint (find_time (times, n, "linear_half")->calls, ==, 0);
  g_assert_cmpfloat (find_time (times, n, "linear")->seconds, >, 0);
  /* the host work between the ops: each stage sampled once (its tokens
   * fit one chunk of logits), each diffusion step updated once */
  g_assert_cmpuint (find_time (times, n, "(host) sampling")->calls, ==,
      N_STAGES);
  g_assert_cmpfloat (find_time (times, n, "(host) sampling")->seconds, >, 0);
  g_assert_cmpuint (find_time (times, n, "(host) diffusion steps")->calls,
      ==, N_DIFFUSION_STEPS);
  g_assert_cmpfloat (find_time (times, n, "(host) diffusion steps")->flops,
      ==, 0);
  g_assert_cmpfloat (oa, ==, 0);
  /* the generation's ops and host work ran on its thread one after the
   * other, within its wall time (2 µs: the two clocks' rounding) */
  g_assert_cmpfloat (ob, >, 0);
  g_assert_cmpfloat (ob, <=, sb + 2e-6);

  /* fewer entries asked for: the count is still the whole table's */
  g_assert_cmpint (hart_engine_get_op_times (timed, times, 2), ==, n);

  /* logits in parts of 7 positions: a sampling call per part */
  {
    const guint64 before = find_time (times, n, "(host) sampling")->calls;
    guint64 parts = 0;

    for (int si = 0; si < N_STAGES; si++) {
      const int l = si == 0 ? 1 : bundled_scales[si] * bundled_scales[si];
      parts += (l + 6) / 7;
    }
    g_setenv ("HART_LOGITS_CHUNK", "7", TRUE);
    g_free (generate (timed, dir, &nb, &sb, &ob));
    g_unsetenv ("HART_LOGITS_CHUNK");
    hart_engine_get_op_times (timed, times, 64);
    g_assert_cmpuint (find_time (times, n, "(host) sampling")->calls - before,
        ==, parts);
  }

  g_free (a);
  g_free (b);
  hart_engine_unref (plain);
  hart_engine_unref (timed);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/op-timing/pass-through", test_pass_through);
  g_test_add_func ("/op-timing/arguments", test_arguments);
  g_test_add_func ("/op-timing/partial-table", test_partial_table);
  g_test_add_func ("/op-timing/threads", test_threads);
  g_test_add_func ("/op-timing/host-work", test_host_work);
  g_test_add_func ("/op-timing/engine-generation", test_engine_generation);
  return g_test_run ();
}
