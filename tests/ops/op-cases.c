/* gst-hart — the op-test harness: every op of HartBackendOps, its plain
 * reference, and the table of cases
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Top half: one OpDef per op (tensors, call, reference in double, work).
 * References are the textbook formulas written as loops over the documented
 * layouts (kernels/backend.h), independent of the kernels' blocking.
 * Bottom half: op_cases_new, the table.  Shapes are odd, tiny, and large
 * enough to take the threaded and banded paths of the kernels; the perf
 * cases are HART's own shapes (docs/performance.md).
 */
#include "op-harness.h"

#include <math.h>
#include <string.h>

#define F32(host, i) ((float *) (host)[i])
#define CF32(host, i) ((const float *) (host)[i])

int
tensor_add (TensorList * list, const char *name, TensorType type,
    TensorRole role, gsize n, double lo, double hi)
{
  g_assert (list->n < OP_MAX_TENSORS);
  list->t[list->n] = (TensorSpec) {
  name, type, role, n, lo, hi};
  return list->n++;
}

static int
reduction_one (const OpCase * c)
{
  return 1;
}

/* ------------------------------------------------------------------ */
/* gemm, gemm_batched                                                   */

/* stored shapes: A is [m, k] or [k, m]; B is [k, n] or [n, k] */
static void
gemm_layout (const GemmArgs * g, int *lda, int *ldb, int *ldc,
    int64_t * sa, int64_t * sb, int64_t * sc)
{
  *lda = (g->ta ? g->m : g->k) + g->pad;
  *ldb = (g->tb ? g->k : g->n) + g->pad;
  *ldc = g->n + g->pad;
  *sa = (int64_t) (g->ta ? g->k : g->m) * *lda + g->gap;
  *sb = (int64_t) (g->tb ? g->n : g->k) * *ldb + g->gap;
  *sc = (int64_t) g->m * *ldc + g->gap;
}

static void
gemm_tensors (const OpCase * c, TensorList * t)
{
  int lda, ldb, ldc, batch = MAX (c->gemm.batch, 1);
  int64_t sa, sb, sc;

  gemm_layout (&c->gemm, &lda, &ldb, &ldc, &sa, &sb, &sc);
  tensor_add (t, "a", TENSOR_F32, ROLE_IN, sa * batch, -1, 1);
  tensor_add (t, "b", TENSOR_F32, ROLE_IN, sb * batch, -1, 1);
  /* random C: beta reads it, and padding between rows must survive */
  tensor_add (t, "c", TENSOR_F32, ROLE_INOUT, sc * batch, -1, 1);
}

static void
gemm_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const GemmArgs *g = &c->gemm;
  HartGemmBatchedParams p = {
    .trans_a = g->ta,.trans_b = g->tb,.m = g->m,.n = g->n,.k = g->k,
    .batch = g->batch,.alpha = g->alpha,.beta = g->beta,
    .a = dev[0],.b = dev[1],.c = dev[2],
  };

  gemm_layout (g, &p.lda, &p.ldb, &p.ldc, &p.stride_a, &p.stride_b,
      &p.stride_c);
  if (g->batch == 0)
    be->ops->gemm (be, g->ta, g->tb, g->m, g->n, g->k, g->alpha, p.a, p.lda,
        p.b, p.ldb, g->beta, p.c, p.ldc);
  else
    be->ops->gemm_batched (be, &p);
}

/* C = alpha op(A) op(B) + beta C; op(A)[i][p] is a[p·lda + i] when
 * transposed, a[i·lda + p] otherwise. */
static void
gemm_reference (const OpCase * c, void *const *host, double *const *want)
{
  const GemmArgs *g = &c->gemm;
  int lda, ldb, ldc;
  int64_t sa, sb, sc;

  gemm_layout (g, &lda, &ldb, &ldc, &sa, &sb, &sc);
  for (int bi = 0; bi < MAX (g->batch, 1); bi++) {
    const float *a = CF32 (host, 0) + bi * sa, *b = CF32 (host, 1) + bi * sb;
    double *cw = want[2] + bi * sc;
    for (int i = 0; i < g->m; i++)
      for (int j = 0; j < g->n; j++) {
        double s = 0.0;
        for (int p = 0; p < g->k; p++) {
          double av = g->ta ? a[(gsize) p * lda + i] : a[(gsize) i * lda + p];
          double bv = g->tb ? b[(gsize) j * ldb + p] : b[(gsize) p * ldb + j];
          s += av * bv;
        }
        cw[(gsize) i * ldc + j] = g->alpha * s +
            (double) g->beta * cw[(gsize) i * ldc + j];
      }
  }
}

static void
gemm_work (const OpCase * c, double *flops, double *bytes)
{
  const GemmArgs *g = &c->gemm;
  double batch = MAX (g->batch, 1);
  *flops = 2.0 * g->m * g->n * g->k * batch;
  *bytes = 4.0 * batch * ((double) g->m * g->k + (double) g->k * g->n +
      2.0 * g->m * g->n);
}

static int
gemm_reduction (const OpCase * c)
{
  return c->gemm.k;
}

static const OpDef op_gemm = { "gemm", gemm_tensors, NULL, gemm_run,
  gemm_reference, gemm_work, gemm_reduction
};

static const OpDef op_gemm_batched = { "gemm_batched", gemm_tensors, NULL,
  gemm_run, gemm_reference, gemm_work, gemm_reduction
};

/* ------------------------------------------------------------------ */
/* linear                                                               */

static void
linear_tensors (const OpCase * c, TensorList * t)
{
  const LinearArgs *l = &c->linear;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN, (gsize) l->rows * l->in, -1, 1);
  tensor_add (t, "w", TENSOR_F32, ROLE_IN, (gsize) l->out * l->in, -1, 1);
  tensor_add (t, "bias", TENSOR_F32, ROLE_IN, l->out, -2, 2);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, (gsize) l->rows * l->out, 0, 0);
}

static void
linear_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const LinearArgs *l = &c->linear;
  be->ops->linear (be, dev[3], dev[0], dev[1], l->bias ? dev[2] : NULL,
      l->rows, l->in, l->out);
}

static void
linear_reference (const OpCase * c, void *const *host, double *const *want)
{
  const LinearArgs *l = &c->linear;
  const float *x = CF32 (host, 0), *w = CF32 (host, 1), *b = CF32 (host, 2);

  for (int r = 0; r < l->rows; r++)
    for (int o = 0; o < l->out; o++) {
      double acc = l->bias ? b[o] : 0.0;
      for (int i = 0; i < l->in; i++)
        acc += (double) x[(gsize) r * l->in + i] * w[(gsize) o * l->in + i];
      want[3][(gsize) r * l->out + o] = acc;
    }
}

static void
linear_work (const OpCase * c, double *flops, double *bytes)
{
  const LinearArgs *l = &c->linear;
  *flops = 2.0 * l->rows * l->in * (double) l->out;
  *bytes = 4.0 * ((double) l->rows * l->in + (double) l->in * l->out +
      (double) l->rows * l->out);
}

static int
linear_reduction (const OpCase * c)
{
  return c->linear.in;
}

static const OpDef op_linear = { "linear", linear_tensors, NULL, linear_run,
  linear_reference, linear_work, linear_reduction
};

/* ------------------------------------------------------------------ */
/* linear_half: W in bf16 (docs/precision.md)                          */

static void
linear_half_tensors (const OpCase * c, TensorList * t)
{
  const LinearArgs *l = &c->linear;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN, (gsize) l->rows * l->in, -1, 1);
  tensor_add (t, "w", TENSOR_BF16, ROLE_IN, (gsize) l->out * l->in, -1, 1);
  tensor_add (t, "bias", TENSOR_F32, ROLE_IN, l->out, -2, 2);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, (gsize) l->rows * l->out, 0, 0);
}

static void
linear_half_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const LinearArgs *l = &c->linear;
  be->ops->linear_half (be, dev[3], dev[0], dev[1], HART_DTYPE_BF16,
      l->bias ? dev[2] : NULL, l->rows, l->in, l->out);
}

/* The op's definition: x and W rounded to bf16 (nearest even), products
 * summed exactly (double here). */
static void
linear_half_reference (const OpCase * c, void *const *host, double *const *want)
{
  const LinearArgs *l = &c->linear;
  const float *x = CF32 (host, 0), *b = CF32 (host, 2);
  const uint16_t *w = host[1];

  for (int r = 0; r < l->rows; r++)
    for (int o = 0; o < l->out; o++) {
      double acc = l->bias ? b[o] : 0.0;
      for (int i = 0; i < l->in; i++)
        acc += (double) hart_bf16_to_f32 (hart_f32_to_bf16
            (x[(gsize) r * l->in + i])) *
            hart_bf16_to_f32 (w[(gsize) o * l->in + i]);
      want[3][(gsize) r * l->out + o] = acc;
    }
}

static void
linear_half_work (const OpCase * c, double *flops, double *bytes)
{
  const LinearArgs *l = &c->linear;
  *flops = 2.0 * l->rows * l->in * (double) l->out;
  *bytes = 4.0 * ((double) l->rows * l->in + (double) l->rows * l->out) +
      2.0 * (double) l->in * l->out;
}

static const char *
linear_half_unsupported (HartBackend * be)
{
  if (be->ops->linear_half == NULL
      || !(be->half_dtypes & (1u << HART_DTYPE_BF16)))
    return "no bf16 products on this backend";
  return NULL;
}

static const OpDef op_linear_half = { "linear_half", linear_half_tensors,
  NULL, linear_half_run, linear_half_reference, linear_half_work,
  linear_reduction, linear_half_unsupported
};

/* ------------------------------------------------------------------ */
/* attention                                                            */

/* Strides of q, k, v, out (elements) for the case's layout. */
static void
attention_layout (const OpCase * c, HartAttentionParams * p)
{
  const AttentionArgs *a = &c->attn;
  const int64_t cq = (int64_t) a->q_heads * a->head_dim;
  const int64_t ckv = (int64_t) a->kv_heads * a->head_dim;

  *p = (HartAttentionParams) {
  0};
  p->batch = a->batch;
  p->q_heads = a->q_heads;
  p->kv_heads = a->kv_heads;
  p->q_len = a->q_len;
  p->kv_len = a->kv_len;
  p->head_dim = a->head_dim;
  p->scale = a->scale;
  p->causal = a->causal;
  p->causal_offset = a->causal_offset;
  if (a->fused_qkv) {
    /* self-attention on a fused projection: row = [q | k | v] */
    p->q_row_stride = p->k_row_stride = p->v_row_stride = 3 * cq;
    p->q_batch_stride = p->k_batch_stride = p->v_batch_stride =
        (int64_t) a->q_len * 3 * cq;
  } else if (a->padded) {
    /* padded rows and batches, as a KV cache with spare capacity */
    p->q_row_stride = cq + 3;
    p->q_batch_stride = p->q_row_stride * a->q_len + 5;
    p->k_row_stride = ckv + 1;
    p->k_batch_stride = p->k_row_stride * a->kv_len + 2;
    p->v_row_stride = ckv + 4;
    p->v_batch_stride = p->v_row_stride * a->kv_len;
  } else {
    p->q_row_stride = cq;
    p->q_batch_stride = cq * a->q_len;
    p->k_row_stride = p->v_row_stride = ckv;
    p->k_batch_stride = p->v_batch_stride = ckv * a->kv_len;
  }
  p->out_row_stride = cq + a->out_pad;
  p->out_batch_stride = p->out_row_stride * a->q_len;
}

/* Tensors: fused: qkv, out[, mask]; else q, k, v, out[, mask]. */
static void
attention_tensors (const OpCase * c, TensorList * t)
{
  const AttentionArgs *a = &c->attn;
  HartAttentionParams p;

  attention_layout (c, &p);
  if (a->fused_qkv) {
    tensor_add (t, "qkv", TENSOR_F32, ROLE_IN,
        (gsize) a->batch * p.q_batch_stride, -2, 2);
  } else {
    tensor_add (t, "q", TENSOR_F32, ROLE_IN,
        (gsize) a->batch * p.q_batch_stride, -2, 2);
    tensor_add (t, "k", TENSOR_F32, ROLE_IN,
        (gsize) a->batch * p.k_batch_stride, -2, 2);
    tensor_add (t, "v", TENSOR_F32, ROLE_IN,
        (gsize) a->batch * p.v_batch_stride, -2, 2);
  }
  tensor_add (t, "out", TENSOR_F32, ROLE_OUT,
      (gsize) a->batch * p.out_batch_stride, 0, 0);
  if (a->use_mask)
    tensor_add (t, "mask", TENSOR_U8, ROLE_IN, (gsize) a->batch * a->kv_len,
        0, 0);
}

static void
attention_fill (const OpCase * c, GRand * rng, void *const *host)
{
  const AttentionArgs *a = &c->attn;
  uint8_t *mask;
  gsize n = (gsize) a->batch * a->kv_len;

  if (!a->use_mask)
    return;
  mask = host[a->fused_qkv ? 2 : 4];
  for (gsize i = 0; i < n; i++)
    mask[i] = g_rand_double (rng) < (a->mask_keep > 0 ? a->mask_keep : 0.7);
  if (a->mask_one_item)
    memset (mask + (gsize) a->masked_item * a->kv_len, 0, a->kv_len);
}

/* q, k, v, out, mask pointers of one call from a tensor array. */
static void
attention_bind (const OpCase * c, HartAttentionParams * p, void *const *buf)
{
  const AttentionArgs *a = &c->attn;
  const int cq = a->q_heads * a->head_dim;

  attention_layout (c, p);
  if (a->fused_qkv) {
    p->q = buf[0];
    p->k = (const float *) buf[0] + cq;
    p->v = (const float *) buf[0] + 2 * cq;
    p->out = buf[1];
    p->key_mask = a->use_mask ? buf[2] : NULL;
  } else {
    p->q = buf[0];
    p->k = buf[1];
    p->v = buf[2];
    p->out = buf[3];
    p->key_mask = a->use_mask ? buf[4] : NULL;
  }
}

static void
attention_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  HartAttentionParams p;
  attention_bind (c, &p, dev);
  be->ops->attention (be, &p);
}

/* x, or x rounded to bf16 for the bf16 op's reference */
static inline double
operand_value (float x, gboolean bf16)
{
  return bf16 ? hart_bf16_to_f32 (hart_f32_to_bf16 (x)) : x;
}

/* Textbook attention in double over the same strided layout; fully masked
 * rows give zeros.  BF16: q, k and v rounded to bf16 first. */
