/* gst-hart — CUDA backend parity: every op of the table, CPU vs CUDA
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case uploads the same random inputs to the CPU backend (the
 * reference, itself checked against naive loops by test-ops.c) and to the
 * CUDA backend, runs the op on both and compares the downloaded outputs.
 * Without a usable GPU every case is skipped with the backend's message
 * ("no usable CUDA device: …"), and one case checks that this refusal is
 * the documented HART_BACKEND_ERROR_UNAVAILABLE.
 *
 * Tolerances (both backends compute in fp32), checked per element as
 *   |gpu − cpu| ≤ rtol · |cpu| + atol · max|cpu|
 * - EXACT (0, 0): copies, gathers, max, clamp, and resize_area, whose sum
 *   order and two divisions are fixed by docs/algorithm.md §8.3 on both backends (the
 *   CUDA kernels are built with --fmad=false, so nothing is contracted).
 * - ELEMENTWISE (1e-5, 1e-6): a handful of fp32 operations per value;
 *   libm and CUDA's expf/erff/tanhf differ by at most 2 ulp (2.4e-7); the
 *   absolute term covers outputs that cancel towards zero (gelu, axpby).
 * - REDUCTION (1e-4, 1e-4): GEMMs, norms, attention and convolutions sum
 *   hundreds of products in different orders (cuBLAS tiles, warp trees,
 *   the CPU's double-precision statistics); the error grows like
 *   √k · ulp · max|term|, far below 1e-4 of the output scale at these
 *   sizes, while an indexing or transpose bug is off by O(1).
 */
#include "kernels/backend.h"

#include <glib.h>
#include <math.h>
#include <string.h>

typedef struct
{
  double rtol, atol;
} Tolerance;

static const Tolerance EXACT = { 0.0, 0.0 };
static const Tolerance ELEMENTWISE = { 1e-5, 1e-6 };
static const Tolerance REDUCTION = { 1e-4, 1e-4 };

/* Small enough that the banded im2col path of the CUDA conv2d runs with
 * several bands on the test images (see cuda-image.cu). */
#define TEST_IM2COL_LIMIT "16384"

static HartBackend *cpu_backend;
static HartBackend *gpu_backend;
static char *skip_reason;       /* why gpu_backend is NULL */
static GError *gpu_error;       /* the refusal, checked by test_unavailable */
static GRand *rng;

static gboolean
require_gpu (void)
{
  if (gpu_backend != NULL)
    return TRUE;
  g_test_skip (skip_reason);
  return FALSE;
}

/* ---- one buffer on both backends ---- */

typedef struct
{
  gsize bytes;
  void *cpu;
  void *gpu;
} Pair;

/* Allocates `bytes` on both backends and uploads host_data to both. */
static Pair
pair_new (const void *host_data, gsize bytes)
{
  GError *error = NULL;
  Pair p = { bytes, NULL, NULL };

  p.cpu = cpu_backend->ops->alloc (cpu_backend, bytes, &error);
  g_assert_no_error (error);
  p.gpu = gpu_backend->ops->alloc (gpu_backend, bytes, &error);
  g_assert_no_error (error);
  cpu_backend->ops->upload (cpu_backend, p.cpu, host_data, bytes);
  gpu_backend->ops->upload (gpu_backend, p.gpu, host_data, bytes);
  return p;
}

/* n floats uniform in [lo, hi), the same values on both backends.  Output
 * buffers get random contents too, so that ops with beta ≠ 0 read the same
 * C and an element written by neither backend would still agree only by
 * accident of the CPU reference (test-ops.c covers that). */
static Pair
pair_random (gsize n, double lo, double hi)
{
  float *host = g_new (float, n);
  Pair p;

  for (gsize i = 0; i < n; i++)
    host[i] = (float) g_rand_double_range (rng, lo, hi);
  p = pair_new (host, n * sizeof (float));
  g_free (host);
  return p;
}

static void
pair_free (Pair * p)
{
  cpu_backend->ops->free (cpu_backend, p->cpu);
  gpu_backend->ops->free (gpu_backend, p->gpu);
  p->cpu = p->gpu = NULL;
}

#define CPU_F(pair) ((float *) (pair).cpu)
#define GPU_F(pair) ((float *) (pair).gpu)

/* Compares the first n floats of both copies of `p`; fails the test with
 * the first offending element. */
