/* gst-hart — CUDA backend: attention as blocked cuBLAS products (candidate)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The generic attention kernel (cuda-attention.cu) gives one 128-thread
 * block to each query row and reads every key with scalar loads: 0.76
 * TFLOP/s on an H200, so 92 % of an fp32 generation at 1024² and the
 * decoder's one 512-wide head in either precision (docs/performance.md).
 * This path computes the same attention as cuBLAS products over blocks of
 * queries, for every (batch item, KV head), the query heads of a group
 * batched:
 *   S = scale · Q_blk Kᵀ            (cuBLAS, fp32 sums)
 *   P = masked softmax of S's rows  (one block a row: masks, maximum, sum)
 *   O = P V                         (cuBLAS, straight into the output rows)
 * The score matrix exists for one block of queries at a time, sized to
 * ATTENTION_GEMM_SCORES_BYTES.  fp32 (attention): IEEE fp32 products (no
 * TF32), P normalised in fp32, so the results differ from the kernel's by
 * the order of fp32 sums only.  bf16 (attention_half): q, k and v rounded
 * to bf16 into scratch copies, the probabilities exp (s − max) rounded to
 * bf16 for P V and their unrounded sum kept per row, O divided by it
 * afterwards: attention_half's rounding points (backend.h).
 *
 * Masked keys' value rows enter P V with weight 0; an uninitialised (NaN)
 * row would still poison the product, so where a key mask is given V is
 * copied with those rows zeroed (the bf16 copies zero them always).  Keys
 * past the last query's causal limit are left out of the products.
 *
 * Not yet run on a GPU: HART_CUDA_ATTENTION=gemm selects it for fp32 and
 * for bf16 heads other than 64 (hart_cuda_attention_switch); the op
 * harness runs every such attention case under that switch too
 * (tests/ops/op-cases.c).
 */
#include "cuda-private.cuh"

/* bound on one block's score matrix (and, in bf16, its probabilities);
 * HART_CUDA_ATTENTION_GEMM_BYTES lowers it (the op harness does, so that
 * its small cases run several blocks of queries) */
#define ATTENTION_GEMM_SCORES_BYTES ((gsize) 64 << 20)

/* dst [batch, len, heads·d] (token-major, contiguous) = the strided src,
 * fp32 or rounded to bf16 (T), rows whose key is masked set to 0 (mask
 * NULL: none).  bf16 only: from a head-major bf16 cache when src_half is
 * set. */
template < typename T > static __global__ void
gather_kernel (T *dst, const float *src, int64_t batch_stride,
    int64_t row_stride, const uint16_t * src_half, int64_t half_batch_stride,
    int64_t half_head_stride, const uint8_t * mask, int len, int heads,
    int d, gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    int e = (int) (i % d);
    int h = (int) (i / d % heads);
    gsize j = i / ((gsize) d * heads) % len;
    gsize b = i / ((gsize) d * heads * len);

    if (mask != NULL && !mask[b * len + j])
      hart_cuda_store (dst, i, 0.0f);
    else if (sizeof (T) == 2 && src_half != NULL)
      ((uint16_t *) dst)[i] = src_half[b * half_batch_stride
          + h * half_head_stride + j * d + e];
    else
      hart_cuda_store (dst, i, src[b * batch_stride + j * row_stride
              + (gsize) h * d + e]);
  }
}

/* One block per row of S [rows = group·bq, n]: row r is query i0 + r % bq
 * of query head r / bq of the group.  Masks (key_mask of batch item b,
 * causal), maximum, exp (s − max), sum.  fp32: S ← P = e / sum in place.
 * bf16: P_half ← bf16 (e), row_sum[r] ← sum (unrounded).  A row that sees
 * no key gets zeros (and sum 0). */