static void
attention_reference_in (const OpCase * c, void *const *host,
    double *const *want, gboolean bf16)
{
  HartAttentionParams p;
  const int d = c->attn.head_dim, group = c->attn.q_heads / c->attn.kv_heads;
  double *s = g_new (double, MAX (c->attn.kv_len, 1));
  double *out = want[c->attn.fused_qkv ? 1 : 3];

  attention_bind (c, &p, host);
  for (int b = 0; b < p.batch; b++)
    for (int h = 0; h < p.q_heads; h++)
      for (int i = 0; i < p.q_len; i++) {
        const float *qi = p.q + b * p.q_batch_stride + i * p.q_row_stride +
            h * d;
        double *o = out + b * p.out_batch_stride + i * p.out_row_stride + h * d;
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < p.kv_len; j++) {
          const float *kj = p.k + b * p.k_batch_stride + j * p.k_row_stride +
              (h / group) * d;
          gboolean visible = TRUE;
          double dot = 0.0;
          if (p.key_mask && !p.key_mask[b * p.kv_len + j])
            visible = FALSE;
          if (p.causal && j > i + p.causal_offset)
            visible = FALSE;
          for (int e = 0; e < d; e++)
            dot += operand_value (qi[e], bf16) * operand_value (kj[e], bf16);
          s[j] = visible ? dot * p.scale : -INFINITY;
          mx = MAX (mx, s[j]);
        }
        for (int e = 0; e < d; e++)
          o[e] = 0.0;
        if (mx == -INFINITY)
          continue;
        for (int j = 0; j < p.kv_len; j++) {
          s[j] = exp (s[j] - mx);
          sum += s[j];
        }
        for (int j = 0; j < p.kv_len; j++) {
          const float *vj = p.v + b * p.v_batch_stride + j * p.v_row_stride +
              (h / group) * d;
          for (int e = 0; e < d; e++)
            o[e] += s[j] / sum * operand_value (vj[e], bf16);
        }
      }
  g_free (s);
}

static void
attention_reference (const OpCase * c, void *const *host, double *const *want)
{
  attention_reference_in (c, host, want, FALSE);
}

static void
attention_half_reference (const OpCase * c, void *const *host,
    double *const *want)
{
  attention_reference_in (c, host, want, TRUE);
}

/* K and V of the case's fp32 tensors in bf16 through to_half_heads, into
 * a head-major cache on BE with padding between heads and batch items (an
 * odd number of elements, filled with NaN bits, so that a kernel reading
 * past a head or assuming kv_len · head_dim for its stride gives NaN or
 * garbage); p->k_half, p->v_half and their strides point into it and p->k,
 * p->v become NULL (not to be read).  Returns the cache (NULL: out of
 * memory, p unchanged). */
static uint16_t *
attention_kv_half (HartBackend * be, const OpCase * c, HartAttentionParams * p)
{
  const AttentionArgs *a = &c->attn;
  const int64_t head_stride = (int64_t) a->kv_len * a->head_dim + 37;
  const int64_t batch_stride = head_stride * a->kv_heads + 11;
  const gsize n = (gsize) batch_stride * a->batch;
  uint16_t *fill = g_new (uint16_t, MAX (2 * n, 1));
  uint16_t *cache;

  cache = be->ops->alloc (be, MAX (2 * n, 1) * sizeof (uint16_t), NULL);
  if (cache == NULL) {
    g_free (fill);
    return NULL;
  }
  for (gsize i = 0; i < 2 * n; i++)
    fill[i] = 0x7fc1;
  be->ops->upload (be, cache, fill, 2 * n * sizeof (uint16_t));
  g_free (fill);
  be->ops->to_half_heads (be, cache, batch_stride, head_stride, p->k,
      p->k_batch_stride, p->k_row_stride, a->batch, a->kv_len, a->kv_heads,
      a->head_dim);
  be->ops->to_half_heads (be, cache + n, batch_stride, head_stride, p->v,
      p->v_batch_stride, p->v_row_stride, a->batch, a->kv_len, a->kv_heads,
      a->head_dim);
  p->k_half = cache;
  p->v_half = cache + n;
  p->kv_half_batch_stride = batch_stride;
  p->kv_half_head_stride = head_stride;
  p->k = p->v = NULL;
  return cache;
}

/* Sets NAME to VALUE for one call (a CPU path's switch, read at every
 * call); returns the previous value (NULL: unset) for env_restore. */
static char *
env_override (const char *name, const char *value)
{
  char *saved = g_strdup (g_getenv (name));

  g_setenv (name, value, TRUE);
  return saved;
}

static void
env_restore (const char *name, char *saved)
{
  if (saved != NULL)
    g_setenv (name, saved, TRUE);
  else
    g_unsetenv (name);
  g_free (saved);
}

static void
attention_half_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  HartAttentionParams p;
  uint16_t *cache = NULL;
  char *saved = NULL;

  attention_bind (c, &p, dev);
  if (c->attn.kv_half && (cache = attention_kv_half (be, c, &p)) == NULL)
    return;                     /* the output stays NaN: the case fails */
  if (c->attn.onednn)
    saved = env_override ("HART_CPU_ATTENTION", "onednn");
  be->ops->attention_half (be, &p);
  if (c->attn.onednn)
    env_restore ("HART_CPU_ATTENTION", saved);
  if (cache != NULL)
    be->ops->free (be, cache);
}

static const char *
attention_half_unsupported (HartBackend * be)
{
  if (be->ops->attention_half == NULL
      || !(be->half_dtypes & (1u << HART_DTYPE_BF16)))
    return "no bf16 products on this backend";
  return NULL;
}

static void
attention_work (const OpCase * c, double *flops, double *bytes)
{
  const AttentionArgs *a = &c->attn;
  /* the two GEMMs, q·kᵀ and p·v */
  *flops = 4.0 * a->batch * a->q_heads * (double) a->q_len * a->kv_len *
      a->head_dim;
  *bytes = 4.0 * a->batch * a->head_dim * (2.0 * a->q_heads * a->q_len +
      2.0 * a->kv_heads * a->kv_len);
}

static int
attention_reduction (const OpCase * c)
{
  return c->attn.head_dim;
}

/* A batch item that sees no key gives exact zeros (not NaN, not 1/0). */
static gboolean
attention_check_zero_batch (const OpCase * c, void *const *got, GString * msg)
{
  HartAttentionParams p;
  const float *out = got[c->attn.fused_qkv ? 1 : 3];
  const int cq = c->attn.q_heads * c->attn.head_dim;

  attention_layout (c, &p);
  for (int i = 0; i < p.q_len; i++)
    for (int e = 0; e < cq; e++) {
      float v = out[c->attn.masked_item * p.out_batch_stride +
          i * p.out_row_stride + e];
      if (v != 0.0f) {
        g_string_append_printf (msg, "fully masked batch item %d, row %d "
            "gives %g, not 0", c->attn.masked_item, i, v);
        return FALSE;
      }
    }
  return TRUE;
}

/* Hand-made: q = i, k = 1, v = i + 1, one head of 2, causal offset −2. */
static void
attention_fill_hand (const OpCase * c, GRand * rng, void *const *host)
{
  for (int i = 0; i < 8; i++) {
    F32 (host, 0)[i] = (float) i;
    F32 (host, 1)[i] = 1.0f;
    F32 (host, 2)[i] = (float) (i + 1);
  }
}

/* Rows 0, 1 see nothing: zeros; row 2 sees key 0 only: v0 = (1, 2); row 3
 * sees keys 0, 1 with equal scores (k rows are equal): their mean (2, 3). */
static gboolean
attention_check_hand (const OpCase * c, void *const *got, GString * msg)
{
  static const float expect[8] = { 0, 0, 0, 0, 1, 2, 2, 3 };
  const float *out = got[3];

  for (int i = 0; i < 8; i++)
    if (i < 4 ? out[i] != 0.0f : fabsf (out[i] - expect[i]) > 1e-6f) {
      g_string_append_printf (msg, "out[%d] = %.9g, by hand %g", i, out[i],
          expect[i]);
      return FALSE;
    }
  return TRUE;
}

/* Hand-made for the bf16 op's probabilities: one head, scale 1, q = e0
 * for every query; key 0 has score 0 (the maximum, v = 0), keys 1 … 64
 * score −0.375 (v = e0), keys 65 … kv_len − 1 score −0.3125 (v = e1).  All
 * of them bf16 values, so the scores are exact. */
static void
attention_fill_probs (const OpCase * c, GRand * rng, void *const *host)
{
  const AttentionArgs *a = &c->attn;
  const int d = a->head_dim;

  memset (host[0], 0, (gsize) a->q_len * d * sizeof (float));
  memset (host[1], 0, (gsize) a->kv_len * d * sizeof (float));
  memset (host[2], 0, (gsize) a->kv_len * d * sizeof (float));
  for (int i = 0; i < a->q_len; i++)
    F32 (host, 0)[(gsize) i * d] = 1.0f;
  for (int j = 1; j < a->kv_len; j++) {
    F32 (host, 1)[(gsize) j * d] = j <= 64 ? -0.375f : -0.3125f;
    F32 (host, 2)[(gsize) j * d + (j <= 64 ? 0 : 1)] = 1.0f;
  }
}

/* Every output row is (64 P₁ e0 + (kv_len − 65) P₂ e1) / (1 + 64 p₁ +
 * (kv_len − 65) p₂) with p = exp (−0.375), exp (−0.3125) in fp32 and P
 * their bf16 roundings to nearest even, 0x3f30 = 0.6875 (up from
 * 0x3f2ff231) and 0x3f3b = 0.73046875 (down from 0x3f3b4b29), written out
 * here: exact to a few fp32 roundings.  Probabilities truncated (0x3f2f)
 * move the first element by 2^-8 relative: far past this check's 1e-5,
 * and inside the tolerance class's bound. */
static gboolean
attention_check_probs (const OpCase * c, void *const *got, GString * msg)
{
  const AttentionArgs *a = &c->attn;
  const double n2 = a->kv_len - 65;
  const double sum = 1.0 + 64.0 * expf (-0.375f) + n2 * expf (-0.3125f);
  const double want[2] = { 64.0 * 0.6875 / sum, n2 * 0.73046875 / sum };

  for (int i = 0; i < a->q_len; i++)
    for (int e = 0; e < a->head_dim; e++) {
      const double w = e < 2 ? want[e] : 0.0;
      const float v = CF32 (got, 3)[(gsize) i * a->head_dim + e];
      if (fabs (v - w) > 1e-5 * fabs (w)) {
        g_string_append_printf (msg, "out[%d][%d] = %.9g, with the "
            "probabilities rounded to nearest even %.9g", i, e, v, w);
        return FALSE;
      }
    }
  return TRUE;
}

static const OpDef op_attention = { "attention", attention_tensors,
  attention_fill, attention_run, attention_reference, attention_work,
  attention_reduction
};

/* bf16 products (docs/precision.md): the reference rounds q, k and v as the
 * op does; the op also rounds the probabilities (BF16_ATTENTION's bound) */
static const OpDef op_attention_half = { "attention_half", attention_tensors,
  attention_fill, attention_half_run, attention_half_reference,
  attention_work, attention_reduction, attention_half_unsupported
};

/* ------------------------------------------------------------------ */
/* to_half_heads                                                        */

/* The output holds each 16-bit element of the destination as a float of
 * its bits (0 … 65535, exact), so that the harness compares them as it
 * compares floats, NaN payloads included; elements the op must leave alone
 * (the padding between heads and batch items) start as this sentinel. */
#define TO_HALF_SENTINEL 0xbeef

static void
to_half_layout (const ToHalfArgs * a, int64_t * src_row, int64_t * src_batch,
    int64_t * dst_head, int64_t * dst_batch)
{
  *src_row = (int64_t) a->heads * a->head_dim + a->src_row_pad;
  *src_batch = *src_row * a->len + a->src_batch_pad;
  *dst_head = (int64_t) a->len * a->head_dim + a->dst_head_pad;
  *dst_batch = *dst_head * a->heads + a->dst_batch_pad;
}

static void
to_half_tensors (const OpCase * c, TensorList * t)
{
  const ToHalfArgs *a = &c->to_half;
  int64_t sr, sb, dh, db;

  to_half_layout (a, &sr, &sb, &dh, &db);
  tensor_add (t, "src", TENSOR_F32, ROLE_IN, (gsize) sb * a->batch, -3, 3);
  tensor_add (t, "dst", TENSOR_F32, ROLE_OUT, (gsize) db * a->batch, 0, 0);
}

/* bit patterns the rounding must get right, and what bf16 they round to
 * (written out here, not computed) */
static const uint32_t to_half_specials[][2] = {
  {0x3f808000, 0x3f80},         /* a tie: to the even neighbour, down */
  {0x3f818000, 0x3f82},         /* a tie: to the even neighbour, up */
  {0xbf818000, 0xbf82},         /* a negative tie */
  {0x3f807fff, 0x3f80},         /* just below a tie */
  {0x3f808001, 0x3f81},         /* just above */
  {0x7f7fffff, 0x7f80},         /* the largest float rounds to +inf */
  {0x7f7f7fff, 0x7f7f},
  {0x00008000, 0x0000},         /* a denormal tie, to 0 */
  {0x00018000, 0x0002},
  {0x007fffff, 0x0080},         /* the largest denormal: the smallest normal */
  {0x7fc00000, 0x7fc0},         /* quiet NaN */
  {0x7f800001, 0x7fc0},         /* signalling NaN: quiet, not +inf */
  {0xffc12345, 0xffc1},         /* negative NaN, its payload's top bits */
  {0x7f800000, 0x7f80},         /* +inf */
  {0xff800000, 0xff80},         /* −inf */
  {0x80000000, 0x8000},         /* −0 */
  {0x3f800000, 0x3f80},         /* 1, exact */
};

/* the valid source elements, in order; the specials spread over them */
static void
to_half_fill (const OpCase * c, GRand * rng, void *const *host)
{
  const ToHalfArgs *a = &c->to_half;
  int64_t sr, sb, dh, db;
  gsize n = 0;

  if (!a->specials)
    return;
  to_half_layout (a, &sr, &sb, &dh, &db);
  for (int b = 0; b < a->batch; b++)
    for (int j = 0; j < a->len; j++)
      for (int e = 0; e < a->heads * a->head_dim; e++, n++)
        if (n % 3 == 1) {
          const uint32_t bits =
              to_half_specials[(n / 3) % G_N_ELEMENTS (to_half_specials)][0];
          memcpy (F32 (host, 0) + b * sb + j * sr + e, &bits, sizeof bits);
        }
}

/* Round to nearest even, plainly: the two bf16 neighbours of x (truncation
 * and the next one away from 0, the one past the largest finite value
 * counting as 2^128), the nearer, and on a tie the even one; a NaN stays a
 * NaN (quiet, sign and top payload bits kept). */
static uint16_t
to_half_reference_one (float x)
{
  uint32_t bits;
  uint16_t lo, hi;
  double d_lo, d_hi, v_hi;
  float f_lo;

  memcpy (&bits, &x, sizeof bits);
  if (isnan (x))
    return (uint16_t) ((bits >> 16) | 0x40);
  if (isinf (x))
    return (uint16_t) (bits >> 16);
  lo = (uint16_t) (bits >> 16);
  hi = (uint16_t) (lo + 1);
  bits = (uint32_t) lo << 16;
  memcpy (&f_lo, &bits, sizeof f_lo);
  if ((lo & 0x7fff) == 0x7f7f)
    v_hi = copysign (ldexp (1.0, 128), x);
  else {
    float f_hi;
    bits = (uint32_t) hi << 16;
    memcpy (&f_hi, &bits, sizeof f_hi);
    v_hi = f_hi;
  }
  d_lo = fabs ((double) x - f_lo);
  d_hi = fabs (v_hi - x);
  if (d_lo != d_hi)
    return d_lo < d_hi ? lo : hi;
  return (lo & 1) ? hi : lo;
}