static void
pair_check (const Pair * p, gsize n, Tolerance tol, const char *what)
{
  GError *error = NULL;
  float *ref = g_new (float, n);
  float *got = g_new (float, n);
  double scale = 0.0;

  g_assert_true (gpu_backend->ops->synchronize (gpu_backend, &error));
  g_assert_no_error (error);
  cpu_backend->ops->download (cpu_backend, ref, p->cpu, n * sizeof (float));
  gpu_backend->ops->download (gpu_backend, got, p->gpu, n * sizeof (float));
  g_assert_true (gpu_backend->ops->synchronize (gpu_backend, &error));
  g_assert_no_error (error);

  for (gsize i = 0; i < n; i++)
    if (isfinite (ref[i]))
      scale = MAX (scale, fabs (ref[i]));
  for (gsize i = 0; i < n; i++) {
    double bound = tol.rtol * fabs (ref[i]) + tol.atol * scale;
    gboolean same_special = (isnan (ref[i]) && isnan (got[i]))
        || (isinf (ref[i]) && ref[i] == got[i]);
    /* written as !(≤) so that a NaN on one side fails */
    if (!same_special && !(fabs ((double) got[i] - ref[i]) <= bound)) {
      g_test_fail_printf ("%s: element %" G_GSIZE_FORMAT " of %"
          G_GSIZE_FORMAT ": cpu %.9g, cuda %.9g, |diff| %.3g > %.3g",
          what, i, n, ref[i], got[i], fabs ((double) got[i] - ref[i]), bound);
      break;
    }
  }
  g_free (ref);
  g_free (got);
}

/* Runs the same call on both backends: `call` is an expression using `be`
 * and the helper macro ARG(pair), which names the pair's buffer on `be`. */
#define ON_BOTH(call) G_STMT_START {                                   \
    HartBackend *be = cpu_backend;                                      \
    gboolean on_cpu = TRUE;                                             \
    for (int pass_ = 0; pass_ < 2; pass_++) {                           \
      call;                                                             \
      be = gpu_backend;                                                 \
      on_cpu = FALSE;                                                   \
    }                                                                   \
    (void) on_cpu;                                                      \
  } G_STMT_END
#define ARG(pair) ((float *) (on_cpu ? (pair).cpu : (pair).gpu))
#define ARG_U8(pair) ((uint8_t *) (on_cpu ? (pair).cpu : (pair).gpu))
#define ARG_I32(pair) ((int32_t *) (on_cpu ? (pair).cpu : (pair).gpu))

/* ---- device set-up and memory ---- */

/* Without a GPU, the refusal must be UNAVAILABLE with a clear message; with
 * one, a device id past the end must be refused naming the id. */
static void
test_unavailable (void)
{
  GError *error = NULL;
  HartBackend *be;

  if (gpu_backend == NULL) {
    g_assert_error (gpu_error, HART_BACKEND_ERROR,
        HART_BACKEND_ERROR_UNAVAILABLE);
    g_assert_true (g_str_has_prefix (gpu_error->message,
            "no usable CUDA device: "));
    return;
  }
  be = hart_backend_new ("cuda", 9999, 0, &error);
  g_assert_null (be);
  g_assert_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "9999"));
  g_clear_error (&error);
}

/* An impossible allocation is refused with OUT_OF_MEMORY and the sizes, and
 * leaves no sticky error behind. */
static void
test_out_of_memory (void)
{
  GError *error = NULL;
  void *ptr;

  if (!require_gpu ())
    return;
  ptr = gpu_backend->ops->alloc (gpu_backend, (gsize) 1 << 50, &error);
  g_assert_null (ptr);
  g_assert_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_OUT_OF_MEMORY);
  g_assert_true (g_str_has_prefix (error->message,
          "CUDA out of memory: asked for 1125899906842624 bytes"));
  g_clear_error (&error);
  g_assert_true (gpu_backend->ops->synchronize (gpu_backend, &error));
  g_assert_no_error (error);
}

static void
test_memory (void)
{
  const gsize n = 1000;
  Pair a, b;
  float *host, *back;

  if (!require_gpu ())
    return;
  host = g_new (float, n);
  back = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    host[i] = (float) g_rand_double_range (rng, -1.0, 1.0);

  /* upload → download round trip is bit-exact */
  a = pair_new (host, n * sizeof (float));
  gpu_backend->ops->download (gpu_backend, back, a.gpu, n * sizeof (float));
  g_assert_cmpmem (back, n * sizeof (float), host, n * sizeof (float));

  /* copy of a middle part, fill of another */
  b = pair_random (n, -1.0, 1.0);
  ON_BOTH (be->ops->copy (be, ARG (b) + 10, ARG (a) + 100,
          500 * sizeof (float)));
  ON_BOTH (be->ops->fill (be, ARG (b) + 600, -2.5f, 333));
  pair_check (&b, n, EXACT, "copy + fill");

  pair_free (&a);
  pair_free (&b);
  g_free (host);
  g_free (back);
}