template < bool HALF > static __global__ void
masked_softmax_kernel (float *s, uint16_t *p_half, float *row_sum, int n,
    int bq, int i0, const uint8_t * key_mask, gboolean causal,
    int causal_offset)
{
  __shared__ float shared[32];
  const int r = blockIdx.x;
  const int i = i0 + r % bq;
  float *row = s + (gsize) r * n;
  uint16_t *prow = HALF ? p_half + (gsize) r * n : NULL;
  float max = -INFINITY, sum = 0.0f;

  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    gboolean visible = (key_mask == NULL || key_mask[j])
        && (!causal || j <= i + causal_offset);
    float v = visible ? row[j] : -INFINITY;
    row[j] = v;
    max = fmaxf (max, v);
  }
  max = hart_block_max (max, shared);
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    float e = max == -INFINITY || row[j] == -INFINITY ? 0.0f :
        expf (row[j] - max);
    sum += e;
    if (HALF)
      prow[j] = hart_cuda_bf16_bits (e);
    else
      row[j] = e;
  }
  sum = hart_block_sum (sum, shared);
  if (HALF) {
    if (threadIdx.x == 0)
      row_sum[r] = sum;
  } else {
    for (int j = threadIdx.x; j < n; j += blockDim.x)
      row[j] = sum > 0.0f ? row[j] / sum : 0.0f;
  }
}

/* out rows (query head r / bq, query i0 + r % bq) /= row_sum[r] (0: 0) */
static __global__ void
divide_rows_kernel (float *out, int64_t out_row_stride, const float *row_sum,
    int bq, int d, int head0, gsize total)
{
  for (gsize idx = blockIdx.x * (gsize) blockDim.x + threadIdx.x;
      idx < total; idx += (gsize) gridDim.x * blockDim.x) {
    int e = (int) (idx % d);
    gsize r = idx / d;
    int h = head0 + (int) (r / bq), q = (int) (r % bq);
    float *o = out + q * out_row_stride + (int64_t) h * d + e;
    float sum = row_sum[r];

    *o = sum > 0.0f ? *o / sum : 0.0f;
  }
}

static inline gsize
align_up (gsize n)
{
  return (n + 255) / 256 * 256;
}