static void
to_half_reference (const OpCase * c, void *const *host, double *const *want)
{
  const ToHalfArgs *a = &c->to_half;
  int64_t sr, sb, dh, db;

  to_half_layout (a, &sr, &sb, &dh, &db);
  for (gsize i = 0; i < (gsize) db * a->batch; i++)
    want[1][i] = TO_HALF_SENTINEL;
  for (int b = 0; b < a->batch; b++)
    for (int j = 0; j < a->len; j++)
      for (int h = 0; h < a->heads; h++)
        for (int e = 0; e < a->head_dim; e++)
          want[1][b * db + h * dh + (int64_t) j * a->head_dim + e] =
              to_half_reference_one (CF32 (host, 0)[b * sb + j * sr +
                  h * a->head_dim + e]);
}

static void
to_half_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ToHalfArgs *a = &c->to_half;
  int64_t sr, sb, dh, db;
  gsize n;
  uint16_t *bits, *dst;
  float *out;

  to_half_layout (a, &sr, &sb, &dh, &db);
  n = (gsize) db *a->batch;
  bits = g_new (uint16_t, MAX (n, 1));
  out = g_new (float, MAX (n, 1));
  dst = be->ops->alloc (be, MAX (n, 1) * sizeof (uint16_t), NULL);
  if (dst != NULL) {
    for (gsize i = 0; i < n; i++)
      bits[i] = TO_HALF_SENTINEL;
    be->ops->upload (be, dst, bits, n * sizeof (uint16_t));
    be->ops->to_half_heads (be, dst, db, dh, dev[0], sb, sr, a->batch,
        a->len, a->heads, a->head_dim);
    be->ops->download (be, bits, dst, n * sizeof (uint16_t));
    for (gsize i = 0; i < n; i++)
      out[i] = bits[i];
    be->ops->upload (be, dev[1], out, n * sizeof (float));
    be->ops->free (be, dst);
  }
  g_free (bits);
  g_free (out);
}

static void
to_half_work (const OpCase * c, double *flops, double *bytes)
{
  const ToHalfArgs *a = &c->to_half;
  *flops = 0;
  *bytes = 6.0 * a->batch * a->len * a->heads * a->head_dim;
}

/* the specials came out as written in to_half_specials */
static gboolean
to_half_check_specials (const OpCase * c, void *const *got, GString * msg)
{
  const ToHalfArgs *a = &c->to_half;
  int64_t sr, sb, dh, db;
  gsize n = 0;

  to_half_layout (a, &sr, &sb, &dh, &db);
  for (int b = 0; b < a->batch; b++)
    for (int j = 0; j < a->len; j++)
      for (int e = 0; e < a->heads * a->head_dim; e++, n++)
        if (n % 3 == 1) {
          const uint32_t *sp =
              to_half_specials[(n / 3) % G_N_ELEMENTS (to_half_specials)];
          const int h = e / a->head_dim;
          const float v = CF32 (got, 1)[b * db + h * dh +
              (int64_t) j * a->head_dim + e % a->head_dim];
          if (v != (float) sp[1]) {
            g_string_append_printf (msg, "0x%08x gives 0x%04x, not 0x%04x",
                sp[0], (unsigned) v, sp[1]);
            return FALSE;
          }
        }
  return TRUE;
}

static const OpDef op_to_half_heads = { "to_half_heads", to_half_tensors,
  to_half_fill, to_half_run, to_half_reference, to_half_work, NULL,
  attention_half_unsupported
};

/* ------------------------------------------------------------------ */
/* layer_norm, rms_norm, group_norm                                     */

static void
layer_norm_tensors (const OpCase * c, TensorList * t)
{
  const NormArgs *a = &c->norm;
  gsize n = (gsize) a->rows * a->dim;
  gboolean range = a->x_lo != 0 || a->x_hi != 0;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN, n, range ? a->x_lo : -3,
      range ? a->x_hi : 5);
  tensor_add (t, "weight", TENSOR_F32, ROLE_IN, a->dim, -2, 2);
  tensor_add (t, "bias", TENSOR_F32, ROLE_IN, a->dim, -1, 1);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, n, 0, 0);
}

static void
layer_norm_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const NormArgs *a = &c->norm;
  be->ops->layer_norm (be, dev[3], dev[0], a->weight ? dev[1] : NULL,
      a->bias ? dev[2] : NULL, a->rows, a->dim, a->eps);
}

static void
layer_norm_reference (const OpCase * c, void *const *host, double *const *want)
{
  const NormArgs *a = &c->norm;
  const float *x = CF32 (host, 0), *w = CF32 (host, 1), *b = CF32 (host, 2);

  for (int r = 0; r < a->rows; r++) {
    const float *xr = x + (gsize) r * a->dim;
    double mean = 0, var = 0;
    for (int i = 0; i < a->dim; i++)
      mean += xr[i];
    mean /= a->dim;
    for (int i = 0; i < a->dim; i++)
      var += (xr[i] - mean) * (xr[i] - mean);
    var /= a->dim;
    for (int i = 0; i < a->dim; i++)
      want[3][(gsize) r * a->dim + i] = (xr[i] - mean) /
          sqrt (var + (double) a->eps) * (a->weight ? w[i] : 1.0) +
          (a->bias ? b[i] : 0.0);
  }
}

static void
norm_work (const OpCase * c, double *flops, double *bytes)
{
  const NormArgs *a = &c->norm;
  double n = a->rows > 0 ? (double) a->rows * a->dim :
      (double) a->batch * a->channels * a->hw;
  *flops = 0;
  *bytes = 8.0 * n;
}

static const OpDef op_layer_norm = { "layer_norm", layer_norm_tensors, NULL,
  layer_norm_run, layer_norm_reference, norm_work, reduction_one
};

/* Tensors: x, weight[, y] (in place: x is the output). */
static void
rms_norm_tensors (const OpCase * c, TensorList * t)
{
  const NormArgs *a = &c->norm;
  gsize n = (gsize) a->rows * a->dim;
  tensor_add (t, "x", TENSOR_F32, a->in_place ? ROLE_INOUT : ROLE_IN, n, -3, 4);
  tensor_add (t, "weight", TENSOR_F32, ROLE_IN, a->dim, -2, 2);
  if (!a->in_place)
    tensor_add (t, "y", TENSOR_F32, ROLE_OUT, n, 0, 0);
}

static void
rms_norm_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const NormArgs *a = &c->norm;
  be->ops->rms_norm (be, a->in_place ? dev[0] : dev[2], dev[0],
      a->weight ? dev[1] : NULL, a->rows, a->dim, a->eps);
}

static void
rms_norm_reference (const OpCase * c, void *const *host, double *const *want)
{
  const NormArgs *a = &c->norm;
  const float *x = CF32 (host, 0), *w = CF32 (host, 1);
  double *y = want[a->in_place ? 0 : 2];

  for (int r = 0; r < a->rows; r++) {
    const float *xr = x + (gsize) r * a->dim;
    double ss = 0;
    for (int i = 0; i < a->dim; i++)
      ss += (double) xr[i] * xr[i];
    for (int i = 0; i < a->dim; i++)
      y[(gsize) r * a->dim + i] = xr[i] / sqrt (ss / a->dim + a->eps) *
          (a->weight ? w[i] : 1.0);
  }
}

static const OpDef op_rms_norm = { "rms_norm", rms_norm_tensors, NULL,
  rms_norm_run, rms_norm_reference, norm_work, reduction_one
};

static void
group_norm_tensors (const OpCase * c, TensorList * t)
{
  const NormArgs *a = &c->norm;
  gsize n = (gsize) a->batch * a->channels * a->hw;
  gboolean range = a->x_lo != 0 || a->x_hi != 0;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN, n, range ? a->x_lo : -2,
      range ? a->x_hi : 6);
  tensor_add (t, "weight", TENSOR_F32, ROLE_IN, a->channels, -2, 2);
  tensor_add (t, "bias", TENSOR_F32, ROLE_IN, a->channels, -1, 1);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, n, 0, 0);
}

static void
group_norm_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const NormArgs *a = &c->norm;
  be->ops->group_norm (be, dev[3], dev[0], a->weight ? dev[1] : NULL,
      a->bias ? dev[2] : NULL, a->batch, a->channels, a->hw, a->groups, a->eps);
}

static void
group_norm_reference (const OpCase * c, void *const *host, double *const *want)
{
  const NormArgs *a = &c->norm;
  const float *x = CF32 (host, 0), *w = CF32 (host, 1), *b = CF32 (host, 2);
  const int cpg = a->channels / a->groups;

  for (int n = 0; n < a->batch; n++)
    for (int g = 0; g < a->groups; g++) {
      const float *xg = x + ((gsize) n * a->channels + g * cpg) * a->hw;
      gsize len = (gsize) cpg * a->hw;
      double mean = 0, var = 0;
      for (gsize i = 0; i < len; i++)
        mean += xg[i];
      mean /= len;
      for (gsize i = 0; i < len; i++)
        var += (xg[i] - mean) * (xg[i] - mean);
      var /= len;
      for (int ch = g * cpg; ch < (g + 1) * cpg; ch++)
        for (int i = 0; i < a->hw; i++) {
          gsize idx = ((gsize) n * a->channels + ch) * a->hw + i;
          want[3][idx] = (x[idx] - mean) / sqrt (var + a->eps) *
              (a->weight ? w[ch] : 1.0) + (a->bias ? b[ch] : 0.0);
        }
    }
}

static const OpDef op_group_norm = { "group_norm", group_norm_tensors, NULL,
  group_norm_run, group_norm_reference, norm_work, reduction_one
};

/* group_norm_silu_half: silu of group_norm's reference */
static void
group_norm_silu_half_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const NormArgs *a = &c->norm;
  be->ops->group_norm_silu_half (be, dev[3], dev[0], a->weight ? dev[1] :
      NULL, a->bias ? dev[2] : NULL, a->batch, a->channels, a->hw, a->groups,
      a->eps);
}

static void
group_norm_silu_half_reference (const OpCase * c, void *const *host,
    double *const *want)
{
  const NormArgs *a = &c->norm;
  const gsize n = (gsize) a->batch * a->channels * a->hw;

  group_norm_reference (c, host, want);
  for (gsize i = 0; i < n; i++)
    want[3][i] = want[3][i] / (1.0 + exp (-want[3][i]));
}

static const char *
group_norm_silu_half_unsupported (HartBackend * be)
{
  if (be->ops->group_norm_silu_half == NULL
      || !(be->half_dtypes & (1u << HART_DTYPE_BF16)))
    return "no bf16 paths on this backend";
  return NULL;
}

static const OpDef op_group_norm_silu_half = { "group_norm_silu_half",
  group_norm_tensors, NULL, group_norm_silu_half_run,
  group_norm_silu_half_reference, norm_work, reduction_one,
  group_norm_silu_half_unsupported
};

/* ------------------------------------------------------------------ */
/* modulate                                                             */

static void
modulate_tensors (const OpCase * c, TensorList * t)
{
  const ModulateArgs *a = &c->mod;
  tensor_add (t, "x", TENSOR_F32, ROLE_INOUT,
      (gsize) a->batch * a->rows * a->dim, -2, 2);
  tensor_add (t, "mod", TENSOR_F32, ROLE_IN,
      (gsize) a->batch * a->mod_rows * a->dim, -1, 1);
}

static void
modulate_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ModulateArgs *a = &c->mod;
  const float *mod = dev[1];
  be->ops->modulate (be, dev[0], mod + a->scale_row * a->dim,
      mod + a->shift_row * a->dim, (int64_t) a->mod_rows * a->dim, a->batch,
      a->rows, a->dim);
}

static void
modulate_reference (const OpCase * c, void *const *host, double *const *want)
{
  const ModulateArgs *a = &c->mod;
  const float *x = CF32 (host, 0), *mod = CF32 (host, 1);
  const gsize stride = (gsize) a->mod_rows * a->dim;

  for (int b = 0; b < a->batch; b++)
    for (int t = 0; t < a->rows; t++)
      for (int i = 0; i < a->dim; i++) {
        gsize idx = ((gsize) b * a->rows + t) * a->dim + i;
        want[0][idx] = (double) x[idx] *
            (1.0 + mod[b * stride + a->scale_row * a->dim + i]) +
            mod[b * stride + a->shift_row * a->dim + i];
      }
}

static void
modulate_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 8.0 * c->mod.batch * c->mod.rows * (double) c->mod.dim;
}

static const OpDef op_modulate = { "modulate", modulate_tensors, NULL,
  modulate_run, modulate_reference, modulate_work, reduction_one
};

/* ------------------------------------------------------------------ */
/* rope                                                                 */

static void
rope_tensors (const OpCase * c, TensorList * t)
{
  const RopeArgs *a = &c->rope;
  gsize table = (gsize) (a->shared_table ? 1 : a->batch) * a->len * a->head_dim;
  tensor_add (t, "x", TENSOR_F32, ROLE_INOUT,
      (gsize) a->batch * a->len * a->row_heads * a->head_dim, -2, 2);
  /* halves differ, as in HART's image RoPE (docs/algorithm.md §5.4) */
  tensor_add (t, "cos", TENSOR_F32, ROLE_IN, table, -1, 1);
  tensor_add (t, "sin", TENSOR_F32, ROLE_IN, table, -1, 1);
}

static void
rope_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const RopeArgs *a = &c->rope;
  const int64_t row = (int64_t) a->row_heads * a->head_dim;
  be->ops->rope (be, F32 (dev, 0) + a->first_head * a->head_dim,
      row * a->len, row, dev[1], dev[2],
      a->shared_table ? 0 : (int64_t) a->len * a->head_dim, a->batch, a->len,
      a->heads, a->head_dim);
}

static void
rope_reference (const OpCase * c, void *const *host, double *const *want)
{
  const RopeArgs *a = &c->rope;
  const float *x = CF32 (host, 0), *cs = CF32 (host, 1), *sn = CF32 (host, 2);
  const int hd = a->head_dim, h2 = hd / 2;
  const gsize row = (gsize) a->row_heads * hd;

  for (int b = 0; b < a->batch; b++)
    for (int t = 0; t < a->len; t++)
      for (int h = a->first_head; h < a->first_head + a->heads; h++)
        for (int d = 0; d < h2; d++) {
          gsize base = ((gsize) b * a->len + t) * row + (gsize) h * hd;
          gsize tb = ((gsize) (a->shared_table ? 0 : b) * a->len + t) * hd;
          double lo = x[base + d], hi = x[base + d + h2];
          want[0][base + d] = lo * cs[tb + d] - hi * sn[tb + d];
          want[0][base + d + h2] = hi * cs[tb + d + h2] + lo * sn[tb + d + h2];
        }
}

static void
rope_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 16.0 * c->rope.batch * c->rope.len * c->rope.heads *
      (double) c->rope.head_dim;
}

static const OpDef op_rope = { "rope", rope_tensors, NULL, rope_run,
  rope_reference, rope_work, reduction_one
};

/* ------------------------------------------------------------------ */
/* softmax                                                              */

static void
softmax_tensors (const OpCase * c, TensorList * t)
{
  const double r = c->softmax.special_rows == 2 ? 20 : 10;
  tensor_add (t, "x", TENSOR_F32, ROLE_INOUT,
      (gsize) c->softmax.rows * c->softmax.n, -r, r);
}

