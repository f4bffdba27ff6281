/* gst-hart — CPU backend: attention (flash-style, online softmax)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * out = softmax(scale · q·kᵀ + mask) · v, computed one block of
 * ATTN_Q_BLOCK queries × ATTN_K_BLOCK keys at a time.  For each query row
 * we keep the running maximum m and the running sum l of exp(s − m); when a
 * new key block raises m, the partial output and l are rescaled by
 * exp(m_old − m_new).  Memory per thread: one score block plus one output
 * block, independent of kv_len.
 */
#include "cpu-private.h"
#include "cpu-exp.h"

#include <stdlib.h>

/* 64 × 256 scores = 64 KiB: stays in L2 next to the 64 × head_dim output.
 * (128 × 512 and 256 × 256 measured the same on the 2-core test machine.) */
#ifndef ATTN_Q_BLOCK
#define ATTN_Q_BLOCK 64
#endif
#ifndef ATTN_K_BLOCK
#define ATTN_K_BLOCK 256
#endif

typedef struct
{
  float *scores;                /* [ATTN_Q_BLOCK, ATTN_K_BLOCK] */
  float *acc;                   /* [ATTN_Q_BLOCK, head_dim] unnormalised output */
  float *row_max;               /* [ATTN_Q_BLOCK] */
  float *row_sum;               /* [ATTN_Q_BLOCK] */
} AttnScratch;

static gboolean
attn_scratch_init (AttnScratch * s, int head_dim)
{
  gsize floats = (gsize) ATTN_Q_BLOCK * ATTN_K_BLOCK +
      (gsize) ATTN_Q_BLOCK * head_dim + 2 * ATTN_Q_BLOCK;
  void *mem = NULL;

  if (posix_memalign (&mem, 64, floats * sizeof (float)) != 0)
    return FALSE;
  s->scores = mem;
  s->acc = s->scores + (gsize) ATTN_Q_BLOCK *ATTN_K_BLOCK;
  s->row_max = s->acc + (gsize) ATTN_Q_BLOCK *head_dim;
  s->row_sum = s->row_max + ATTN_Q_BLOCK;
  return TRUE;
}

/* One (batch b, query head h, query rows [q0, q0 + nq)) tile. */
static void
attention_tile (const HartAttentionParams * p, AttnScratch * s, int b, int h,
    int q0, int nq)
{
  const int d = p->head_dim;
  const int group = p->q_heads / p->kv_heads;
  const int kvh = h / group;
  const float *q = p->q + b * p->q_batch_stride + q0 * p->q_row_stride +
      (gsize) h * d;
  const float *k = p->k + b * p->k_batch_stride + (gsize) kvh * d;
  const float *v = p->v + b * p->v_batch_stride + (gsize) kvh * d;
  const uint8_t *mask = p->key_mask ? p->key_mask + (gsize) b * p->kv_len :
      NULL;
  int key_end = p->kv_len;

  /* Causal: no row of this tile sees a key past (q0 + nq − 1) + offset. */
  if (p->causal) {
    int64_t last_visible = (int64_t) q0 + nq - 1 + p->causal_offset;
    if (last_visible + 1 < key_end)
      key_end = (int) MAX (last_visible + 1, 0);
  }

  for (int i = 0; i < nq; i++) {
    s->row_max[i] = -INFINITY;
    s->row_sum[i] = 0.0f;
  }
  memset (s->acc, 0, (gsize) nq * d * sizeof (float));

  for (int k0 = 0; k0 < key_end; k0 += ATTN_K_BLOCK) {
    const int nk = MIN (ATTN_K_BLOCK, key_end - k0);
    /* a causal boundary falls inside this block for some row */
    const gboolean causal_cut = p->causal &&
        (int64_t) k0 + nk - 1 > (int64_t) q0 + p->causal_offset;
    gboolean any_visible = FALSE;

    /* scores [nq, nk] = scale · q [nq, d] · k[k0 : k0 + nk]ᵀ; q and k are
     * read in place through their row strides. */
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, d,
        p->scale, q, (int) p->q_row_stride, k + k0 * p->k_row_stride,
        (int) p->k_row_stride, 0.0f, s->scores, nk);

    for (int i = 0; i < nq; i++) {
      float *row = s->scores + (gsize) i * nk;
      float block_max = -INFINITY;
      float m_old = s->row_max[i];
      float m_new, correction, sum;

      if (mask != NULL)
        for (int j = 0; j < nk; j++)
          if (!mask[k0 + j])
            row[j] = -INFINITY;
      if (causal_cut) {
        int64_t first_hidden = (int64_t) q0 + i + p->causal_offset + 1 - k0;
        for (int64_t j = MAX (first_hidden, 0); j < nk; j++)
          row[j] = -INFINITY;
      }
      for (int j = 0; j < nk; j++)
        block_max = row[j] > block_max ? row[j] : block_max;

      m_new = m_old > block_max ? m_old : block_max;
      if (m_new == -INFINITY) {
        /* every key so far is masked for this row: it contributes nothing */
        memset (row, 0, (gsize) nk * sizeof (float));
        continue;
      }
      any_visible = TRUE;
      sum = exp_row_sum_any (row, nk, m_new);
      correction = m_old == -INFINITY ? 0.0f : expf (m_old - m_new);
      s->row_sum[i] = s->row_sum[i] * correction + sum;
      s->row_max[i] = m_new;
      if (correction != 1.0f) {
        float *acc = s->acc + (gsize) i * d;
        for (int c = 0; c < d; c++)
          acc[c] *= correction;
      }
    }

    if (!any_visible)
      continue;
    /* acc [nq, d] += P [nq, nk] · v[k0 : k0 + nk] */
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, d, nk, 1.0f,
        s->scores, nk, v + k0 * p->v_row_stride, (int) p->v_row_stride, 1.0f,
        s->acc, d);
  }

  for (int i = 0; i < nq; i++) {
    float *out = p->out + b * p->out_batch_stride +
        (int64_t) (q0 + i) * p->out_row_stride + (gsize) h * d;
    const float *acc = s->acc + (gsize) i * d;
    /* a row that saw no key at all (fully masked) outputs zeros, not NaN */
    float inv = s->row_sum[i] > 0.0f ? 1.0f / s->row_sum[i] : 0.0f;
    for (int c = 0; c < d; c++)
      out[c] = acc[c] * inv;
  }
}