/* ---- GEMM ---- */

static void
test_gemm (void)
{
  const int m = 37, n = 45, k = 70, pad = 3;

  if (!require_gpu ())
    return;
  for (int ta = 0; ta < 2; ta++) {
    for (int tb = 0; tb < 2; tb++) {
      /* row-major storage of op(A) [m, k] and op(B) [k, n] with padded
       * row strides */
      int a_rows = ta ? k : m, a_cols = ta ? m : k;
      int b_rows = tb ? n : k, b_cols = tb ? k : n;
      int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
      Pair a = pair_random ((gsize) a_rows * lda, -1, 1);
      Pair b = pair_random ((gsize) b_rows * ldb, -1, 1);
      Pair c = pair_random ((gsize) m * ldc, -1, 1);
      char *what = g_strdup_printf ("gemm trans_a=%d trans_b=%d", ta, tb);

      ON_BOTH (be->ops->gemm (be, ta, tb, m, n, k, 0.75f, ARG (a), lda,
              ARG (b), ldb, 0.5f, ARG (c), ldc));
      pair_check (&c, (gsize) m * ldc, REDUCTION, what);
      g_free (what);
      pair_free (&a);
      pair_free (&b);
      pair_free (&c);
    }
  }
}

static void
test_gemm_batched (void)
{
  const int m = 19, n = 23, k = 31, batch = 3;

  if (!require_gpu ())
    return;
  for (int ta = 0; ta < 2; ta++) {
    for (int tb = 0; tb < 2; tb++) {
      int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
      int64_t sa = (int64_t) (ta ? k : m) * lda + 5;
      int64_t sb = (int64_t) (tb ? n : k) * ldb + 7;
      int64_t sc = (int64_t) m * ldc + 3;
      Pair a = pair_random ((gsize) sa * batch, -1, 1);
      Pair b = pair_random ((gsize) sb * batch, -1, 1);
      Pair c = pair_random ((gsize) sc * batch, -1, 1);
      char *what = g_strdup_printf ("gemm_batched trans_a=%d trans_b=%d",
          ta, tb);

      ON_BOTH (be->ops->gemm_batched (be, &(const HartGemmBatchedParams) {
                .trans_a = ta,.trans_b = tb,.m = m,.n = n,.k = k,.batch = batch,
                .alpha = 1.25f,.beta = -0.5f,.a = ARG (a),.lda = lda,.stride_a =
                sa,.b = ARG (b),.ldb = ldb,.stride_b = sb,.c = ARG (c),.ldc =
                ldc,.stride_c = sc
              }));
      pair_check (&c, (gsize) sc * batch, REDUCTION, what);
      g_free (what);
      pair_free (&a);
      pair_free (&b);
      pair_free (&c);
    }
  }
}

static void
test_linear (void)
{
  const int rows = 13, in = 96, out = 50;
  Pair x, w, bias, y;

  if (!require_gpu ())
    return;
  x = pair_random ((gsize) rows * in, -1, 1);
  w = pair_random ((gsize) out * in, -0.2, 0.2);
  bias = pair_random (out, -1, 1);
  y = pair_random ((gsize) rows * out, -1, 1);

  ON_BOTH (be->ops->linear (be, ARG (y), ARG (x), ARG (w), ARG (bias), rows,
          in, out));
  pair_check (&y, (gsize) rows * out, REDUCTION, "linear with bias");
  ON_BOTH (be->ops->linear (be, ARG (y), ARG (x), ARG (w), NULL, rows, in,
          out));
  pair_check (&y, (gsize) rows * out, REDUCTION, "linear without bias");

  pair_free (&x);
  pair_free (&w);
  pair_free (&bias);
  pair_free (&y);
}

/* ---- normalisation ---- */