static void
softmax_fill (const OpCase * c, GRand * rng, void *const *host)
{
  const int n = c->softmax.n;
  float *x = host[0];

  if (c->softmax.special_rows == 1) {
    /* row 1: large values (overflow without max subtraction) */
    for (int j = 0; j < n; j++)
      x[n + j] += 1000.0f;
    /* row 2: some masked entries; row 3: all masked → zeros */
    for (int j = 0; j < n; j += 3)
      x[2 * n + j] = -INFINITY;
    for (int j = 0; j < n; j++)
      x[3 * n + j] = -INFINITY;
    /* row 4: a single visible entry → exactly 1 there */
    for (int j = 0; j < n; j++)
      x[4 * n + j] = j == 17 ? 3.0f : -INFINITY;
  } else if (c->softmax.special_rows == 2) {
    for (int j = 0; j < n; j += 3)
      x[n + j] = -INFINITY;
    for (int j = 0; j < n; j++)
      x[2 * n + j] = -INFINITY;
  }
}

static void
softmax_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  be->ops->softmax (be, dev[0], c->softmax.rows, c->softmax.n);
}

static void
softmax_reference (const OpCase * c, void *const *host, double *const *want)
{
  const int n = c->softmax.n;
  const float *x = CF32 (host, 0);

  for (int r = 0; r < c->softmax.rows; r++) {
    double mx = -INFINITY, sum = 0;
    double *y = want[0] + (gsize) r * n;
    for (int j = 0; j < n; j++)
      mx = MAX (mx, x[(gsize) r * n + j]);
    for (int j = 0; j < n; j++) {
      y[j] = mx == -INFINITY ? 0.0 : exp (x[(gsize) r * n + j] - mx);
      sum += y[j];
    }
    for (int j = 0; j < n; j++)
      y[j] = sum > 0 ? y[j] / sum : 0.0;
  }
}

static gboolean
softmax_check_single (const OpCase * c, void *const *got, GString * msg)
{
  float v = F32 (got, 0)[4 * c->softmax.n + 17];
  if (v == 1.0f)
    return TRUE;
  g_string_append_printf (msg, "single visible entry gives %.9g, not 1", v);
  return FALSE;
}

static void
softmax_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 8.0 * c->softmax.rows * (double) c->softmax.n;
}

static int
softmax_reduction (const OpCase * c)
{
  return c->softmax.n;
}

static const OpDef op_softmax = { "softmax", softmax_tensors, softmax_fill,
  softmax_run, softmax_reference, softmax_work, softmax_reduction
};

/* ------------------------------------------------------------------ */
/* activations and elementwise                                          */

static gboolean
ew_is (const OpCase * c, const char *op)
{
  return strcmp (c->def->op, op) == 0;
}

static gboolean
ew_binary (const OpCase * c)
{
  return ew_is (c, "swiglu") || ew_is (c, "add") || ew_is (c, "mul")
      || ew_is (c, "axpby");
}

/* Tensors: a[, b][, y]: b when binary and not aliased to a, y when not
 * in place (then a is the output). */
static int
ew_index_b (const OpCase * c)
{
  return ew_binary (c) ? (c->ew.in_place == 2 ? 0 : 1) : -1;
}

static int
ew_index_y (const OpCase * c)
{
  return c->ew.in_place ? 0 : (ew_binary (c) ? 2 : 1);
}

static void
ew_tensors (const OpCase * c, TensorList * t)
{
  const ElementwiseArgs *e = &c->ew;
  tensor_add (t, "a", TENSOR_F32, e->in_place ? ROLE_INOUT : ROLE_IN, e->n,
      -e->range_a, e->range_a);
  if (ew_index_b (c) == 1)
    tensor_add (t, "b", TENSOR_F32, ROLE_IN, e->n, -e->range_b, e->range_b);
  if (!e->in_place)
    tensor_add (t, "y", TENSOR_F32, ROLE_OUT, e->n, 0, 0);
}

static void
ew_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ElementwiseArgs *e = &c->ew;
  float *a = dev[0], *b = ew_binary (c) ? dev[ew_index_b (c)] : NULL;
  float *y = dev[ew_index_y (c)];

  if (ew_is (c, "silu"))
    be->ops->silu (be, y, a, e->n);
  else if (ew_is (c, "gelu"))
    be->ops->gelu (be, y, a, e->n);
  else if (ew_is (c, "gelu_tanh"))
    be->ops->gelu_tanh (be, y, a, e->n);
  else if (ew_is (c, "swiglu"))
    be->ops->swiglu (be, y, a, b, e->n);
  else if (ew_is (c, "add"))
    be->ops->add (be, y, a, b, e->n);
  else if (ew_is (c, "mul"))
    be->ops->mul (be, y, a, b, e->n);
  else if (ew_is (c, "axpby"))
    be->ops->axpby (be, y, e->alpha, a, e->beta, b, e->n);
  else if (ew_is (c, "scale"))
    be->ops->scale (be, y, a, e->alpha, e->n);
  else if (ew_is (c, "clamp"))
    be->ops->clamp (be, y, a, e->lo, e->hi, e->n);
  else
    g_assert_not_reached ();
}

static double
silu_ref (double a)
{
  return a / (1.0 + exp (-a));
}

static void
ew_reference (const OpCase * c, void *const *host, double *const *want)
{
  const ElementwiseArgs *e = &c->ew;
  const float *a = CF32 (host, 0);
  const float *b = ew_binary (c) ? CF32 (host, ew_index_b (c)) : NULL;
  double *y = want[ew_index_y (c)];

  for (gsize i = 0; i < e->n; i++) {
    double av = a[i], bv = b ? b[i] : 0.0;
    if (ew_is (c, "silu"))
      y[i] = silu_ref (av);
    else if (ew_is (c, "gelu"))
      y[i] = 0.5 * av * (1.0 + erf (av / sqrt (2.0)));
    else if (ew_is (c, "gelu_tanh"))
      y[i] = 0.5 * av * (1.0 + tanh (sqrt (2.0 / G_PI) *
              (av + 0.044715 * av * av * av)));
    else if (ew_is (c, "swiglu"))
      y[i] = silu_ref (av) * bv;
    else if (ew_is (c, "add"))
      y[i] = av + bv;
    else if (ew_is (c, "mul"))
      y[i] = av * bv;
    else if (ew_is (c, "axpby"))
      y[i] = (double) e->alpha * av + (double) e->beta * bv;
    else if (ew_is (c, "scale"))
      y[i] = (double) e->alpha * av;
    else if (ew_is (c, "clamp"))
      y[i] = av < e->lo ? e->lo : (av > e->hi ? e->hi : av);
  }
}

static void
ew_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 4.0 * c->ew.n * (ew_binary (c) ? 3 : 2);
}

#define EW_OP(var, name) \
  static const OpDef var = { name, ew_tensors, NULL, ew_run, ew_reference, \
    ew_work, reduction_one }
EW_OP (op_silu, "silu");
EW_OP (op_gelu, "gelu");
EW_OP (op_gelu_tanh, "gelu_tanh");
EW_OP (op_swiglu, "swiglu");
EW_OP (op_add, "add");
EW_OP (op_mul, "mul");
EW_OP (op_axpby, "axpby");
EW_OP (op_scale, "scale");
EW_OP (op_clamp, "clamp");

static void
add_row_vector_tensors (const OpCase * c, TensorList * t)
{
  tensor_add (t, "x", TENSOR_F32, ROLE_INOUT,
      (gsize) c->ew.rows * c->ew.dim, -1, 1);
  tensor_add (t, "v", TENSOR_F32, ROLE_IN, c->ew.dim, -1, 1);
}

static void
add_row_vector_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  be->ops->add_row_vector (be, dev[0], dev[1], c->ew.rows, c->ew.dim);
}

static void
add_row_vector_reference (const OpCase * c, void *const *host,
    double *const *want)
{
  const float *x = CF32 (host, 0), *v = CF32 (host, 1);
  for (gsize i = 0; i < (gsize) c->ew.rows * c->ew.dim; i++)
    want[0][i] = (double) x[i] + v[i % c->ew.dim];
}

static void
add_row_vector_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 8.0 * c->ew.rows * (double) c->ew.dim;
}

static const OpDef op_add_row_vector = { "add_row_vector",
  add_row_vector_tensors, NULL, add_row_vector_run, add_row_vector_reference,
  add_row_vector_work, reduction_one
};

static void
max_over_rows_tensors (const OpCase * c, TensorList * t)
{
  const ElementwiseArgs *e = &c->ew;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN,
      (gsize) e->batch * e->len * e->dim, -5, 5);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, (gsize) e->batch * e->dim, 0, 0);
}

static void
max_over_rows_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  be->ops->max_over_rows (be, dev[1], dev[0], c->ew.batch, c->ew.len,
      c->ew.dim);
}

static void
max_over_rows_reference (const OpCase * c, void *const *host,
    double *const *want)
{
  const ElementwiseArgs *e = &c->ew;
  const float *x = CF32 (host, 0);

  for (int b = 0; b < e->batch; b++)
    for (int i = 0; i < e->dim; i++) {
      double m = -INFINITY;
      for (int t = 0; t < e->len; t++)
        m = MAX (m, x[((gsize) b * e->len + t) * e->dim + i]);
      want[1][(gsize) b * e->dim + i] = m;
    }
}

static void
max_over_rows_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 4.0 * c->ew.batch * (c->ew.len + 1.0) * c->ew.dim;
}

static const OpDef op_max_over_rows = { "max_over_rows",
  max_over_rows_tensors, NULL, max_over_rows_run, max_over_rows_reference,
  max_over_rows_work, reduction_one
};

/* ------------------------------------------------------------------ */
/* memory ops: copy, fill, copy_2d                                      */

static void
copy_tensors (const OpCase * c, TensorList * t)
{
  tensor_add (t, "src", TENSOR_F32, ROLE_IN, c->ew.n, -1, 1);
  /* random destination: what lies outside the copied part must survive */
  tensor_add (t, "dst", TENSOR_F32, ROLE_INOUT, c->ew.n, -1, 1);
}

static void
copy_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  be->ops->copy (be, F32 (dev, 1) + c->ew.dst_offset,
      F32 (dev, 0) + c->ew.src_offset, c->ew.count * sizeof (float));
}

static void
copy_reference (const OpCase * c, void *const *host, double *const *want)
{
  for (gsize i = 0; i < c->ew.count; i++)
    want[1][c->ew.dst_offset + i] = CF32 (host, 0)[c->ew.src_offset + i];
}

static void
copy_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 8.0 * c->ew.count;
}

static const OpDef op_copy = { "copy", copy_tensors, NULL, copy_run,
  copy_reference, copy_work, reduction_one
};

static void
fill_tensors (const OpCase * c, TensorList * t)
{
  tensor_add (t, "dst", TENSOR_F32, ROLE_INOUT, c->ew.n, -1, 1);
}

static void
fill_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  be->ops->fill (be, F32 (dev, 0) + c->ew.dst_offset, c->ew.alpha, c->ew.count);
}

static void
fill_reference (const OpCase * c, void *const *host, double *const *want)
{
  for (gsize i = 0; i < c->ew.count; i++)
    want[0][c->ew.dst_offset + i] = c->ew.alpha;
}

static void
fill_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 4.0 * c->ew.count;
}

static const OpDef op_fill = { "fill", fill_tensors, NULL, fill_run,
  fill_reference, fill_work, reduction_one
};

static void
copy_2d_tensors (const OpCase * c, TensorList * t)
{
  const Copy2dArgs *a = &c->copy2d;
  tensor_add (t, "src", TENSOR_F32, ROLE_IN, (gsize) a->rows * a->src_pitch,
      -1, 1);
  tensor_add (t, "dst", TENSOR_F32, ROLE_INOUT,
      (gsize) a->rows * a->dst_pitch, -1, 1);
}

static void
copy_2d_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const Copy2dArgs *a = &c->copy2d;
  be->ops->copy_2d (be, dev[1], a->dst_pitch * sizeof (float),
      F32 (dev, 0) + a->src_offset, a->src_pitch * sizeof (float),
      a->width * sizeof (float), a->rows);
}

static void
copy_2d_reference (const OpCase * c, void *const *host, double *const *want)
{
  const Copy2dArgs *a = &c->copy2d;
  for (int r = 0; r < a->rows; r++)
    for (int i = 0; i < a->width; i++)
      want[1][(gsize) r * a->dst_pitch + i] =
          CF32 (host, 0)[(gsize) r * a->src_pitch + a->src_offset + i];
}

static void
copy_2d_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 8.0 * c->copy2d.rows * (double) c->copy2d.width;
}

static const OpDef op_copy_2d = { "copy_2d", copy_2d_tensors, NULL,
  copy_2d_run, copy_2d_reference, copy_2d_work, reduction_one
};

/* ------------------------------------------------------------------ */
/* embedding                                                            */

static void
embedding_tensors (const OpCase * c, TensorList * t)
{
  const EmbeddingArgs *a = &c->emb;
  tensor_add (t, "table", TENSOR_F32, ROLE_IN, (gsize) a->n_table * a->dim,
      -1, 1);
  tensor_add (t, "ids", TENSOR_I32, ROLE_IN, a->n, 0, 0);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, (gsize) a->n * a->dim, 0, 0);
}

/* ids in [0, n_table), the first and the last row among them */
static void
embedding_fill (const OpCase * c, GRand * rng, void *const *host)
{
  int32_t *ids = host[1];
  for (int i = 0; i < c->emb.n; i++)
    ids[i] = i == 0 ? 0 : (i == 1 ? c->emb.n_table - 1 :
        g_rand_int_range (rng, 0, c->emb.n_table));
}

static void
embedding_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  be->ops->embedding (be, dev[2], dev[0], dev[1], c->emb.n, c->emb.dim);
}

static void
embedding_reference (const OpCase * c, void *const *host, double *const *want)
{
  const int32_t *ids = host[1];
  for (int i = 0; i < c->emb.n; i++)
    for (int d = 0; d < c->emb.dim; d++)
      want[2][(gsize) i * c->emb.dim + d] =
          CF32 (host, 0)[(gsize) ids[i] * c->emb.dim + d];
}

static void
embedding_work (const OpCase * c, double *flops, double *bytes)
{
  *flops = 0;
  *bytes = 8.0 * c->emb.n * (double) c->emb.dim;
}

static const OpDef op_embedding = { "embedding", embedding_tensors,
  embedding_fill, embedding_run, embedding_reference, embedding_work,
  reduction_one
};

/* ------------------------------------------------------------------ */
/* conv2d                                                               */

static int
conv_out_h (const ConvArgs * a)
{
  return a->height + 2 * a->pad - a->k + 1;
}

static int
conv_out_w (const ConvArgs * a)
{
  return a->width + 2 * a->pad - a->k + 1;
}

static void
conv2d_tensors (const OpCase * c, TensorList * t)
{
  const ConvArgs *a = &c->conv;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN,
      (gsize) a->batch * a->cin * a->height * a->width, -1, 1);
  tensor_add (t, "w", TENSOR_F32, ROLE_IN,
      (gsize) a->cout * a->cin * a->k * a->k, -1, 1);
  tensor_add (t, "bias", TENSOR_F32, ROLE_IN, a->cout, -1, 1);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT,
      (gsize) a->batch * a->cout * conv_out_h (a) * conv_out_w (a), 0, 0);
}

static void
conv2d_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ConvArgs *a = &c->conv;
  const HartConv2dParams p = {
    .y = dev[3],.x = dev[0],.w = dev[1],.bias = a->bias ? dev[2] : NULL,
    .batch = a->batch,.cin = a->cin,.height = a->height,.width = a->width,
    .cout = a->cout,.k = a->k,.pad = a->pad,
  };
  be->ops->conv2d (be, &p);
}