typedef struct
{
  const HartAttentionParams *p;
  int n_qblocks;
} AttnArgs;

/* Called once by each thread of the job: its scratch, then tiles as they
 * come.  Tiles differ in cost (causal, masks), so they are claimed one by
 * one. */
static void
attention_tiles (HartCpuJob * job, gpointer data)
{
  const AttnArgs *A = data;
  const HartAttentionParams *p = A->p;
  const int n_qblocks = A->n_qblocks;
  AttnScratch scratch = { NULL, NULL, NULL, NULL };
  gboolean have_scratch = attn_scratch_init (&scratch, p->head_dim);
  gsize t0, t1;

  while (hart_cpu_job_next (job, &t0, &t1)) {
    for (int64_t t = (int64_t) t0; t < (int64_t) t1; t++) {
      int qb = (int) (t % n_qblocks);
      int h = (int) ((t / n_qblocks) % p->q_heads);
      int b = (int) (t / ((int64_t) n_qblocks * p->q_heads));
      int q0 = qb * ATTN_Q_BLOCK;
      if (have_scratch)
        attention_tile (p, &scratch, b, h, q0, MIN (ATTN_Q_BLOCK,
                p->q_len - q0));
    }
  }
  if (have_scratch)
    free (scratch.scores);
}

void
hart_cpu_attention (HartBackend * be, const HartAttentionParams * p)
{
  const int n_qblocks = (p->q_len + ATTN_Q_BLOCK - 1) / ATTN_Q_BLOCK;
  const int64_t n_tiles = (int64_t) p->batch * p->q_heads * n_qblocks;
  const double work = (double) n_tiles * ATTN_Q_BLOCK * p->kv_len * p->head_dim;
  AttnArgs A = { p, n_qblocks };

  /* grouped-query attention needs whole groups (a caller bug otherwise) */
  g_return_if_fail (p->kv_heads > 0 && p->q_heads % p->kv_heads == 0);
  if (n_tiles <= 0 || p->head_dim <= 0)
    return;

  hart_cpu_blas_single_thread ();
  hart_cpu_pool_run (be->pool, (gsize) n_tiles, work >= (1 << 18) ? 1
      : (gsize) n_tiles, attention_tiles, &A);
}