template < bool HALF > static void
attention_gemm (HartBackend * be, const HartAttentionParams * p,
    const char *what)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  const int D = p->head_dim, group = p->q_heads / p->kv_heads;
  const int last_q = p->q_len - 1;
  const int kv_all = p->causal ? (int) MAX ((int64_t) 0,
      MIN ((int64_t) p->kv_len,
          (int64_t) last_q + p->causal_offset + 1)) : p->kv_len;
  /* token-major copies: [batch, len, heads·D] */
  const gsize q_elems = (gsize) p->batch * p->q_len * p->q_heads * D;
  const gsize kv_elems = (gsize) p->batch * p->kv_len * p->kv_heads * D;
  gsize per_row, bq, q_bytes = 0, kv_bytes = 0, s_bytes, p_bytes = 0;
  gsize sum_bytes = 0, total;
  char *base;
  uint16_t *q16 = NULL, *k16 = NULL, *v16 = NULL, *p16 = NULL;
  float *v32 = NULL, *s32, *row_sum = NULL;
  const float one = 1.0f, zero = 0.0f;

  if (p->q_row_stride > G_MAXINT || p->k_row_stride > G_MAXINT
      || p->v_row_stride > G_MAXINT || p->out_row_stride > G_MAXINT
      || (int64_t) p->q_heads * D > G_MAXINT
      || (int64_t) p->kv_heads * D > G_MAXINT
      || (int64_t) p->q_len + ABS ((int64_t) p->causal_offset) > G_MAXINT) {
    /* cuBLAS takes int leading dimensions */
    hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
        "%s: strides past cuBLAS's int leading dimensions", what);
    return;
  }
  if (kv_all == 0) {
    /* no query sees a key: zeros, as the kernel gives */
    for (int b = 0; b < p->batch; b++)
      if (!hart_cuda_check_status (be, cudaMemset2DAsync (p->out
                  + b * p->out_batch_stride, p->out_row_stride * 4, 0,
                  (gsize) p->q_heads * D * 4, p->q_len, priv->stream), what))
        return;
    return;
  }
  per_row = (gsize) group * kv_all * (4 + (HALF ? 2 : 0));
  bq = MAX ((gsize) 1, hart_cuda_env_bytes ("HART_CUDA_ATTENTION_GEMM_BYTES",
          ATTENTION_GEMM_SCORES_BYTES, ATTENTION_GEMM_SCORES_BYTES) / per_row);
  bq = MIN (bq, (gsize) p->q_len);
  if (HALF) {
    q_bytes = align_up (q_elems * 2);
    kv_bytes = align_up (kv_elems * 2);
    p_bytes = align_up (group * bq * kv_all * 2);
    sum_bytes = align_up (group * bq * 4);
  } else if (p->key_mask != NULL) {
    kv_bytes = align_up (kv_elems * 4);
  }
  s_bytes = align_up (group * bq * kv_all * 4);
  total = q_bytes + (HALF ? 2 : 1) * kv_bytes + s_bytes + p_bytes + sum_bytes;
  if ((base = (char *) hart_cuda_scratch (be, total)) == NULL)
    return;
  if (HALF) {
    q16 = (uint16_t *) base;
    k16 = (uint16_t *) (base + q_bytes);
    v16 = (uint16_t *) (base + q_bytes + kv_bytes);
    s32 = (float *) (base + q_bytes + 2 * kv_bytes);
    p16 = (uint16_t *) ((char *) s32 + s_bytes);
    row_sum = (float *) ((char *) p16 + p_bytes);
    gather_kernel < uint16_t > <<< hart_cuda_grid_for (q_elems),
        HART_CUDA_BLOCK, 0, priv->stream >>> (q16, p->q, p->q_batch_stride, p->q_row_stride, NULL,
        0, 0, NULL, p->q_len, p->q_heads, D, q_elems);
    gather_kernel < uint16_t > <<< hart_cuda_grid_for (kv_elems),
        HART_CUDA_BLOCK, 0, priv->stream >>> (k16, p->k, p->k_batch_stride, p->k_row_stride,
        p->k_half, p->kv_half_batch_stride, p->kv_half_head_stride,
        p->key_mask, p->kv_len, p->kv_heads, D, kv_elems);
    gather_kernel < uint16_t > <<< hart_cuda_grid_for (kv_elems),
        HART_CUDA_BLOCK, 0, priv->stream >>> (v16, p->v, p->v_batch_stride, p->v_row_stride,
        p->v_half, p->kv_half_batch_stride, p->kv_half_head_stride,
        p->key_mask, p->kv_len, p->kv_heads, D, kv_elems);
  } else {
    if (p->key_mask != NULL) {
      v32 = (float *) base;
      gather_kernel < float > <<< hart_cuda_grid_for (kv_elems),
          HART_CUDA_BLOCK, 0, priv->stream >>> (v32, p->v, p->v_batch_stride,
          p->v_row_stride, NULL, 0, 0, p->key_mask, p->kv_len, p->kv_heads, D,
          kv_elems);
    }
    s32 = (float *) (base + kv_bytes);
  }
  if (!hart_cuda_check (be, what))
    return;

  for (int b = 0; b < p->batch; b++)
    for (int kvh = 0; kvh < p->kv_heads; kvh++)
      for (int i0 = 0; i0 < p->q_len; i0 += (int) bq) {
        const int n_q = MIN ((int) bq, p->q_len - i0);
        const int h0 = kvh * group;
        const int kv_n = p->causal ? (int) MAX ((int64_t) 0,
            MIN ((int64_t) p->kv_len,
                (int64_t) i0 + n_q - 1 + p->causal_offset + 1)) : p->kv_len;
        const uint8_t *mask = p->key_mask ? p->key_mask
            + (gsize) b * p->kv_len : NULL;
        float *out = p->out + b * p->out_batch_stride
            + i0 * p->out_row_stride + (int64_t) h0 * D;
        cublasStatus_t st;

        if (kv_n == 0) {
          /* this block's queries see no key: zero rows */
          if (!hart_cuda_check_status (be, cudaMemset2DAsync (out,
                      p->out_row_stride * 4, 0, (gsize) group * D * 4, n_q,
                      priv->stream), what))
            return;
          continue;
        }
        /* S [group][n_q][kv_n] = scale · Q Kᵀ: column-major, S_gᵀ [kv_n,
         * n_q] = K [kv_n, D] (read as Kᵀ) · Q_gᵀ [D, n_q] */
        if (HALF) {
          const int64_t qs = (int64_t) p->q_heads * D;
          const int64_t ks = (int64_t) p->kv_heads * D;
          const uint16_t *qb = q16 + ((gsize) b * p->q_len + i0) * qs
              + (gsize) h0 * D;
          const uint16_t *kb = k16 + (gsize) b * p->kv_len * ks
              + (gsize) kvh * D;
          st = cublasGemmStridedBatchedEx (priv->cublas, CUBLAS_OP_T,
              CUBLAS_OP_N, kv_n, n_q, D, &p->scale, kb, CUDA_R_16BF,
              (int) ks, 0, qb, CUDA_R_16BF, (int) qs, D, &zero, s32,
              CUDA_R_32F, kv_n, (int64_t) n_q * kv_n, group,
              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        } else {
          const float *qb = p->q + b * p->q_batch_stride
              + i0 * p->q_row_stride + (int64_t) h0 * D;
          const float *kb = p->k + b * p->k_batch_stride + (int64_t) kvh * D;
          st = cublasSgemmStridedBatched (priv->cublas, CUBLAS_OP_T,
              CUBLAS_OP_N, kv_n, n_q, D, &p->scale, kb, (int) p->k_row_stride,
              0, qb, (int) p->q_row_stride, D, &zero, s32, kv_n,
              (int64_t) n_q * kv_n, group);
        }
        if (!hart_cuda_check_cublas (be, st, what))
          return;
        masked_softmax_kernel < HALF > <<< group * n_q, HART_CUDA_BLOCK, 0,
            priv->stream >>> (s32, p16, row_sum, kv_n, n_q, i0, mask,
            p->causal, p->causal_offset);
        if (!hart_cuda_check (be, what))
          return;
        /* O_g [n_q, D] = P_g [n_q, kv_n] · V [kv_n, D]: column-major,
         * O_gᵀ [D, n_q] = Vᵀ [D, kv_n] · P_gᵀ [kv_n, n_q] */
        if (HALF) {
          const int64_t vs = (int64_t) p->kv_heads * D;
          const uint16_t *vb = v16 + (gsize) b * p->kv_len * vs
              + (gsize) kvh * D;
          st = cublasGemmStridedBatchedEx (priv->cublas, CUBLAS_OP_N,
              CUBLAS_OP_N, D, n_q, kv_n, &one, vb, CUDA_R_16BF, (int) vs, 0,
              p16, CUDA_R_16BF, kv_n, (int64_t) n_q * kv_n, &zero, out,
              CUDA_R_32F, (int) p->out_row_stride, D, group,
              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        } else {
          const float *vb = v32 != NULL ? v32 + (gsize) b * p->kv_len
              * p->kv_heads * D + (gsize) kvh * D : p->v
              + b * p->v_batch_stride + (int64_t) kvh * D;
          const int ldv = v32 != NULL ? p->kv_heads * D : (int) p->v_row_stride;
          st = cublasSgemmStridedBatched (priv->cublas, CUBLAS_OP_N,
              CUBLAS_OP_N, D, n_q, kv_n, &one, vb, ldv, 0, s32, kv_n,
              (int64_t) n_q * kv_n, &zero, out, (int) p->out_row_stride, D,
              group);
        }
        if (!hart_cuda_check_cublas (be, st, what))
          return;
        if (HALF) {
          gsize n = (gsize) group * n_q * D;
          divide_rows_kernel <<< hart_cuda_grid_for (n), HART_CUDA_BLOCK, 0,
              priv->stream >>> (p->out + b * p->out_batch_stride
              + i0 * p->out_row_stride, p->out_row_stride, row_sum, n_q, D,
              h0, n);
          if (!hart_cuda_check (be, what))
            return;
        }
      }
}

void
hart_cuda_attention_gemm (HartBackend * be, const HartAttentionParams * p)
{
  attention_gemm < false > (be, p, "attention (gemm)");
}

void
hart_cuda_attention_gemm_half (HartBackend * be,
    const HartAttentionParams * p)
{
  attention_gemm < true > (be, p, "attention_half (gemm)");
}