static void
conv2d_reference_in (const OpCase * c, void *const *host,
    double *const *want, gboolean bf16)
{
  const ConvArgs *a = &c->conv;
  const float *x = CF32 (host, 0), *w = CF32 (host, 1), *bias = CF32 (host, 2);
  const int oh = conv_out_h (a), ow = conv_out_w (a);

  for (int n = 0; n < a->batch; n++)
    for (int co = 0; co < a->cout; co++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double s = a->bias ? bias[co] : 0.0;
          for (int ci = 0; ci < a->cin; ci++)
            for (int ky = 0; ky < a->k; ky++)
              for (int kx = 0; kx < a->k; kx++) {
                int iy = oy + ky - a->pad, ix = ox + kx - a->pad;
                if (iy < 0 || iy >= a->height || ix < 0 || ix >= a->width)
                  continue;
                s += operand_value (x[(((gsize) n * a->cin + ci) *
                            a->height + iy) * a->width + ix], bf16) *
                    operand_value (w[(((gsize) co * a->cin + ci) * a->k +
                            ky) * a->k + kx], bf16);
              }
          want[3][(((gsize) n * a->cout + co) * oh + oy) * ow + ox] = s;
        }
}

static void
conv2d_reference (const OpCase * c, void *const *host, double *const *want)
{
  conv2d_reference_in (c, host, want, FALSE);
}

/* conv2d_half: x and w rounded to bf16, sums exact */
static void
conv2d_half_reference (const OpCase * c, void *const *host, double *const *want)
{
  conv2d_reference_in (c, host, want, TRUE);
}

static void
conv2d_half_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ConvArgs *a = &c->conv;
  const HartConv2dParams p = {
    .y = dev[3],.x = dev[0],.w = dev[1],.bias = a->bias ? dev[2] : NULL,
    .batch = a->batch,.cin = a->cin,.height = a->height,.width = a->width,
    .cout = a->cout,.k = a->k,.pad = a->pad,
  };
  char *saved = NULL;

  if (a->im2col)
    saved = env_override ("HART_CPU_CONV", "im2col");
  be->ops->conv2d_half (be, &p);
  if (a->im2col)
    env_restore ("HART_CPU_CONV", saved);
}

static const char *
conv2d_half_unsupported (HartBackend * be)
{
  if (be->ops->conv2d_half == NULL
      || !(be->half_dtypes & (1u << HART_DTYPE_BF16)))
    return "no bf16 products on this backend";
  return NULL;
}

static void
conv2d_work (const OpCase * c, double *flops, double *bytes)
{
  const ConvArgs *a = &c->conv;
  double out = (double) a->batch * a->cout * conv_out_h (a) * conv_out_w (a);
  *flops = 2.0 * out * a->cin * a->k * a->k;
  *bytes = 4.0 * (out + (double) a->batch * a->cin * a->height * a->width +
      (double) a->cout * a->cin * a->k * a->k);
}

static int
conv2d_reduction (const OpCase * c)
{
  return c->conv.cin * c->conv.k * c->conv.k;
}

static const OpDef op_conv2d = { "conv2d", conv2d_tensors, NULL, conv2d_run,
  conv2d_reference, conv2d_work, conv2d_reduction
};

static const OpDef op_conv2d_half = { "conv2d_half", conv2d_tensors, NULL,
  conv2d_half_run, conv2d_half_reference, conv2d_work, conv2d_reduction,
  conv2d_half_unsupported
};

/* ------------------------------------------------------------------ */
/* upsample_nearest2x, resize_bicubic, resize_area                      */

static void
resize_tensors (const OpCase * c, TensorList * t)
{
  const ResizeArgs *a = &c->resize;
  gsize planes = (gsize) a->batch * a->channels;
  tensor_add (t, "x", TENSOR_F32, ROLE_IN, planes * a->in_h * a->in_w, -1, 1);
  tensor_add (t, "y", TENSOR_F32, ROLE_OUT, planes * a->out_h * a->out_w, 0, 0);
}

static void
resize_work (const OpCase * c, double *flops, double *bytes)
{
  const ResizeArgs *a = &c->resize;
  *flops = 0;
  *bytes = 4.0 * a->batch * a->channels * ((double) a->in_h * a->in_w +
      (double) a->out_h * a->out_w);
}

static void
upsample_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ResizeArgs *a = &c->resize;
  be->ops->upsample_nearest2x (be, dev[1], dev[0], a->batch, a->channels,
      a->in_h, a->in_w);
}

static void
upsample_reference (const OpCase * c, void *const *host, double *const *want)
{
  const ResizeArgs *a = &c->resize;
  for (int p = 0; p < a->batch * a->channels; p++)
    for (int oy = 0; oy < a->out_h; oy++)
      for (int ox = 0; ox < a->out_w; ox++)
        want[1][((gsize) p * a->out_h + oy) * a->out_w + ox] =
            CF32 (host, 0)[((gsize) p * a->in_h + oy / 2) * a->in_w + ox / 2];
}

static const OpDef op_upsample_nearest2x = { "upsample_nearest2x",
  resize_tensors, NULL, upsample_run, upsample_reference, resize_work,
  reduction_one
};

static void
bicubic_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ResizeArgs *a = &c->resize;
  be->ops->resize_bicubic (be, dev[1], dev[0], a->batch, a->channels,
      a->in_h, a->in_w, a->out_h, a->out_w);
}

/* Keys's cubic convolution kernel, A = −0.75, as a function of distance. */
static double
cubic_kernel (double d)
{
  const double A = -0.75;
  d = fabs (d);
  if (d <= 1.0)
    return ((A + 2) * d - (A + 3)) * d * d + 1;
  if (d < 2.0)
    return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
  return 0.0;
}

/* Bicubic resize written as a 4×4 weighted sum over distances: an
 * independent formulation of PyTorch's align_corners = False rule. */
static void
bicubic_reference (const OpCase * c, void *const *host, double *const *want)
{
  const ResizeArgs *a = &c->resize;
  const float *x = CF32 (host, 0);

  for (int p = 0; p < a->batch * a->channels; p++)
    for (int oy = 0; oy < a->out_h; oy++)
      for (int ox = 0; ox < a->out_w; ox++) {
        double sy = ((double) a->in_h / a->out_h) * (oy + 0.5) - 0.5;
        double sx = ((double) a->in_w / a->out_w) * (ox + 0.5) - 0.5;
        int y0 = (int) floor (sy), x0 = (int) floor (sx);
        double s = 0;
        for (int j = -1; j <= 2; j++)
          for (int i = -1; i <= 2; i++) {
            int yy = CLAMP (y0 + j, 0, a->in_h - 1);
            int xx = CLAMP (x0 + i, 0, a->in_w - 1);
            s += cubic_kernel (sy - (y0 + j)) * cubic_kernel (sx - (x0 + i)) *
                x[((gsize) p * a->in_h + yy) * a->in_w + xx];
          }
        want[1][((gsize) p * a->out_h + oy) * a->out_w + ox] = s;
      }
}

static const OpDef op_resize_bicubic = { "resize_bicubic", resize_tensors,
  NULL, bicubic_run, bicubic_reference, resize_work, reduction_one
};

/* 2×2 [[0, 1], [2, 3]] (and its last value alone as a 1×1 image) */
static void
bicubic_fill_hand (const OpCase * c, GRand * rng, void *const *host)
{
  for (int i = 0; i < c->resize.in_h * c->resize.in_w; i++)
    F32 (host, 0)[i] = (float) (i + 4 - c->resize.in_h * c->resize.in_w);
}

/* By hand, 2×2 → 4×4: out[0][0] has t = 0.75, taps (0, 0, 0, 1) with
 * weights (−0.03515625, 0.26171875, 0.87890625, −0.10546875), giving rows
 * −0.10546875 and 1.89453125, then −0.31640625; out[1][1] has t = 0.25:
 * 0.6796875; by symmetry out[3][3] = 3 − out[0][0].  1×1 → 4×4 is a
 * constant image (the weights sum to 1). */
static gboolean
bicubic_check_hand (const OpCase * c, void *const *got, GString * msg)
{
  const float *y = got[1];
  static const struct
  {
    int i;
    float v;
  } two[] = { {0, -0.31640625f}, {5, 0.6796875f}, {15, 3.31640625f} };

  if (c->resize.in_h == 1) {
    for (int i = 0; i < 16; i++)
      if (fabsf (y[i] - 3.0f) > 1e-6f) {
        g_string_append_printf (msg, "1x1 -> 4x4: y[%d] = %.9g, not 3", i,
            y[i]);
        return FALSE;
      }
    return TRUE;
  }
  for (gsize j = 0; j < G_N_ELEMENTS (two); j++)
    if (fabsf (y[two[j].i] - two[j].v) > 1e-6f) {
      g_string_append_printf (msg, "y[%d] = %.9g, by hand %.9g", two[j].i,
          y[two[j].i], two[j].v);
      return FALSE;
    }
  return TRUE;
}

static void
area_run (HartBackend * be, const OpCase * c, void *const *dev)
{
  const ResizeArgs *a = &c->resize;
  be->ops->resize_area (be, dev[1], dev[0], a->batch, a->channels, a->in_h,
      a->in_w, a->out_h, a->out_w);
}

/* adaptive_avg_pool2d: windows [floor (o·in/out), ceil ((o+1)·in/out)) */
static void
area_reference (const OpCase * c, void *const *host, double *const *want)
{
  const ResizeArgs *a = &c->resize;
  const float *x = CF32 (host, 0);

  for (int p = 0; p < a->batch * a->channels; p++)
    for (int oy = 0; oy < a->out_h; oy++)
      for (int ox = 0; ox < a->out_w; ox++) {
        int y0 = (int) floor ((double) oy * a->in_h / a->out_h);
        int y1 = (int) ceil ((double) (oy + 1) * a->in_h / a->out_h);
        int x0 = (int) floor ((double) ox * a->in_w / a->out_w);
        int x1 = (int) ceil ((double) (ox + 1) * a->in_w / a->out_w);
        double sum = 0;
        for (int yy = y0; yy < y1; yy++)
          for (int xx = x0; xx < x1; xx++)
            sum += x[((gsize) p * a->in_h + yy) * a->in_w + xx];
        want[1][((gsize) p * a->out_h + oy) * a->out_w + ox] =
            sum / ((y1 - y0) * (x1 - x0));
      }
}

static const OpDef op_resize_area = { "resize_area", resize_tensors, NULL,
  area_run, area_reference, resize_work, reduction_one
};

/* 4×4 of 0..15, and 1×3 [0, 1, 2] */
static void
area_fill_hand (const OpCase * c, GRand * rng, void *const *host)
{
  for (int i = 0; i < c->resize.in_h * c->resize.in_w; i++)
    F32 (host, 0)[i] = (float) i;
}

/* By hand: 4×4 → 2×2 averages of 2×2 blocks; 1×3 → 1×2 has overlapping
 * windows [0, 2) and [1, 3): 0.5, 1.5. */
static gboolean
area_check_hand (const OpCase * c, void *const *got, GString * msg)
{
  static const float four[4] = { 2.5f, 4.5f, 10.5f, 12.5f };
  static const float three[2] = { 0.5f, 1.5f };
  const float *expect = c->resize.in_h == 4 ? four : three;
  const float *y = got[1];

  for (int i = 0; i < c->resize.out_h * c->resize.out_w; i++)
    if (y[i] != expect[i]) {
      g_string_append_printf (msg, "y[%d] = %.9g, by hand %g", i, y[i],
          expect[i]);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* the table                                                            */

static OpCase *
add_case (GPtrArray * cases, const OpDef * def, ToleranceClass tol,
    const char *fmt, ...)
G_GNUC_PRINTF (4, 5);

     static OpCase *add_case (GPtrArray * cases, const OpDef * def,
    ToleranceClass tol, const char *fmt, ...)
{
  OpCase *c = g_new0 (OpCase, 1);
  va_list args;

  va_start (args, fmt);
  c->name = g_strdup_vprintf (fmt, args);
  va_end (args);
  c->def = def;
  c->tol = tol;
  g_ptr_array_add (cases, c);
  return c;
}

/* "<tag>.<role>", the naming of tests/reference/make_op_goldens.py;
 * interned, so the table's strings live as long as the program. */
static const char *
golden_name (const char *tag, char role)
{
  char buf[64];
  g_snprintf (buf, sizeof buf, "%s.%c", tag, role);
  return g_intern_string (buf);
}

/* A perf-mode case: HART's shapes, timed, never compared. */
static OpCase *
add_perf (GPtrArray * cases, const OpDef * def, const char *name)
{
  OpCase *c = add_case (cases, def, TOL_FP32_REDUCTION, "%s", name);
  c->perf = TRUE;
  return c;
}

static void
add_gemm_cases (GPtrArray * cases)
{
  static const int shapes[][3] = {
    {1, 1, 1}, {3, 7, 5}, {33, 65, 17}, {1, 257, 33}, {257, 3, 64},
    {65, 129, 257}, {300, 200, 64},     /* big enough to split across threads */
    {40, 520, 96},              /* split along n */
    {37, 45, 70},
  };
  static const int batched[][4] = {     /* m, n, k, batch */
    {7, 5, 3, 5}, {33, 17, 65, 3}, {1, 1, 1, 1}, {64, 300, 64, 2},
    {16, 16, 16, 9}, {19, 23, 31, 3},
  };
  OpCase *c;

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int t = 0; t < 4; t++) {
      c = add_case (cases, &op_gemm, TOL_FP32_REDUCTION,
          "%dx%dx%d ta=%d tb=%d", shapes[s][0], shapes[s][1], shapes[s][2],
          t & 1, t >> 1);
      c->gemm = (GemmArgs) {
      t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], 0, 0.75f,
            (s % 2) ? 0.0f : -0.5f, s == 8 ? 3 : (int) (s % 3)};
    }
  /* k = 0: C = beta C */
  c = add_case (cases, &op_gemm, TOL_FP32_REDUCTION, "k=0");
  c->gemm = (GemmArgs) {
  FALSE, FALSE, 5, 6, 0, 0, 1.0f, 0.5f, 1};

  for (gsize s = 0; s < G_N_ELEMENTS (batched); s++)
    for (int t = 0; t < 4; t++) {
      c = add_case (cases, &op_gemm_batched, TOL_FP32_REDUCTION,
          "%dx%dx%d x%d ta=%d tb=%d", batched[s][0], batched[s][1],
          batched[s][2], batched[s][3], t & 1, t >> 1);
      /* matrices spaced with a gap, so strides are not just the size */
      c->gemm = (GemmArgs) {
      t & 1, t >> 1, batched[s][0], batched[s][1], batched[s][2],
            batched[s][3], s % 2 ? 1.25f : 1.5f, s % 2 ? -0.5f : 0.25f,
            1 + (int) (s % 2), 3 + 2 * (int) s};
    }

  /* perf: the transformer's projections (C 1536, SwiGLU 4096) */
  c = add_perf (cases, &op_gemm, "4096x4096x1536 (last stage, 4096 tokens)");
  c->gemm = (GemmArgs) {
  FALSE, FALSE, 4096, 4096, 1536, 0, 1.0f, 0.0f, 0, 0};
  c = add_perf (cases, &op_gemm, "600x1536x1536 (2 x 300 context tokens)");
  c->gemm = (GemmArgs) {
  FALSE, FALSE, 600, 1536, 1536, 0, 1.0f, 0.0f, 0, 0};
  c = add_perf (cases, &op_gemm_batched, "2x24 heads 1296x64x1296");
  c->gemm = (GemmArgs) {
  FALSE, TRUE, 1296, 1296, 64, 48, 1.0f, 0.0f, 0, 0};
}

