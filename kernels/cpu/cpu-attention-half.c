/* gst-hart — CPU backend: attention with bf16 products (oneDNN)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The streaming attention of cpu-attention.c (online softmax over blocks
 * of keys, no score matrix beyond one block) with its two products in
 * bf16 on oneDNN's matmul, as flash attention runs in half precision:
 *   S = q·kᵀ with q and k rounded to bf16, summed in fp32;
 *   the scale, masks, running maximum, exponentials and sums in fp32;
 *   acc += P·v with P (the block's unnormalised probabilities) and v
 *   rounded to bf16, acc in fp32; out = acc / sum in fp32.
 * docs/precision.md gives the error this adds.
 *
 * Blocks are large (HALF_Q_BLOCK queries × HALF_K_BLOCK keys × every
 * head, one batched oneDNN call per product) because a oneDNN call costs
 * tens of microseconds of setup, against ~1 ms of work at these sizes.
 * K and V come in bf16 (a KV cache held in bf16) or are rounded to bf16
 * once per call and batch row (not once per query block), head-major;
 * then the query blocks of that row run on the pool, each
 * thread calling oneDNN single-threaded (cpu-onednn.c).  Every value is
 * computed by one tile whichever thread runs it: the result does not
 * depend on the schedule.
 *
 * On CPUs with AMX, and head_dim a multiple of 32, the tiles run on the
 * hand-written kernel of cpu-attention-amx.c instead (the same arithmetic,
 * fused: several times faster); HART_CPU_ATTENTION=onednn keeps this
 * path.
 */
#include "cpu-onednn.h"
#include "cpu-exp.h"

#include <stdlib.h>

#define HALF_Q_BLOCK 128
#define HALF_K_BLOCK 512

typedef struct
{
  const HartAttentionParams *p;
  HartCpuHalf *h;
  int b;                        /* the batch row */
  const uint16_t *kh, *vh;      /* row b's K and V in bf16, head-major */
  int64_t head_stride;          /* elements from one KV head to the next */
  gboolean failed;              /* oneDNN failed: the output gets NaN */
} HalfAttnArgs;

typedef struct
{
  uint16_t *qh;                 /* [Hq, nq, d] */
  float *scores;                /* [Hq, nq, nk] */
  uint16_t *probs;              /* [Hq, nq, nk] */
  float *acc;                   /* [Hq, nq, d] */
  float *row_max, *row_sum;     /* [Hq, nq] */
} HalfAttnScratch;

static gboolean
scratch_init (HalfAttnScratch * s, const HartAttentionParams * p)
{
  const gsize hq = p->q_heads, d = p->head_dim;

  s->qh = g_try_malloc ((gsize) HALF_Q_BLOCK * hq * d * sizeof (uint16_t));
  s->scores = g_try_malloc (hq * HALF_Q_BLOCK * HALF_K_BLOCK * sizeof (float));
  s->probs = g_try_malloc (hq * HALF_Q_BLOCK * HALF_K_BLOCK *
      sizeof (uint16_t));
  s->acc = g_try_malloc (hq * HALF_Q_BLOCK * d * sizeof (float));
  s->row_max = g_try_malloc (hq * HALF_Q_BLOCK * sizeof (float));
  s->row_sum = g_try_malloc (hq * HALF_Q_BLOCK * sizeof (float));
  return s->qh && s->scores && s->probs && s->acc && s->row_max && s->row_sum;
}

static void
scratch_clear (HalfAttnScratch * s)
{
  g_free (s->qh);
  g_free (s->scores);
  g_free (s->probs);
  g_free (s->acc);
  g_free (s->row_max);
  g_free (s->row_sum);
}

/* Descriptors of the 4-D batched products [KVh, group, rows, cols]: the
 * group's query heads share their KV head (grouped-query attention), so K
 * and V broadcast over dimension 1. */