static void
test_layer_norm (void)
{
  /* dim not a multiple of the block size; values offset from zero so that
   * a one-pass variance would lose digits */
  const int rows = 7, dim = 1000;
  Pair x, w, b, y;

  if (!require_gpu ())
    return;
  x = pair_random ((gsize) rows * dim, 2.0, 4.0);
  w = pair_random (dim, 0.5, 1.5);
  b = pair_random (dim, -1, 1);
  y = pair_random ((gsize) rows * dim, -1, 1);

  ON_BOTH (be->ops->layer_norm (be, ARG (y), ARG (x), ARG (w), ARG (b), rows,
          dim, 1e-6f));
  pair_check (&y, (gsize) rows * dim, REDUCTION, "layer_norm affine");
  ON_BOTH (be->ops->layer_norm (be, ARG (y), ARG (x), NULL, NULL, rows, dim,
          1e-5f));
  pair_check (&y, (gsize) rows * dim, REDUCTION, "layer_norm plain");

  pair_free (&x);
  pair_free (&w);
  pair_free (&b);
  pair_free (&y);
}

static void
test_rms_norm (void)
{
  const int rows = 9, dim = 1536;
  Pair x, w, y;

  if (!require_gpu ())
    return;
  x = pair_random ((gsize) rows * dim, -3, 3);
  w = pair_random (dim, 0.5, 1.5);
  y = pair_random ((gsize) rows * dim, -1, 1);

  ON_BOTH (be->ops->rms_norm (be, ARG (y), ARG (x), ARG (w), rows, dim, 1e-6f));
  pair_check (&y, (gsize) rows * dim, REDUCTION, "rms_norm weighted");
  /* in place, no weight */
  ON_BOTH (be->ops->rms_norm (be, ARG (x), ARG (x), NULL, rows, dim, 1e-6f));
  pair_check (&x, (gsize) rows * dim, REDUCTION, "rms_norm in place");

  pair_free (&x);
  pair_free (&w);
  pair_free (&y);
}

static void
test_modulate (void)
{
  /* scale/shift read out of a fused [batch, 3 · dim] projection */
  const int batch = 2, rows = 5, dim = 40;
  const int64_t mod_stride = 3 * dim;
  Pair x, mod;

  if (!require_gpu ())
    return;
  x = pair_random ((gsize) batch * rows * dim, -2, 2);
  mod = pair_random ((gsize) batch * mod_stride, -1, 1);

  ON_BOTH (be->ops->modulate (be, ARG (x), ARG (mod) + dim,
          ARG (mod) + 2 * dim, mod_stride, batch, rows, dim));
  pair_check (&x, (gsize) batch * rows * dim, ELEMENTWISE, "modulate");

  pair_free (&x);
  pair_free (&mod);
}

static void
test_group_norm (void)
{
  const int batch = 2, channels = 12, hw = 50, groups = 3;
  const gsize n = (gsize) batch * channels * hw;
  Pair x, w, b, y;

  if (!require_gpu ())
    return;
  x = pair_random (n, -1, 3);
  w = pair_random (channels, 0.5, 1.5);
  b = pair_random (channels, -1, 1);
  y = pair_random (n, -1, 1);

  ON_BOTH (be->ops->group_norm (be, ARG (y), ARG (x), ARG (w), ARG (b),
          batch, channels, hw, groups, 1e-6f));
  pair_check (&y, n, REDUCTION, "group_norm");

  pair_free (&x);
  pair_free (&w);
  pair_free (&b);
  pair_free (&y);
}

/* ---- position ---- */

static void
test_rope (void)
{
  /* q of a fused QKV [batch, len, 3, heads, head_dim] projection, rotated
   * in place; one table per batch item, then a shared table */
  const int batch = 2, len = 6, heads = 3, head_dim = 16;
  const int64_t row_stride = 3 * heads * head_dim;
  const int64_t batch_stride = len * row_stride;
  const gsize n = (gsize) batch * batch_stride;
  const gsize table = (gsize) batch * len * head_dim;
  Pair qkv, cos_t, sin_t;

  if (!require_gpu ())
    return;
  qkv = pair_random (n, -1, 1);
  cos_t = pair_random (table, -1, 1);
  sin_t = pair_random (table, -1, 1);

  ON_BOTH (be->ops->rope (be, ARG (qkv), batch_stride, row_stride,
          ARG (cos_t), ARG (sin_t), (int64_t) len * head_dim, batch, len,
          heads, head_dim));
  pair_check (&qkv, n, ELEMENTWISE, "rope, per-batch tables");
  ON_BOTH (be->ops->rope (be, ARG (qkv) + heads * head_dim, batch_stride,
          row_stride, ARG (cos_t), ARG (sin_t), 0, batch, len, heads,
          head_dim));
  pair_check (&qkv, n, ELEMENTWISE, "rope, shared table");

  pair_free (&qkv);
  pair_free (&cos_t);
  pair_free (&sin_t);
}