static void
add_linear_cases (GPtrArray * cases)
{
  static const int shapes[][3] = {      /* rows, in, out */
    {1, 1, 1}, {7, 33, 17}, {65, 64, 300}, {257, 96, 33}, {3, 1536, 7},
    {13, 96, 50},
  };
  OpCase *c;

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int bias = 0; bias < 2; bias++) {
      c = add_case (cases, &op_linear, TOL_FP32_REDUCTION, "%dx%d->%d%s",
          shapes[s][0], shapes[s][1], shapes[s][2], bias ? " + bias" : "");
      c->linear = (LinearArgs) {
      shapes[s][0], shapes[s][1], shapes[s][2], bias};
    }
  c = add_perf (cases, &op_linear, "600x1536->4096 (up projection)");
  c->linear = (LinearArgs) {
  600, 1536, 4096, FALSE};
  c = add_perf (cases, &op_linear, "4096x4096->1536 (down projection)");
  c->linear = (LinearArgs) {
  4096, 4096, 1536, FALSE};
  /* the residual diffusion's MLP over a chunk of 4096 rows (width 1024) */
  c = add_perf (cases, &op_linear, "4096x1024->1024 (diffusion MLP)");
  c->linear = (LinearArgs) {
  4096, 1024, 1024, TRUE};
}

/* The shapes of the fp32 cases, and ones that cross the oneDNN kernel's
 * row blocks (1024) and column panels (64) with remainders. */
static void
add_linear_half_cases (GPtrArray * cases)
{
  static const int shapes[][3] = {      /* rows, in, out */
    {1, 1, 1}, {7, 33, 17}, {65, 64, 300}, {257, 96, 33}, {3, 1536, 7},
    {13, 96, 50}, {1030, 128, 200}, {2, 1536, 3072},
  };
  OpCase *c;

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int bias = 0; bias < 2; bias++) {
      c = add_case (cases, &op_linear_half, TOL_BF16_PRODUCT, "%dx%d->%d%s",
          shapes[s][0], shapes[s][1], shapes[s][2], bias ? " + bias" : "");
      c->linear = (LinearArgs) {
      shapes[s][0], shapes[s][1], shapes[s][2], bias};
    }
  /* the fp32 perf cases' shapes: the ratio is bf16's gain per product */
  c = add_perf (cases, &op_linear_half, "600x1536->4096 (up projection)");
  c->linear = (LinearArgs) {
  600, 1536, 4096, FALSE};
  c = add_perf (cases, &op_linear_half, "4096x4096->1536 (down projection)");
  c->linear = (LinearArgs) {
  4096, 4096, 1536, FALSE};
  /* the residual diffusion's MLP over a chunk of 4096 rows (width 1024) */
  c = add_perf (cases, &op_linear_half, "4096x1024->1024 (diffusion MLP)");
  c->linear = (LinearArgs) {
  4096, 1024, 1024, TRUE};
}

static void
add_attention_cases (GPtrArray * cases)
{
  /* scale 1.7/√d: sharper than usual, so the softmax is not flat */
#define ATTN(b, hq, hkv, lq, lkv, d) .batch = b,.q_heads = hq,.kv_heads = hkv, \
    .q_len = lq,.kv_len = lkv,.head_dim = d,.scale = 1.7f / sqrtf (d)
  /* *INDENT-OFF* */
  const struct { const char *name; AttentionArgs a; } table[] = {
    {"tiny", {ATTN (1, 1, 1, 1, 1, 4)}},
    {"gqa kv300 padded", {ATTN (2, 4, 2, 70, 300, 16), .padded = TRUE}},
    {"mha d64 kv513 padded", {ATTN (1, 3, 3, 129, 513, 64), .padded = TRUE}},
    {"fused qkv, out pad", {ATTN (2, 3, 3, 65, 65, 8), .fused_qkv = TRUE,
        .out_pad = 5}},
    {"mask", {ATTN (2, 4, 1, 33, 257, 16), .padded = TRUE, .use_mask = TRUE}},
    {"mask, batch 0 fully masked", {ATTN (2, 2, 2, 7, 300, 8),
        .padded = TRUE, .use_mask = TRUE, .mask_one_item = TRUE}},
    {"causal", {ATTN (1, 2, 2, 130, 130, 16), .padded = TRUE,
        .causal = TRUE}},
    {"causal fused", {ATTN (2, 2, 2, 67, 67, 8), .fused_qkv = TRUE,
        .causal = TRUE}},
    {"causal offset (kv cache)", {ATTN (2, 4, 2, 37, 300, 8), .padded = TRUE,
        .causal = TRUE, .causal_offset = 263}},
    {"causal negative offset", {ATTN (1, 2, 1, 20, 20, 8), .padded = TRUE,
        .causal = TRUE, .causal_offset = -3}},
    {"causal + mask", {ATTN (2, 2, 2, 70, 70, 8), .padded = TRUE,
        .causal = TRUE, .use_mask = TRUE}},
    {"q longer than kv", {ATTN (1, 2, 2, 300, 5, 32), .padded = TRUE}},
    /* kv_len 300 spans several 128-key chunks (CUDA) and 256-key blocks
     * (CPU), so the online-softmax rescaling runs on both */
    {"mha d64 kv300", {ATTN (2, 4, 4, 5, 300, 64), .padded = TRUE}},
    {"gqa 6/2 d32", {ATTN (2, 6, 2, 7, 150, 32), .padded = TRUE}},
    {"mask 3/4, batch 1 fully masked", {ATTN (2, 2, 2, 9, 300, 64),
        .padded = TRUE, .use_mask = TRUE, .mask_keep = 0.75,
        .mask_one_item = TRUE,.masked_item = 1}},
    {"causal offset 270", {ATTN (1, 3, 1, 20, 290, 16), .padded = TRUE,
        .causal = TRUE, .causal_offset = 270}},
    {"causal, first rows see nothing", {ATTN (1, 2, 2, 12, 12, 8),
        .padded = TRUE, .causal = TRUE, .causal_offset = -3}},
    {"fused qkv causal d24", {ATTN (2, 3, 3, 40, 40, 24), .fused_qkv = TRUE,
        .causal = TRUE}},
    {"head_dim 100, mask", {ATTN (1, 2, 1, 3, 257, 100), .padded = TRUE,
        .use_mask = TRUE, .mask_keep = 0.75}},
  };
  /* *INDENT-ON* */
#undef ATTN
  OpCase *c;

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++) {
    c = add_case (cases, &op_attention, TOL_FP32_REDUCTION, "%s",
        table[i].name);
    c->attn = table[i].a;
    if (c->attn.mask_one_item)
      c->check = attention_check_zero_batch;
  }

  /* the same cases with bf16 products */
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++) {
    c = add_case (cases, &op_attention_half, TOL_BF16_ATTENTION, "%s",
        table[i].name);
    c->attn = table[i].a;
    if (c->attn.mask_one_item)
      c->check = attention_check_zero_batch;
  }
  /* the CPU's AMX kernel (cpu-attention-amx.c) works in steps of 32
   * queries (two tiles of 16) × 128 keys (rounded up to 32 at the tail),
   * 128 queries per work item, chunks of 16 blocks (2048 keys), head_dim
   * in chunks of 32: lengths around those sizes, head_dims 32, 64 and 128,
   * and 40 and 24 that it leaves to the oneDNN path; GQA groups of 6 and
   * 2; causal offsets that hide whole blocks; random masks (which hide a
   * whole block of 128 keys only now and then) */
  {
    /* *INDENT-OFF* */
#define ATTN(b, hq, hkv, lq, lkv, d) .batch = b,.q_heads = hq,.kv_heads = hkv, \
    .q_len = lq,.kv_len = lkv,.head_dim = d,.scale = 1.7f / sqrtf (d)
    const struct { const char *name; AttentionArgs a; } amx[] = {
      {"q1 kv1 d64", {ATTN (1, 1, 1, 1, 1, 64)}},
      {"q15 kv17 d64", {ATTN (2, 2, 2, 15, 17, 64), .padded = TRUE}},
      {"q17 kv15 d64 causal", {ATTN (2, 2, 2, 17, 15, 64), .padded = TRUE,
          .causal = TRUE, .causal_offset = -2}},
      {"q33 kv33 d128", {ATTN (2, 2, 1, 33, 33, 128), .padded = TRUE}},
      {"q33 kv65 d64 mask, batch 1 fully masked", {ATTN (2, 2, 2, 33, 65,
          64), .use_mask = TRUE, .mask_one_item = TRUE, .masked_item = 1}},
      {"q161 kv97 d32 fused", {ATTN (2, 2, 2, 161, 161, 32),
          .fused_qkv = TRUE, .out_pad = 3}},
      {"gqa 12/2 q40 kv300 d64 causal offset", {ATTN (2, 12, 2, 40, 300, 64),
          .padded = TRUE, .causal = TRUE, .causal_offset = 260}},
      {"gqa 12/2 q17 kv129 d128 mask", {ATTN (2, 12, 2, 17, 129, 128),
          .padded = TRUE, .use_mask = TRUE}},
      {"q130 kv130 d64 causal offset -40", {ATTN (1, 2, 1, 130, 130, 64),
          .padded = TRUE, .causal = TRUE, .causal_offset = -40}},
      {"q65 kv1100 d64 causal offset 1035", {ATTN (1, 2, 2, 65, 1100, 64),
          .causal = TRUE, .causal_offset = 1035}},
      {"q40 kv2100 d64 (2 chunks)", {ATTN (1, 2, 2, 40, 2100, 64),
          .padded = TRUE}},
      {"q33 kv700 d64 sparse mask", {ATTN (2, 2, 2, 33, 700, 64),
          .padded = TRUE, .use_mask = TRUE, .mask_keep = 0.02}},
      {"q33 kv70 d40 (oneDNN)", {ATTN (2, 2, 2, 33, 70, 40),
          .padded = TRUE, .causal = TRUE, .causal_offset = 37}},
    };
    /* K and V given in bf16 (k_half, v_half), head-major and padded */
    const struct { const char *name; AttentionArgs a; } kv_half[] = {
      {"kv_half gqa 12/2 q33 kv300 d64 causal", {ATTN (2, 12, 2, 33, 300,
          64), .padded = TRUE, .causal = TRUE, .causal_offset = 267,
          .kv_half = TRUE}},
      {"kv_half q40 kv129 d128 mask, batch 0 fully masked", {ATTN (2, 2, 1,
          40, 129, 128), .use_mask = TRUE, .mask_one_item = TRUE,
          .kv_half = TRUE}},
      {"kv_half q7 kv300 d40 (oneDNN)", {ATTN (2, 4, 2, 7, 300, 40),
          .padded = TRUE, .kv_half = TRUE}},
      {"kv_half q33 kv65 d64 fused", {ATTN (2, 2, 2, 65, 65, 64),
          .fused_qkv = TRUE, .kv_half = TRUE}},
    };
#undef ATTN
    /* *INDENT-ON* */
    /* every case on both paths: the AMX kernel and the oneDNN one */
    for (gsize i = 0; i < G_N_ELEMENTS (amx) + G_N_ELEMENTS (kv_half); i++)
      for (int onednn = 0; onednn < 2; onednn++) {
        const gboolean first = i < G_N_ELEMENTS (amx);
        const gsize j = first ? i : i - G_N_ELEMENTS (amx);
        c = add_case (cases, &op_attention_half, TOL_BF16_ATTENTION, "%s%s",
            first ? amx[j].name : kv_half[j].name,
            onednn ? " (HART_CPU_ATTENTION=onednn)" : "");
        c->attn = first ? amx[j].a : kv_half[j].a;
        c->attn.onednn = onednn;
        if (c->attn.mask_one_item)
          c->check = attention_check_zero_batch;
      }
  }
  /* the first cases' again on the oneDNN path, which the AMX kernel
   * replaces on CPUs that have it */
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++) {
    c = add_case (cases, &op_attention_half, TOL_BF16_ATTENTION,
        "%s (HART_CPU_ATTENTION=onednn)", table[i].name);
    c->attn = table[i].a;
    c->attn.onednn = TRUE;
    if (c->attn.mask_one_item)
      c->check = attention_check_zero_batch;
  }

  /* by hand: the probabilities rounded to bf16 to nearest even */
  for (int onednn = 0; onednn < 2; onednn++) {
    c = add_case (cases, &op_attention_half, TOL_BF16_ATTENTION,
        "by hand, probabilities to nearest even%s",
        onednn ? " (HART_CPU_ATTENTION=onednn)" : "");
    c->attn = (AttentionArgs) {
    .batch = 1,.q_heads = 1,.kv_heads = 1,.q_len = 33,.kv_len =
          130,.head_dim = 64,.scale = 1.0f,.onednn = onednn};
    c->fill = attention_fill_probs;
    c->check = attention_check_probs;
  }

  /* to_half_heads: padded source rows and batches, padded destination
   * heads and batches (left alone), special values */
  {
    static const ToHalfArgs th[] = {
      {1, 1, 1, 1, 0, 0, 0, 0, TRUE},
      {2, 5, 3, 8, 3, 5, 7, 2, TRUE},
      {2, 17, 2, 64, 1, 0, 37, 11, TRUE},
      {1, 9, 4, 40, 0, 0, 0, 0, FALSE},
      /* rows whose length is not a multiple of the vector width: every
       * special in the scalar tail too */
      {2, 6, 2, 7, 1, 2, 3, 4, TRUE},
      /* large enough to split over the threads */
      {2, 300, 4, 64, 8, 3, 5, 9, TRUE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS (th); i++) {
      c = add_case (cases, &op_to_half_heads, TOL_EXACT,
          "%dx%d %dh d%d pads %d,%d,%d,%d%s", th[i].batch, th[i].len,
          th[i].heads, th[i].head_dim, th[i].src_row_pad, th[i].src_batch_pad,
          th[i].dst_head_pad, th[i].dst_batch_pad,
          th[i].specials ? " specials" : "");
      c->to_half = th[i];
      if (th[i].specials)
        c->check = to_half_check_specials;
    }
  }

  /* longer than one 128-query × 512-key block of the CPU's bf16 kernel */
  c = add_case (cases, &op_attention_half, TOL_BF16_ATTENTION,
      "2x4h q300 kv1100 d64 causal offset");
  c->attn = (AttentionArgs) {
  .batch = 2,.q_heads = 4,.kv_heads = 4,.q_len = 300,.kv_len =
        1100,.head_dim = 64,.scale = 1.7f / 8,.causal = TRUE,.causal_offset =
        800,.padded = TRUE};

  /* by hand: a negative causal offset hides every key from the first rows */
  c = add_case (cases, &op_attention, TOL_FP32_REDUCTION, "by hand, rows "
      "that see no key");
  c->attn = (AttentionArgs) {
  .batch = 1,.q_heads = 1,.kv_heads = 1,.q_len = 4,.kv_len = 4,.head_dim =
        2,.scale = 1.0f,.causal = TRUE,.causal_offset = -2};
  c->fill = attention_fill_hand;
  c->check = attention_check_hand;

  /* PyTorch (float64 textbook formula): [2, 37, 4, 8] over [2, 300, 2, 8] */
  for (int variant = 0; variant < 3; variant++) {
    static const char *const outs[] = { "sdpa.out", "sdpa.out_masked",
      "sdpa.out_causal"
    };
    c = add_case (cases, &op_attention, TOL_FP32_REDUCTION, "golden %s",
        outs[variant]);
    c->attn = (AttentionArgs) {
    .batch = 2,.q_heads = 4,.kv_heads = 2,.q_len = 37,.kv_len =
          300,.head_dim = 8,.scale = 0.3f,.use_mask = variant == 1,.causal =
          variant == 2,.causal_offset = 300 - 37};
    c->golden[0] = "sdpa.q";
    c->golden[1] = "sdpa.k";
    c->golden[2] = "sdpa.v";
    c->golden[3] = outs[variant];
    c->golden[4] = variant == 1 ? "sdpa.mask" : NULL;
  }

  /* perf: a late stage over the KV cache, CFG batch 2; the VAE's mid
   * attention (one head of 512) */
  c = add_perf (cases, &op_attention, "2x24h q1296 kv3350 d64");
  c->attn = (AttentionArgs) {
  .batch = 2,.q_heads = 24,.kv_heads = 24,.q_len = 1296,.kv_len =
        3350,.head_dim = 64,.scale = 0.125f};
  c = add_perf (cases, &op_attention_half, "2x24h q1296 kv3350 d64");
  c->attn = (AttentionArgs) {
  .batch = 2,.q_heads = 24,.kv_heads = 24,.q_len = 1296,.kv_len =
        3350,.head_dim = 64,.scale = 0.125f};
  c = add_perf (cases, &op_attention_half, "2x24h q1296 kv3350 d64 "
      "(HART_CPU_ATTENTION=onednn)");
  c->attn = (AttentionArgs) {
  .batch = 2,.q_heads = 24,.kv_heads = 24,.q_len = 1296,.kv_len =
        3350,.head_dim = 64,.scale = 0.125f,.onednn = TRUE};
  /* HART's last stage at 1024² over its bf16 KV cache (CFG batch 2) */
  c = add_perf (cases, &op_attention_half, "2x24h q4096 kv9751 d64 kv_half");
  c->attn = (AttentionArgs) {
  .batch = 2,.q_heads = 24,.kv_heads = 24,.q_len = 4096,.kv_len =
        9751,.head_dim = 64,.scale = 0.125f,.kv_half = TRUE};
  c = add_perf (cases, &op_attention, "1x1h q4096 kv4096 d512 (VAE)");
  c->attn = (AttentionArgs) {
  .batch = 1,.q_heads = 1,.kv_heads = 1,.q_len = 4096,.kv_len =
        4096,.head_dim = 512,.scale = 0.125f};
  c = add_perf (cases, &op_attention_half, "1x1h q4096 kv4096 d512 (VAE)");
  c->attn = (AttentionArgs) {
  .batch = 1,.q_heads = 1,.kv_heads = 1,.q_len = 4096,.kv_len =
        4096,.head_dim = 512,.scale = 0.125f};
}