static gboolean
md4 (dnnl_memory_desc_t * md, dnnl_data_type_t type, int64_t d0, int64_t d1,
    int64_t d2, int64_t d3, int64_t s0, int64_t s1, int64_t s2, int64_t s3)
{
  const dnnl_dims_t dims = { d0, d1, d2, d3 }, strides = { s0, s1, s2, s3 };
  return dnnl_memory_desc_init_by_strides (md, 4, dims, type, strides)
      == dnnl_success;
}

/* One tile: batch row A->b, query rows [q0, q0 + nq), every head.  Every
 * operand is laid out head-major and dense ([heads, rows, d]): oneDNN runs
 * dense batched products on the matrix units (brgemm), strided ones on a
 * slower generic kernel. */
static gboolean
half_attention_tile (const HalfAttnArgs * A, HalfAttnScratch * s, int q0,
    int nq)
{
  const HartAttentionParams *p = A->p;
  const int d = p->head_dim, hq = p->q_heads, kvh = p->kv_heads;
  const int group = hq / kvh;
  const int64_t hs = A->head_stride;
  const float *q = p->q + A->b * p->q_batch_stride + q0 * p->q_row_stride;
  const uint8_t *mask = p->key_mask ? p->key_mask + (gsize) A->b * p->kv_len :
      NULL;
  const gsize n_rows = (gsize) hq * nq;
  dnnl_memory_desc_t q_md;
  int key_end = p->kv_len;

  if (p->causal) {
    int64_t last_visible = (int64_t) q0 + nq - 1 + p->causal_offset;
    if (last_visible + 1 < key_end)
      key_end = (int) MAX (last_visible + 1, 0);
  }
  /* Q [hq, nq, d] = [kvh, group, nq, d] */
  for (int h = 0; h < hq; h++)
    for (int i = 0; i < nq; i++)
      hart_cpu_bf16_round_row (s->qh + ((gsize) h * nq + i) * d,
          q + i * p->q_row_stride + (gsize) h * d, d);
  for (gsize r = 0; r < n_rows; r++) {
    s->row_max[r] = -INFINITY;
    s->row_sum[r] = 0.0f;
  }
  memset (s->acc, 0, n_rows * d * sizeof (float));
  if (!md4 (&q_md, dnnl_bf16, kvh, group, nq, d, (int64_t) group * nq * d,
          (int64_t) nq * d, d, 1))
    return FALSE;

  for (int k0 = 0; k0 < key_end; k0 += HALF_K_BLOCK) {
    const int nk = MIN (HALF_K_BLOCK, key_end - k0);
    const gboolean causal_cut = p->causal &&
        (int64_t) k0 + nk - 1 > (int64_t) q0 + p->causal_offset;
    dnnl_memory_desc_t k_md, s_md, p_md, v_md, acc_md;
    gboolean any_visible = FALSE;

    /* S [kvh, group, nq, nk] = Q · Kᵀ, K [kvh, 1, d, nk] read from the
     * head-major bf16 K (heads hs apart) */
    if (!md4 (&k_md, dnnl_bf16, kvh, 1, d, nk, hs, hs, 1, d)
        || !md4 (&s_md, dnnl_f32, kvh, group, nq, nk,
            (int64_t) group * nq * nk, (int64_t) nq * nk, nk, 1)
        || !hart_cpu_onednn_matmul_blocks (A->h, &q_md, s->qh, &k_md,
            A->kh + (gsize) k0 * d, NULL, NULL, &s_md, s->scores, FALSE))
      return FALSE;

    /* online softmax, row (head h, query i) = h · nq + i; the scale is
     * positive, so the maximum of the scaled row is the scaled maximum */
    for (gsize r = 0; r < n_rows; r++) {
      const int i = (int) (r % nq);
      float *row = s->scores + r * nk;
      float block_max, m_old = s->row_max[r], m_new;
      float correction, sum;

      if (mask != NULL)
        for (int j = 0; j < nk; j++)
          if (!mask[k0 + j])
            row[j] = -INFINITY;
      if (causal_cut) {
        int64_t first_hidden = (int64_t) q0 + i + p->causal_offset + 1 - k0;
        for (int64_t j = MAX (first_hidden, 0); j < nk; j++)
          row[j] = -INFINITY;
      }
      block_max = row_max (row, nk) * p->scale;
      m_new = m_old > block_max ? m_old : block_max;
      if (m_new == -INFINITY) {
        memset (s->probs + r * nk, 0, (gsize) nk * sizeof (uint16_t));
        continue;
      }
      any_visible = TRUE;
      /* exponentials and their sum in fp32, as the fp32 kernel forms them;
       * the product takes them rounded to bf16 */
      sum = exp_row_sum_bf16_any (row, nk, p->scale, m_new, s->probs + r * nk);
      correction = m_old == -INFINITY ? 0.0f : expf (m_old - m_new);
      s->row_sum[r] = s->row_sum[r] * correction + sum;
      s->row_max[r] = m_new;
      if (correction != 1.0f) {
        float *acc = s->acc + r * d;
        for (int c = 0; c < d; c++)
          acc[c] *= correction;
      }
    }
    if (!any_visible)
      continue;
    /* acc [kvh, group, nq, d] += P [kvh, group, nq, nk] · V [kvh, 1, nk, d] */
    if (!md4 (&p_md, dnnl_bf16, kvh, group, nq, nk, (int64_t) group * nq * nk,
            (int64_t) nq * nk, nk, 1)
        || !md4 (&v_md, dnnl_bf16, kvh, 1, nk, d, hs, hs, d, 1)
        || !md4 (&acc_md, dnnl_f32, kvh, group, nq, d, (int64_t) group * nq * d,
            (int64_t) nq * d, d, 1)
        || !hart_cpu_onednn_matmul_blocks (A->h, &p_md, s->probs, &v_md,
            A->vh + (gsize) k0 * d, NULL, NULL, &acc_md, s->acc, TRUE))
      return FALSE;
  }

  for (gsize r = 0; r < n_rows; r++) {
    const int h = (int) (r / nq), i = (int) (r % nq);
    float *out = p->out + A->b * p->out_batch_stride +
        (int64_t) (q0 + i) * p->out_row_stride + (gsize) h * d;
    const float *acc = s->acc + r * d;
    /* a row that saw no key at all (fully masked) outputs zeros, not NaN */
    float inv = s->row_sum[r] > 0.0f ? 1.0f / s->row_sum[r] : 0.0f;
    for (int c = 0; c < d; c++)
      out[c] = acc[c] * inv;
  }
  return TRUE;
}