/* ---- attention ---- */

typedef struct
{
  const char *name;
  int batch, q_heads, kv_heads, q_len, kv_len, head_dim;
  gboolean fused_qkv;           /* q, k, v read from one [.., 3, H, D] row */
  gboolean key_mask;            /* random mask; batch item 1 fully masked */
  gboolean causal;
  int causal_offset;
} AttentionCase;

static void
run_attention_case (const AttentionCase * c)
{
  HartAttentionParams p = { 0 };
  const int D = c->head_dim;
  int64_t q_row, kv_row;
  Pair q, k, v, out, mask = { 0, NULL, NULL };
  gsize out_n;

  p.batch = c->batch;
  p.q_heads = c->q_heads;
  p.kv_heads = c->kv_heads;
  p.q_len = c->q_len;
  p.kv_len = c->kv_len;
  p.head_dim = D;
  p.scale = 1.0f / sqrtf ((float) D);
  p.causal = c->causal;
  p.causal_offset = c->causal_offset;

  if (c->fused_qkv) {
    /* self-attention: q_len = kv_len, heads equal, one buffer */
    q_row = kv_row = 3 * (int64_t) c->q_heads * D;
    q = pair_random ((gsize) c->batch * c->q_len * q_row, -1, 1);
    k = v = q;
    p.q_batch_stride = p.k_batch_stride = p.v_batch_stride =
        (int64_t) c->q_len * q_row;
    p.q_row_stride = p.k_row_stride = p.v_row_stride = q_row;
  } else {
    /* padded rows, as a KV cache with spare capacity would have */
    q_row = (int64_t) c->q_heads * D + 4;
    kv_row = (int64_t) c->kv_heads * D + 8;
    q = pair_random ((gsize) c->batch * c->q_len * q_row, -1, 1);
    k = pair_random ((gsize) c->batch * c->kv_len * kv_row, -1, 1);
    v = pair_random ((gsize) c->batch * c->kv_len * kv_row, -1, 1);
    p.q_batch_stride = (int64_t) c->q_len * q_row;
    p.q_row_stride = q_row;
    p.k_batch_stride = p.v_batch_stride = (int64_t) c->kv_len * kv_row;
    p.k_row_stride = p.v_row_stride = kv_row;
  }
  p.out_row_stride = (int64_t) c->q_heads * D;
  p.out_batch_stride = (int64_t) c->q_len * p.out_row_stride;
  out_n = (gsize) c->batch * p.out_batch_stride;
  out = pair_random (out_n, -1, 1);

  if (c->key_mask) {
    gsize n = (gsize) c->batch * c->kv_len;
    uint8_t *host = g_new (uint8_t, n);
    for (gsize i = 0; i < n; i++)
      host[i] = g_rand_int_range (rng, 0, 4) != 0;
    /* batch item 1 sees no key at all: its rows must come out as zeros */
    if (c->batch > 1)
      memset (host + c->kv_len, 0, c->kv_len);
    mask = pair_new (host, n);
    g_free (host);
  }

  ON_BOTH ( {
        HartAttentionParams bp = p;
        bp.q = ARG (q);
        bp.k = ARG (k) + (c->fused_qkv ? c->q_heads * D : 0);
        bp.v = ARG (v) + (c->fused_qkv ? 2 * c->q_heads * D : 0);
        bp.out = ARG (out);
        bp.key_mask = c->key_mask ? ARG_U8 (mask) : NULL;
        be->ops->attention (be, &bp);
      }
  );
  pair_check (&out, out_n, REDUCTION, c->name);

  if (c->key_mask && c->batch > 1) {
    /* fully masked batch item: exact zeros on the GPU */
    float *host = g_new (float, out_n);
    gpu_backend->ops->download (gpu_backend, host, out.gpu,
        out_n * sizeof (float));
    for (gsize i = p.out_batch_stride; i < 2 * (gsize) p.out_batch_stride; i++)
      g_assert_cmpfloat (host[i], ==, 0.0f);
    g_free (host);
  }

  pair_free (&q);
  if (!c->fused_qkv) {
    pair_free (&k);
    pair_free (&v);
  }
  pair_free (&out);
  if (c->key_mask)
    pair_free (&mask);
}