static void
add_norm_cases (GPtrArray * cases)
{
  static const int ln[][2] = { {1, 1}, {1, 3}, {7, 33}, {5, 1536}, {65, 7} };
  static const int rms[][2] = { {1, 1}, {3, 7}, {7, 33}, {4, 1536}, {9, 1536} };
  static const int gn[][4] = {  /* batch, channels, hw, groups */
    {1, 1, 1, 1}, {2, 12, 35, 4}, {2, 12, 35, 1}, {1, 12, 35, 12},
    {1, 64, 257, 32}, {3, 6, 7, 3}, {2, 12, 50, 3},
  };
  OpCase *c;

  for (gsize s = 0; s < G_N_ELEMENTS (ln); s++)
    for (int affine = 0; affine < 4; affine++) {
      c = add_case (cases, &op_layer_norm, TOL_FP32_REDUCTION,
          "%dx%d%s%s", ln[s][0], ln[s][1], affine & 1 ? " weight" : "",
          affine & 2 ? " bias" : "");
      c->norm = (NormArgs) {
      .rows = ln[s][0],.dim = ln[s][1],.eps = 1e-5f,.weight =
            affine & 1,.bias = (affine & 2) != 0};
    }
  /* values offset from zero, so a one-pass variance would lose digits */
  c = add_case (cases, &op_layer_norm, TOL_FP32_REDUCTION,
      "7x1000 offset mean");
  c->norm = (NormArgs) {
  .rows = 7,.dim = 1000,.eps = 1e-6f,.weight = TRUE,.bias = TRUE,.x_lo =
        2,.x_hi = 4};
  c = add_case (cases, &op_layer_norm, TOL_FP32_REDUCTION, "golden affine");
  c->norm = (NormArgs) {
  .rows = 7,.dim = 33,.eps = 1e-5f,.weight = TRUE,.bias = TRUE};
  memcpy (c->golden, (const char *[]) {
        "layer_norm.x", "layer_norm.w", "layer_norm.b", "layer_norm.y"
      },
      4 * sizeof (char *));
  c = add_case (cases, &op_layer_norm, TOL_FP32_REDUCTION, "golden plain");
  c->norm = (NormArgs) {
  .rows = 7,.dim = 33,.eps = 1e-6f};
  memcpy (c->golden, (const char *[]) {
        "layer_norm.x", "layer_norm.w", "layer_norm.b", "layer_norm.y_plain"
      },
      4 * sizeof (char *));

  for (gsize s = 0; s < G_N_ELEMENTS (rms); s++)
    for (int w = 0; w < 2; w++) {
      c = add_case (cases, &op_rms_norm, TOL_FP32_REDUCTION, "%dx%d%s",
          rms[s][0], rms[s][1], w ? " weight" : "");
      c->norm = (NormArgs) {
      .rows = rms[s][0],.dim = rms[s][1],.eps = 1e-6f,.weight = w};
    }
  c = add_case (cases, &op_rms_norm, TOL_FP32_REDUCTION, "9x1536 in place");
  c->norm = (NormArgs) {
  .rows = 9,.dim = 1536,.eps = 1e-6f,.in_place = TRUE};

  for (gsize s = 0; s < G_N_ELEMENTS (gn); s++)
    for (int affine = 0; affine < 2; affine++) {
      c = add_case (cases, &op_group_norm, TOL_FP32_REDUCTION,
          "%dx%dx%d groups %d%s", gn[s][0], gn[s][1], gn[s][2], gn[s][3],
          affine ? " affine" : "");
      c->norm = (NormArgs) {
      .batch = gn[s][0],.channels = gn[s][1],.hw = gn[s][2],.groups =
            gn[s][3],.eps = 1e-6f,.weight = affine,.bias = affine};
      /* A group of one value has σ = 0 and rstd = 1/√eps = 1000: the
       * kernel's folded x·a + (b − mean·a) then cancels two terms of size
       * |x|·1000·|w|, an error of an ulp of those, not of |y| = |b|.  Small
       * inputs keep that below the bound, so the case checks the formula
       * (y = b) and not the conditioning of a degenerate group. */
      if (gn[s][1] * gn[s][2] / gn[s][3] == 1) {
        c->norm.x_lo = -0.01;
        c->norm.x_hi = 0.01;
      }
    }
  /* the same shapes through group_norm_silu_half, the decoder's (groups
   * of 5 × 4096 values: twenty blocks of 1024), and groups of 4 × 1001
   * values (three blocks and one of 932: 58 vectors and a 4-lane tail) */
  for (gsize s = 0; s < G_N_ELEMENTS (gn) + 2; s++)
    for (int affine = 0; affine < 2; affine++) {
      static const int decoder[2][4] = { {1, 160, 64 * 64, 32},
      {2, 32, 1001, 8}
      };
      const int *v = s < G_N_ELEMENTS (gn) ? gn[s] :
          decoder[s - G_N_ELEMENTS (gn)];
      c = add_case (cases, &op_group_norm_silu_half, TOL_FP32_REDUCTION,
          "%dx%dx%d groups %d%s", v[0], v[1], v[2], v[3],
          affine ? " affine" : "");
      c->norm = (NormArgs) {
      .batch = v[0],.channels = v[1],.hw = v[2],.groups = v[3],.eps =
            1e-6f,.weight = affine,.bias = affine};
      if (v[1] * v[2] / v[3] == 1) {
        c->norm.x_lo = -0.01;
        c->norm.x_hi = 0.01;
      }
    }
  c = add_case (cases, &op_group_norm, TOL_FP32_REDUCTION, "golden");
  c->norm = (NormArgs) {
  .batch = 2,.channels = 12,.hw = 35,.groups = 4,.eps = 1e-6f,.weight =
        TRUE,.bias = TRUE};
  memcpy (c->golden, (const char *[]) {
        "group_norm.x", "group_norm.w", "group_norm.b", "group_norm.y"
      },
      4 * sizeof (char *));

  c = add_perf (cases, &op_layer_norm, "4096x1536");
  c->norm = (NormArgs) {
  .rows = 4096,.dim = 1536,.eps = 1e-6f};
  c = add_perf (cases, &op_group_norm, "1x128x(256x256) groups 32");
  c->norm = (NormArgs) {
  .batch = 1,.channels = 128,.hw = 256 * 256,.groups = 32,.eps =
        1e-6f,.weight = TRUE,.bias = TRUE};
  c = add_perf (cases, &op_group_norm_silu_half, "1x128x(256x256) groups 32");
  c->norm = (NormArgs) {
  .batch = 1,.channels = 128,.hw = 256 * 256,.groups = 32,.eps =
        1e-6f,.weight = TRUE,.bias = TRUE};
}

static void
add_position_cases (GPtrArray * cases)
{
  OpCase *c;

  /* scale and shift read out of a fused projection */
  c = add_case (cases, &op_modulate, TOL_ELEMENTWISE,
      "3x5x33, [shift | scale] rows");
  c->mod = (ModulateArgs) {
  3, 5, 33, 2, 1, 0};
  c = add_case (cases, &op_modulate, TOL_ELEMENTWISE, "2x5x40, rows 1, 2 of 3");
  c->mod = (ModulateArgs) {
  2, 5, 40, 3, 1, 2};

  /* q rows inside a fused qkv buffer: 3·heads heads per row */
  for (int shared = 0; shared < 2; shared++) {
    c = add_case (cases, &op_rope, TOL_ELEMENTWISE, "2x5x3 d8 in qkv%s",
        shared ? ", shared table" : "");
    c->rope = (RopeArgs) {
    2, 5, 3, 8, 9, 0, shared};
  }
  c = add_case (cases, &op_rope, TOL_ELEMENTWISE, "2x6x3 d16 q");
  c->rope = (RopeArgs) {
  2, 6, 3, 16, 9, 0, FALSE};
  c = add_case (cases, &op_rope, TOL_ELEMENTWISE, "2x6x3 d16 k, shared table");
  c->rope = (RopeArgs) {
  2, 6, 3, 16, 9, 3, TRUE};
}

static void
add_elementwise_cases (GPtrArray * cases)
{
  static const OpDef *const unary[] = { &op_silu, &op_gelu, &op_gelu_tanh,
    &op_scale, &op_clamp
  };
  static const OpDef *const binary[] = { &op_swiglu, &op_add, &op_mul,
    &op_axpby
  };
  /* 100003 is long enough to take the multithreaded path */
  static const gsize sizes[] = { 1, 3, 7, 33, 257, 5003, 100003 };
  OpCase *c;

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++) {
    for (gsize u = 0; u < G_N_ELEMENTS (unary); u++) {
      c = add_case (cases, unary[u], unary[u] == &op_clamp ? TOL_EXACT :
          TOL_ELEMENTWISE, "n=%" G_GSIZE_FORMAT, sizes[s]);
      c->ew = (ElementwiseArgs) {
      .n = sizes[s],.range_a = 12,.alpha = -2.5f,.lo = -1.5f,.hi = 0.5f};
    }
    for (gsize b = 0; b < G_N_ELEMENTS (binary); b++) {
      c = add_case (cases, binary[b], TOL_ELEMENTWISE, "n=%" G_GSIZE_FORMAT,
          sizes[s]);
      c->ew = (ElementwiseArgs) {
      .n = sizes[s],.range_a = binary[b] == &op_swiglu ? 8 : 12,.range_b =
            3,.alpha = 0.75f,.beta = -1.25f};
    }
  }
  /* y may alias the first input, as in the model code */
  for (gsize u = 0; u < G_N_ELEMENTS (unary); u++) {
    c = add_case (cases, unary[u], unary[u] == &op_clamp ? TOL_EXACT :
        TOL_ELEMENTWISE, "n=257 in place");
    c->ew = (ElementwiseArgs) {
    .n = 257,.range_a = 3,.alpha = 0.5f,.lo = 0.0f,.hi = 2.0f,.in_place = TRUE};
  }
  for (gsize b = 0; b < G_N_ELEMENTS (binary); b++)
    for (int alias = 1; alias <= 2; alias++) {
      c = add_case (cases, binary[b], TOL_ELEMENTWISE, "n=5003 in place%s",
          alias == 2 ? ", both inputs too" : "");
      c->ew = (ElementwiseArgs) {
      .n = 5003,.range_a = 3,.range_b = 3,.alpha = 1.5f,.beta =
            -0.25f,.in_place = alias};
    }

  for (int s = 0; s < 4; s++) {
    static const int shapes[][2] = { {1, 1}, {7, 33}, {300, 257}, {41, 122} };
    c = add_case (cases, &op_add_row_vector, TOL_ELEMENTWISE, "%dx%d",
        shapes[s][0], shapes[s][1]);
    c->ew = (ElementwiseArgs) {
    .rows = shapes[s][0],.dim = shapes[s][1]};
  }
  for (int s = 0; s < 4; s++) {
    static const int shapes[][3] = {
      {1, 1, 1}, {2, 300, 33}, {3, 7, 1536}, {3, 17, 97}
    };
    c = add_case (cases, &op_max_over_rows, TOL_EXACT, "%dx%dx%d",
        shapes[s][0], shapes[s][1], shapes[s][2]);
    c->ew = (ElementwiseArgs) {
    .batch = shapes[s][0],.len = shapes[s][1],.dim = shapes[s][2]};
  }

  /* softmax: special rows as attention produces them */
  c = add_case (cases, &op_softmax, TOL_ELEMENTWISE,
      "6x65 large, masked, fully masked, single visible");
  c->softmax = (SoftmaxArgs) {
  6, 65, 1};
  c->check = softmax_check_single;
  c = add_case (cases, &op_softmax, TOL_FP32_REDUCTION,
      "6x4096 masked, fully masked");
  c->softmax = (SoftmaxArgs) {
  6, 4096, 2};

  /* PyTorch's activations over [−12, 12] */
  {
    static const OpDef *const acts[] = { &op_gelu, &op_gelu_tanh, &op_silu };
    static const char *const names[] = { "act.gelu", "act.gelu_tanh",
      "act.silu"
    };
    for (int i = 0; i < 3; i++) {
      c = add_case (cases, acts[i], TOL_ELEMENTWISE, "golden");
      c->ew = (ElementwiseArgs) {
      .n = 257,.range_a = 12};
      c->golden[0] = "act.x";
      c->golden[1] = names[i];
    }
  }

  c = add_perf (cases, &op_add, "16M");
  c->ew = (ElementwiseArgs) {
  .n = 16 << 20,.range_a = 1,.range_b = 1};
  c = add_perf (cases, &op_silu, "16M");
  c->ew = (ElementwiseArgs) {
  .n = 16 << 20,.range_a = 8};
  c = add_perf (cases, &op_softmax, "24x1296 rows of 3350");
  c->softmax = (SoftmaxArgs) {
  24 *1296, 3350, 0};
}