static void
half_attention_tiles (HartCpuJob * job, gpointer data)
{
  HalfAttnArgs *A = data;
  const HartAttentionParams *p = A->p;
  HalfAttnScratch s = { NULL };
  gboolean have_scratch = scratch_init (&s, p);
  gsize t0, t1;

  while (hart_cpu_job_next (job, &t0, &t1)) {
    for (gsize t = t0; t < t1; t++) {
      int q0 = (int) t * HALF_Q_BLOCK;
      int nq = MIN (HALF_Q_BLOCK, p->q_len - q0);
      if (!have_scratch || !half_attention_tile (A, &s, q0, nq)) {
        /* out of memory: NaN reaches the generation's finiteness checks */
        g_atomic_int_set (&A->failed, TRUE);
        for (int i = 0; i < nq; i++) {
          float *out = p->out + A->b * p->out_batch_stride +
              (int64_t) (q0 + i) * p->out_row_stride;
          for (int c = 0; c < p->q_heads * p->head_dim; c++)
            out[c] = NAN;
        }
      }
    }
  }
  scratch_clear (&s);
}

typedef struct
{
  uint16_t *dst;
  int64_t dst_batch_stride, dst_head_stride;
  const float *src;
  int64_t src_batch_stride, src_row_stride;
  int len, heads, d;
} HalfHeads;

/* items [i0, i1) of batch × len rows, each rounded to bf16 into the
 * head-major layout */
static void
half_heads_rows (gsize i0, gsize i1, gpointer data)
{
  const HalfHeads *R = data;

  for (gsize i = i0; i < i1; i++) {
    const gsize b = i / R->len, j = i % R->len;
    const float *src = R->src + b * R->src_batch_stride + j * R->src_row_stride;
    uint16_t *dst = R->dst + b * R->dst_batch_stride + j * R->d;
    for (int h = 0; h < R->heads; h++)
      hart_cpu_bf16_round_row (dst + h * R->dst_head_stride,
          src + (gsize) h * R->d, R->d);
  }
}