static void
test_attention (void)
{
  /* kv_len 300 spans several 128-key chunks (CUDA) and 256-key blocks
   * (CPU), so the online-softmax rescaling runs on both. */
  static const AttentionCase cases[] = {
    {"attention MHA", 2, 4, 4, 5, 300, 64, FALSE, FALSE, FALSE, 0},
    {"attention GQA", 2, 6, 2, 7, 150, 32, FALSE, FALSE, FALSE, 0},
    {"attention key_mask", 2, 2, 2, 9, 300, 64, FALSE, TRUE, FALSE, 0},
    {"attention causal + offset", 1, 3, 1, 20, 290, 16, FALSE, FALSE, TRUE,
        270},
    {"attention causal, first rows see nothing", 1, 2, 2, 12, 12, 8, FALSE,
        FALSE, TRUE, -3},
    {"attention fused QKV, causal", 2, 3, 3, 40, 40, 24, TRUE, FALSE, TRUE,
        0},
    {"attention head_dim 100", 1, 2, 1, 3, 257, 100, FALSE, TRUE, FALSE, 0},
  };

  if (!require_gpu ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    run_attention_case (&cases[i]);
}

/* ---- activations and elementwise ---- */

static void
test_softmax (void)
{
  const int rows = 6, n = 4096;
  float *host = g_new (float, (gsize) rows * n);
  Pair x;

  if (!require_gpu ()) {
    g_free (host);
    return;
  }
  for (gsize i = 0; i < (gsize) rows * n; i++)
    host[i] = (float) g_rand_double_range (rng, -20, 20);
  /* masked entries in row 1, a fully masked row 2 (→ zeros on both) */
  for (int j = 0; j < n; j += 3)
    host[n + j] = -INFINITY;
  for (int j = 0; j < n; j++)
    host[2 * n + j] = -INFINITY;
  x = pair_new (host, (gsize) rows * n * sizeof (float));

  ON_BOTH (be->ops->softmax (be, ARG (x), rows, n));
  pair_check (&x, (gsize) rows * n, REDUCTION, "softmax");

  pair_free (&x);
  g_free (host);
}

static void
test_activations (void)
{
  const gsize n = 10007;
  Pair x, g, u, y;

  if (!require_gpu ())
    return;
  x = pair_random (n, -8, 8);
  g = pair_random (n, -8, 8);
  u = pair_random (n, -2, 2);
  y = pair_random (n, -1, 1);

  ON_BOTH (be->ops->silu (be, ARG (y), ARG (x), n));
  pair_check (&y, n, ELEMENTWISE, "silu");
  ON_BOTH (be->ops->gelu (be, ARG (y), ARG (x), n));
  pair_check (&y, n, ELEMENTWISE, "gelu");
  ON_BOTH (be->ops->gelu_tanh (be, ARG (y), ARG (x), n));
  pair_check (&y, n, ELEMENTWISE, "gelu_tanh");
  ON_BOTH (be->ops->swiglu (be, ARG (y), ARG (g), ARG (u), n));
  pair_check (&y, n, ELEMENTWISE, "swiglu");

  pair_free (&x);
  pair_free (&g);
  pair_free (&u);
  pair_free (&y);
}

static void
test_elementwise (void)
{
  const gsize n = 5003;
  const int rows = 41, dim = 122;       /* rows · dim = 5002 ≤ n */
  const int batch = 3, len = 17, width = 97;
  Pair a, b, y, v;

  if (!require_gpu ())
    return;
  a = pair_random (n, -3, 3);
  b = pair_random (n, -3, 3);
  y = pair_random (n, -1, 1);
  v = pair_random (dim, -1, 1);

  ON_BOTH (be->ops->add (be, ARG (y), ARG (a), ARG (b), n));
  pair_check (&y, n, ELEMENTWISE, "add");
  ON_BOTH (be->ops->mul (be, ARG (y), ARG (a), ARG (b), n));
  pair_check (&y, n, ELEMENTWISE, "mul");
  ON_BOTH (be->ops->axpby (be, ARG (y), 1.5f, ARG (a), -0.25f, ARG (b), n));
  pair_check (&y, n, ELEMENTWISE, "axpby");
  ON_BOTH (be->ops->scale (be, ARG (y), ARG (a), 0.3f, n));
  pair_check (&y, n, ELEMENTWISE, "scale");
  ON_BOTH (be->ops->add_row_vector (be, ARG (y), ARG (v), rows, dim));
  pair_check (&y, n, ELEMENTWISE, "add_row_vector");
  ON_BOTH (be->ops->clamp (be, ARG (y), ARG (a), -1.0f, 2.0f, n));
  pair_check (&y, n, EXACT, "clamp");
  /* in place (y aliases a) */
  ON_BOTH (be->ops->add (be, ARG (a), ARG (a), ARG (b), n));
  pair_check (&a, n, ELEMENTWISE, "add in place");
  ON_BOTH (be->ops->max_over_rows (be, ARG (y), ARG (b), batch, len, width));
  pair_check (&y, (gsize) batch * width, EXACT, "max_over_rows");

  pair_free (&a);
  pair_free (&b);
  pair_free (&y);
  pair_free (&v);
}

/* ---- lookup ---- */

static void
test_embedding (void)
{
  const int n_table = 50, dim = 33, n = 70;
  int32_t ids[70];
  Pair table, y, id_pair;

  if (!require_gpu ())
    return;
  for (int i = 0; i < n; i++)
    ids[i] = g_rand_int_range (rng, 0, n_table);
  ids[0] = 0;
  ids[1] = n_table - 1;
  table = pair_random ((gsize) n_table * dim, -1, 1);
  y = pair_random ((gsize) n * dim, -1, 1);
  id_pair = pair_new (ids, sizeof ids);

  ON_BOTH (be->ops->embedding (be, ARG (y), ARG (table), ARG_I32 (id_pair), n,
          dim));
  pair_check (&y, (gsize) n * dim, EXACT, "embedding");

  pair_free (&table);
  pair_free (&y);
  pair_free (&id_pair);
}

/* ---- images ---- */

static void
test_conv2d (void)
{
  /* With TEST_IM2COL_LIMIT = 16 KiB, the 17×17 images run in bands of a
   * few output rows, the 8×8 ones in one band. */
  static const struct
  {
    int batch, cin, height, width, cout, k, pad;
    gboolean bias;
  } cases[] = {
    {2, 4, 17, 17, 6, 3, 1, TRUE},      /* "same" 3×3, banded */
    {2, 2, 8, 8, 5, 3, 1, TRUE},        /* one band */
    {2, 5, 9, 7, 3, 1, 0, TRUE},        /* 1×1 reads x directly */
    {1, 3, 11, 13, 4, 3, 0, FALSE},     /* valid conv: output 9×11 */
    {1, 2, 12, 10, 3, 5, 2, TRUE},      /* 5×5 */
  };

  if (!require_gpu ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    int out_h = cases[i].height + 2 * cases[i].pad - cases[i].k + 1;
    int out_w = cases[i].width + 2 * cases[i].pad - cases[i].k + 1;
    gsize out_n = (gsize) cases[i].batch * cases[i].cout * out_h * out_w;
    Pair x = pair_random ((gsize) cases[i].batch * cases[i].cin *
        cases[i].height * cases[i].width, -1, 1);
    Pair w = pair_random ((gsize) cases[i].cout * cases[i].cin * cases[i].k *
        cases[i].k, -0.5, 0.5);
    Pair bias = pair_random (cases[i].cout, -1, 1);
    Pair y = pair_random (out_n, -1, 1);
    char *what = g_strdup_printf ("conv2d case %u (k %d, pad %d)", i,
        cases[i].k, cases[i].pad);

    ON_BOTH (be->ops->conv2d (be, &(const HartConv2dParams) {
              .y = ARG (y),.x = ARG (x),.w = ARG (w),.bias =
              cases[i].bias ? ARG (bias) : NULL,.batch = cases[i].batch,.cin =
              cases[i].cin,.height = cases[i].height,.width = cases[i].width,
              .cout = cases[i].cout,.k = cases[i].k,.pad = cases[i].pad
            }));
    pair_check (&y, out_n, REDUCTION, what);

    g_free (what);
    pair_free (&x);
    pair_free (&w);
    pair_free (&bias);
    pair_free (&y);
  }
}

static void
test_upsample_nearest2x (void)
{
  const int batch = 2, channels = 3, height = 5, width = 7;
  const gsize out_n = (gsize) batch * channels * 4 * height * width;
  Pair x, y;

  if (!require_gpu ())
    return;
  x = pair_random ((gsize) batch * channels * height * width, -1, 1);
  y = pair_random (out_n, -1, 1);
  ON_BOTH (be->ops->upsample_nearest2x (be, ARG (y), ARG (x), batch,
          channels, height, width));
  pair_check (&y, out_n, EXACT, "upsample_nearest2x");
  pair_free (&x);
  pair_free (&y);
}

/* (in_h, in_w) → (out_h, out_w) pairs: HART's pn → 64 up-sampling and
 * 64 → pn down-sampling in miniature, non-square, and identity. */
static const int resize_cases[][4] = {
  {1, 1, 16, 16}, {3, 3, 16, 16}, {7, 5, 16, 12}, {16, 16, 5, 5},
  {16, 16, 3, 3}, {13, 9, 4, 6}, {16, 16, 16, 16},
};

static void
run_resize (gboolean bicubic)
{
  const int batch = 2, channels = 3;

  for (guint i = 0; i < G_N_ELEMENTS (resize_cases); i++) {
    int in_h = resize_cases[i][0], in_w = resize_cases[i][1];
    int out_h = resize_cases[i][2], out_w = resize_cases[i][3];
    gsize out_n = (gsize) batch * channels * out_h * out_w;
    Pair x = pair_random ((gsize) batch * channels * in_h * in_w, -1, 1);
    Pair y = pair_random (out_n, -1, 1);
    char *what = g_strdup_printf ("resize_%s %dx%d -> %dx%d",
        bicubic ? "bicubic" : "area", in_h, in_w, out_h, out_w);

    if (bicubic)
      ON_BOTH (be->ops->resize_bicubic (be, ARG (y), ARG (x), batch,
              channels, in_h, in_w, out_h, out_w));
    else
      ON_BOTH (be->ops->resize_area (be, ARG (y), ARG (x), batch, channels,
              in_h, in_w, out_h, out_w));
    /* bicubic: same formulas, but the CPU writes the last weight's
     * argument as 2 − t and the GPU as (1 − t) + 1 (PyTorch's form): an
     * ulp apart at most */
    pair_check (&y, out_n, bicubic ? ELEMENTWISE : EXACT, what);

    g_free (what);
    pair_free (&x);
    pair_free (&y);
  }
}

static void
test_resize_bicubic (void)
{
  if (require_gpu ())
    run_resize (TRUE);
}

static void
test_resize_area (void)
{
  if (require_gpu ())
    run_resize (FALSE);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* read by the CUDA backend when it is created */
  g_setenv ("HART_CUDA_IM2COL_LIMIT", TEST_IM2COL_LIMIT, TRUE);

  cpu_backend = hart_backend_new ("cpu", 0, 0, &error);
  g_assert_no_error (error);
  gpu_backend = hart_backend_new ("cuda", 0, 0, &gpu_error);
  if (gpu_backend == NULL) {
    /* only "no device" is a reason to skip; anything else is a failure */
    g_assert_error (gpu_error, HART_BACKEND_ERROR,
        HART_BACKEND_ERROR_UNAVAILABLE);
    skip_reason = g_strdup (gpu_error->message);
  }
  rng = g_rand_new_with_seed (20260101);

  g_test_add_func ("/backend-parity/unavailable", test_unavailable);
  g_test_add_func ("/backend-parity/out-of-memory", test_out_of_memory);
  g_test_add_func ("/backend-parity/memory", test_memory);
  g_test_add_func ("/backend-parity/gemm", test_gemm);
  g_test_add_func ("/backend-parity/gemm-batched", test_gemm_batched);
  g_test_add_func ("/backend-parity/linear", test_linear);
  g_test_add_func ("/backend-parity/layer-norm", test_layer_norm);
  g_test_add_func ("/backend-parity/rms-norm", test_rms_norm);
  g_test_add_func ("/backend-parity/modulate", test_modulate);
  g_test_add_func ("/backend-parity/group-norm", test_group_norm);
  g_test_add_func ("/backend-parity/rope", test_rope);
  g_test_add_func ("/backend-parity/attention", test_attention);
  g_test_add_func ("/backend-parity/softmax", test_softmax);
  g_test_add_func ("/backend-parity/activations", test_activations);
  g_test_add_func ("/backend-parity/elementwise", test_elementwise);
  g_test_add_func ("/backend-parity/embedding", test_embedding);
  g_test_add_func ("/backend-parity/conv2d", test_conv2d);
  g_test_add_func ("/backend-parity/upsample-nearest2x",
      test_upsample_nearest2x);
  g_test_add_func ("/backend-parity/resize-bicubic", test_resize_bicubic);
  g_test_add_func ("/backend-parity/resize-area", test_resize_area);

  status = g_test_run ();

  hart_backend_free (gpu_backend);
  hart_backend_free (cpu_backend);
  g_clear_error (&gpu_error);
  g_free (skip_reason);
  g_rand_free (rng);
  return status;
}