static void
add_memory_cases (GPtrArray * cases)
{
  OpCase *c;

  c = add_case (cases, &op_copy, TOL_EXACT, "500 of 1000, offsets 100->10");
  c->ew = (ElementwiseArgs) {
  .n = 1000,.src_offset = 100,.dst_offset = 10,.count = 500};
  c = add_case (cases, &op_copy, TOL_EXACT, "37 whole");
  c->ew = (ElementwiseArgs) {
  .n = 37,.count = 37};
  c = add_case (cases, &op_fill, TOL_EXACT, "37 whole");
  c->ew = (ElementwiseArgs) {
  .n = 37,.count = 37,.alpha = 2.5f};
  /* a prefix leaves the rest alone */
  c = add_case (cases, &op_fill, TOL_EXACT, "prefix 3 of 37");
  c->ew = (ElementwiseArgs) {
  .n = 37,.count = 3,.alpha = -1.0f};
  c = add_case (cases, &op_fill, TOL_EXACT, "333 of 1000 at 600");
  c->ew = (ElementwiseArgs) {
  .n = 1000,.dst_offset = 600,.count = 333,.alpha = -2.5f};
  /* KV-cache appends: rows of one pitch into rows of another */
  c = add_case (cases, &op_copy_2d, TOL_EXACT, "7 rows of 5, pitch 13->9");
  c->copy2d = (Copy2dArgs) {
  7, 13, 9, 5, 3};
  c = add_case (cases, &op_embedding, TOL_EXACT, "65 of 17x33");
  c->emb = (EmbeddingArgs) {
  17, 33, 65};
  c = add_case (cases, &op_embedding, TOL_EXACT, "70 of 50x33");
  c->emb = (EmbeddingArgs) {
  50, 33, 70};

  c = add_perf (cases, &op_copy, "64 MiB");
  c->ew = (ElementwiseArgs) {
  .n = 16 << 20,.count = 16 << 20};
}

static void
add_image_cases (GPtrArray * cases)
{
  static const int convs[][7] = {       /* batch, cin, h, w, cout, k, pad */
    {2, 5, 9, 11, 7, 3, 1}, {2, 5, 9, 11, 7, 1, 0}, {1, 5, 9, 11, 7, 5, 2},
    {1, 1, 1, 1, 1, 3, 1}, {1, 3, 1, 7, 2, 3, 1},
    {1, 16, 40, 33, 24, 3, 1},  /* several bands on several threads */
    {2, 32, 17, 19, 8, 1, 0},   /* 1×1 through the split GEMM */
    {1, 4, 8, 6, 3, 3, 0},      /* "valid" convolution: 6×4 output */
    {1, 2, 3, 3, 2, 5, 2},      /* kernel larger than the image */
    /* with HART_CUDA_IM2COL_LIMIT = 16 KiB (set by the driver), the 17×17
     * images run in bands of a few output rows on CUDA, the 8×8 ones in
     * one band */
    {2, 4, 17, 17, 6, 3, 1}, {2, 2, 8, 8, 5, 3, 1}, {2, 5, 9, 7, 3, 1, 0},
    {1, 3, 11, 13, 4, 3, 0}, {1, 2, 12, 10, 3, 5, 2},
    /* the CPU's direct bf16 convolution: four bands of 17, 17, 17 and 16
     * rows (its output bands are at most 4 MiB), the first and last with
     * pad rows */
    {1, 8, 67, 600, 64, 3, 1},
    /* padding wider than the kernel: the first and last bands lie wholly
     * in it (the direct path's halo clamps) */
    {1, 3, 4, 5, 4, 3, 7},
  };
  static const int bicubic[][4] = {
    {1, 1, 8, 8}, {3, 3, 16, 16}, {12, 12, 16, 16}, {5, 7, 9, 13},
    {16, 16, 16, 16}, {2, 9, 64, 64}, {16, 16, 7, 5}, {1, 1, 16, 16},
    {7, 5, 16, 12}, {16, 16, 5, 5}, {16, 16, 3, 3}, {13, 9, 4, 6},
  };
  static const int area[][4] = {
    {16, 16, 3, 3}, {16, 16, 5, 5}, {16, 16, 12, 12}, {7, 9, 3, 4},
    {64, 64, 13, 13}, {1, 1, 16, 16}, {3, 3, 16, 16}, {7, 5, 16, 12},
    {13, 9, 4, 6},
  };
  OpCase *c;

  for (gsize s = 0; s < G_N_ELEMENTS (convs); s++)
    for (int bias = 0; bias < 2; bias++) {
      const int *v = convs[s];
      c = add_case (cases, &op_conv2d, TOL_FP32_REDUCTION,
          "%dx%d pad %d, %d->%d at %dx%d x%d%s", v[5], v[5], v[6], v[1],
          v[4], v[2], v[3], v[0], bias ? " + bias" : "");
      c->conv = (ConvArgs) {
      v[0], v[1], v[2], v[3], v[4], v[5], v[6], bias};
    }
  /* the same shapes with bf16 products (docs/precision.md), on the CPU
   * by oneDNN's convolution and by its im2col fallback */
  for (gsize s = 0; s < G_N_ELEMENTS (convs); s++)
    for (int bias = 0; bias < 2; bias++)
      for (int im2col = 0; im2col < 2; im2col++) {
        const int *v = convs[s];
        c = add_case (cases, &op_conv2d_half, TOL_BF16_PRODUCT,
            "%dx%d pad %d, %d->%d at %dx%d x%d%s%s", v[5], v[5], v[6], v[1],
            v[4], v[2], v[3], v[0], bias ? " + bias" : "",
            im2col ? " (HART_CPU_CONV=im2col)" : "");
        c->conv = (ConvArgs) {
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], bias, im2col};
      }
  {
    static const char *const tags[] = { "conv3", "conv5", "conv1" };
    static const int ks[] = { 3, 5, 1 };
    for (int i = 0; i < 3; i++) {
      c = add_case (cases, &op_conv2d, TOL_FP32_REDUCTION, "golden %s",
          tags[i]);
      c->conv = (ConvArgs) {
      2, 5, 9, 11, 7, ks[i], (ks[i] - 1) / 2, TRUE};
      for (int t = 0; t < 4; t++)
        c->golden[t] = golden_name (tags[i], "xwby"[t]);
    }
  }

  c = add_case (cases, &op_upsample_nearest2x, TOL_EXACT, "2x3 5x7");
  c->resize = (ResizeArgs) {
  2, 3, 5, 7, 10, 14};
  c = add_case (cases, &op_upsample_nearest2x, TOL_EXACT, "1x1 1x1");
  c->resize = (ResizeArgs) {
  1, 1, 1, 1, 2, 2};

  for (gsize s = 0; s < G_N_ELEMENTS (bicubic); s++) {
    const int *v = bicubic[s];
    c = add_case (cases, &op_resize_bicubic, TOL_RESAMPLE, "%dx%d->%dx%d",
        v[0], v[1], v[2], v[3]);
    c->resize = (ResizeArgs) {
    s < 7 ? 1 : 2, 3, v[0], v[1], v[2], v[3]};
  }
  for (int h = 1; h <= 2; h++) {
    c = add_case (cases, &op_resize_bicubic, TOL_RESAMPLE,
        "by hand %dx%d->4x4", h, h);
    c->resize = (ResizeArgs) {
    1, 1, h, h, 4, 4};
    c->fill = bicubic_fill_hand;
    c->check = bicubic_check_hand;
  }

  for (gsize s = 0; s < G_N_ELEMENTS (area); s++) {
    const int *v = area[s];
    c = add_case (cases, &op_resize_area, TOL_RESAMPLE, "%dx%d->%dx%d",
        v[0], v[1], v[2], v[3]);
    c->resize = (ResizeArgs) {
    s < 6 ? 1 : 2, s < 6 ? 2 : 3, v[0], v[1], v[2], v[3]};
    /* the summation order and the two divisions are fixed by
     * docs/algorithm.md §8.3 on every backend */
    c->bitwise_across_backends = TRUE;
  }
  for (int i = 0; i < 3; i++) {
    static const int sizes[] = { 16, 16, 1 };
    c = add_case (cases, &op_resize_area, TOL_EXACT, "identity %dx%d%s",
        sizes[i], sizes[i], i == 1 ? " x2x3" : "");
    c->resize = (ResizeArgs) {
    i == 1 ? 2 : 1, i == 1 ? 3 : 2, sizes[i], sizes[i], sizes[i], sizes[i]};
  }
  c = add_case (cases, &op_resize_area, TOL_EXACT, "by hand 4x4->2x2");
  c->resize = (ResizeArgs) {
  1, 1, 4, 4, 2, 2};
  c->fill = area_fill_hand;
  c->check = area_check_hand;
  c = add_case (cases, &op_resize_area, TOL_EXACT, "by hand 1x3->1x2");
  c->resize = (ResizeArgs) {
  1, 1, 1, 3, 1, 2};
  c->fill = area_fill_hand;
  c->check = area_check_hand;

  /* PyTorch: interpolate (bicubic), adaptive_avg_pool2d, [1, 2, h, w] */
  {
    static const struct
    {
      const char *tag;
      gboolean bicubic;
      int v[4];
      ToleranceClass tol;
    } goldens[] = {
      {"bicubic_1to8", TRUE, {1, 1, 8, 8}, TOL_RESAMPLE},
      {"bicubic_3to16", TRUE, {3, 3, 16, 16}, TOL_RESAMPLE},
      {"bicubic_12to16", TRUE, {12, 12, 16, 16}, TOL_RESAMPLE},
      {"bicubic_5x7to9x13", TRUE, {5, 7, 9, 13}, TOL_RESAMPLE},
      {"area_16to3", FALSE, {16, 16, 3, 3}, TOL_SAME_ORDER},
      {"area_16to5", FALSE, {16, 16, 5, 5}, TOL_SAME_ORDER},
      {"area_16to12", FALSE, {16, 16, 12, 12}, TOL_SAME_ORDER},
      {"area_16to16", FALSE, {16, 16, 16, 16}, TOL_EXACT},
    };
    for (gsize i = 0; i < G_N_ELEMENTS (goldens); i++) {
      const int *v = goldens[i].v;
      c = add_case (cases, goldens[i].bicubic ? &op_resize_bicubic :
          &op_resize_area, goldens[i].tol, "golden %s", goldens[i].tag);
      c->resize = (ResizeArgs) {
      1, 2, v[0], v[1], v[2], v[3]};
      c->golden[0] = golden_name (goldens[i].tag, 'x');
      c->golden[1] = golden_name (goldens[i].tag, 'y');
    }
  }

  /* perf: the VAE decoder's levels, and HART's latent resizes */
  {
    static const int levels[][4] = {    /* cin, cout, size, k */
      {160, 160, 512, 3}, {160, 160, 256, 3}, {320, 320, 128, 3},
      {640, 640, 64, 3},
      {640, 1920, 64, 1},
    };
    for (gsize s = 0; s < G_N_ELEMENTS (levels); s++) {
      const int *v = levels[s];
      char *name = g_strdup_printf ("%d->%d %dx%d at %dx%d", v[0], v[1],
          v[3], v[3], v[2], v[2]);
      c = add_perf (cases, &op_conv2d, name);
      g_free (name);
      c->conv = (ConvArgs) {
      1, v[0], v[2], v[2], v[1], v[3], (v[3] - 1) / 2, TRUE};
      name = g_strdup_printf ("%d->%d %dx%d at %dx%d", v[0], v[1], v[3], v[3],
          v[2], v[2]);
      c = add_perf (cases, &op_conv2d_half, name);
      g_free (name);
      c->conv = (ConvArgs) {
      1, v[0], v[2], v[2], v[1], v[3], (v[3] - 1) / 2, TRUE};
      name = g_strdup_printf ("%d->%d %dx%d at %dx%d (HART_CPU_CONV=im2col)",
          v[0], v[1], v[3], v[3], v[2], v[2]);
      c = add_perf (cases, &op_conv2d_half, name);
      g_free (name);
      c->conv = (ConvArgs) {
      1, v[0], v[2], v[2], v[1], v[3], (v[3] - 1) / 2, TRUE, TRUE};
    }
  }
  c = add_perf (cases, &op_resize_bicubic, "2x32 16x16->64x64");
  c->resize = (ResizeArgs) {
  2, 32, 16, 16, 64, 64};
  c = add_perf (cases, &op_resize_area, "2x32 64x64->16x16");
  c->resize = (ResizeArgs) {
  2, 32, 64, 64, 16, 16};
}

/* The CUDA backend's candidate kernels, not yet the default (kernels/cuda/
 * cuda-attention.cu, cuda-norm.cu): each case of the op they replace again
 * under their switch, on CUDA only, so one parity run on a GPU judges them
 * with the same cases and tolerances as the kernels in use. */
static void
add_candidate_cases (GPtrArray * cases)
{
  /* d64: the candidate takes head_dim 64 alone (1), every other size
   * alone (-1), or any op case (0) */
  static const struct
  {
    const char *op, *env_name, *env_value;
    int d64;
  } candidates[] = {
    {"attention_half", "HART_CUDA_ATTENTION", "mma", 1},
    {"attention_half", "HART_CUDA_ATTENTION", "gemm", -1},
    {"attention", "HART_CUDA_ATTENTION", "gemm", 0},
    {"group_norm", "HART_CUDA_GROUP_NORM", "split", 0},
    {"group_norm_silu_half", "HART_CUDA_GROUP_NORM", "split", 0},
  };
  guint n = cases->len;

  for (guint i = 0; i < n; i++) {
    const OpCase *c = g_ptr_array_index (cases, i);
    for (gsize k = 0; k < G_N_ELEMENTS (candidates); k++) {
      const gboolean attn = c->def == &op_attention_half
          || c->def == &op_attention;
      OpCase *v;
      if (strcmp (c->def->op, candidates[k].op) != 0 || c->env_name != NULL
          || (attn && c->attn.onednn)
          || (attn && candidates[k].d64 == 1 && c->attn.head_dim != 64)
          || (attn && candidates[k].d64 == -1 && c->attn.head_dim == 64))
        continue;
      v = g_new (OpCase, 1);
      *v = *c;
      v->name = g_strdup_printf ("%s (%s=%s)", c->name,
          candidates[k].env_name, candidates[k].env_value);
      v->env_name = candidates[k].env_name;
      v->env_value = candidates[k].env_value;
      v->only_backend = "cuda";
      g_ptr_array_add (cases, v);
    }
  }
}

GPtrArray *
op_cases_new (void)
{
  GPtrArray *cases = g_ptr_array_new ();

  add_memory_cases (cases);
  add_gemm_cases (cases);
  add_linear_cases (cases);
  add_linear_half_cases (cases);
  add_attention_cases (cases);
  add_norm_cases (cases);
  add_position_cases (cases);
  add_elementwise_cases (cases);
  add_image_cases (cases);
  add_candidate_cases (cases);
  return cases;
}

void
op_cases_free (GPtrArray * cases)
{
  for (guint i = 0; i < cases->len; i++) {
    OpCase *c = g_ptr_array_index (cases, i);
    g_free (c->name);
    g_free (c);
  }
  g_ptr_array_free (cases, TRUE);
}