void
hart_cpu_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim)
{
  HalfHeads R = { dst, dst_batch_stride, dst_head_stride, src,
    src_batch_stride, src_row_stride, len, heads, head_dim
  };
  const gsize n = (gsize) MAX (batch, 0) * MAX (len, 0);

  if (n == 0 || heads <= 0 || head_dim <= 0)
    return;
  hart_cpu_parallel_for (be, n, hart_cpu_grain (be, n,
          n * heads * head_dim), half_heads_rows, &R);
}

void
hart_cpu_attention_half (HartBackend * be, const HartAttentionParams * p)
{
  const int n_qblocks = (p->q_len + HALF_Q_BLOCK - 1) / HALF_Q_BLOCK;
  const gsize kv_n = (gsize) p->kv_len * p->kv_heads * p->head_dim;
  uint16_t *kh = NULL, *vh = NULL, *vt = NULL;
#ifdef HART_HAVE_AMX_ATTENTION
  gboolean use_amx;
#endif

  g_return_if_fail (p->kv_heads > 0 && p->q_heads % p->kv_heads == 0);
  g_return_if_fail (be->priv != NULL);
  if (p->batch <= 0 || p->q_len <= 0 || p->head_dim <= 0)
    return;
#ifdef HART_HAVE_AMX_ATTENTION
  /* widened products (no bf16 in oneDNN, or HART_CPU_BF16=widened): the
   * tiles below, whose products then run widened, not the AMX kernel */
  use_amx = !((HartCpuHalf *) be->priv)->widened
      && hart_cpu_attention_amx_usable (p);
#endif
  /* K and V given in fp32: rounded once per call and batch row into a
   * head-major copy; given in bf16 (k_half), read in place */
  if (p->k_half == NULL) {
    kh = g_try_malloc (MAX (kv_n, 1) * sizeof (uint16_t));
    vh = g_try_malloc (MAX (kv_n, 1) * sizeof (uint16_t));
  }

  for (int b = 0; b < p->batch; b++) {
    HalfAttnArgs A = { p, be->priv, b, kh, vh, (int64_t) p->kv_len *
          p->head_dim, FALSE
    };

    if (p->k_half != NULL) {
      A.kh = p->k_half + b * p->kv_half_batch_stride;
      A.vh = p->v_half + b * p->kv_half_batch_stride;
      A.head_stride = p->kv_half_head_stride;
    } else if (kh == NULL || vh == NULL) {
      A.failed = TRUE;
    } else {
      hart_cpu_to_half_heads (be, kh, 0, A.head_stride, p->k +
          b * p->k_batch_stride, 0, p->k_row_stride, 1, p->kv_len,
          p->kv_heads, p->head_dim);
      hart_cpu_to_half_heads (be, vh, 0, A.head_stride, p->v +
          b * p->v_batch_stride, 0, p->v_row_stride, 1, p->kv_len,
          p->kv_heads, p->head_dim);
    }
    if (!A.failed) {
#ifdef HART_HAVE_AMX_ATTENTION
      if (use_amx)
        A.failed = !hart_cpu_attention_amx (be, p, b, A.kh, A.vh,
            A.head_stride, &vt);
      else
#endif
        hart_cpu_pool_run (be->pool, n_qblocks, 1, half_attention_tiles, &A);
    }
    if (A.failed) {
      g_warning ("cpu backend: bf16 attention failed (out of memory)");
      for (int i = 0; i < p->q_len; i++) {
        float *out = p->out + b * p->out_batch_stride +
            (int64_t) i * p->out_row_stride;
        for (int c = 0; c < p->q_heads * p->head_dim; c++)
          out[c] = NAN;
      }
    }
  }
  g_free (kh);
  g_free (vh);
  free (vt);                    /* posix_memalign'ed */
}
