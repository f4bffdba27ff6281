/* gst-hart — CUDA backend: rotary embedding and attention (fp32)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout (backend.h): element (b, t, h, d) of a sequence tensor lives at
 * base + b * batch_stride + t * row_stride + h * head_dim + d.
 */
#include "cuda-private.cuh"

/* Keys scored per step of the online softmax = threads per attention block
 * (one key per thread). */
#define ATTENTION_KEYS_PER_CHUNK 128
/* Bound on head_dim: q and the output accumulator live in shared memory,
 * (2 · 4096 + 128) floats = 33 KB, under the 48 KB a launch gets without
 * opting in. */
#define ATTENTION_MAX_HEAD_DIM 4096

/* rope, in place, half-split pairing (backend.h): for d < h2 = head_dim/2,
 *   x'[d]      = x[d]      cos[d]      - x[d + h2] sin[d]
 *   x'[d + h2] = x[d + h2] cos[d + h2] + x[d]      sin[d + h2]
 * x [batch, len, heads, head_dim] (strided), cos/sin [batch, len, head_dim]
 * (batch stride table_batch_stride, may be 0).  One thread per (b, t, h, d)
 * with d < h2; it owns both elements of its pair. */
static __global__ void
rope_kernel (float *x, int64_t batch_stride, int64_t row_stride,
    const float *cos_table, const float *sin_table,
    int64_t table_batch_stride, int len, int heads, int head_dim,
    gsize total)
{
  int h2 = head_dim / 2;

  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    int d = (int) (i % h2);
    int h = (int) (i / h2 % heads);
    gsize t = i / ((gsize) h2 * heads) % len;
    gsize b = i / ((gsize) h2 * heads * len);
    float *xp = x + b * batch_stride + t * row_stride + (gsize) h * head_dim;
    gsize table = b * table_batch_stride + t * head_dim;
    float lo = xp[d], hi = xp[d + h2];

    xp[d] = lo * cos_table[table + d] - hi * sin_table[table + d];
    xp[d + h2] = hi * cos_table[table + d + h2]
        + lo * sin_table[table + d + h2];
  }
}

void
hart_cuda_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim)
{
  gsize total = (gsize) batch * len * heads * (head_dim / 2);

  if (batch <= 0 || len <= 0 || heads <= 0 || head_dim < 2
      || !hart_cuda_enter (be))
    return;
  rope_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (x, batch_stride, row_stride, cos, sin,
      table_batch_stride, len, heads, head_dim, total);
  hart_cuda_check (be, "rope");
}

/* attention for one query row: block (i, h, b) = (query, query head, batch)
 * computes
 *   out[b, i, h, :] = Σ_j softmax_j(scale · q[b, i, h, :]·k[b, j, kvh, :]) v[b, j, kvh, :]
 * over the visible keys j (key_mask, causal), kvh = h / (q_heads / kv_heads).
 * Online softmax over chunks of ATTENTION_KEYS_PER_CHUNK keys: thread t
 * scores key j0 + t, the block finds the chunk maximum, rescales the running
 * sum and accumulator, and adds the chunk's weighted values; thread t owns
 * output dims d ≡ t (mod blockDim).  Memory per block: q and the
 * accumulator (2 · head_dim floats) plus one weight per key of the chunk —
 * never a score matrix.  A row with no visible key gets zeros.
 * Dynamic shared memory: (2 · head_dim + ATTENTION_KEYS_PER_CHUNK) floats. */
static __global__ void
attention_kernel (HartAttentionParams p)
{
  extern __shared__ float smem[];
  __shared__ float reduce[32];
  float *q_s = smem;                      /* [head_dim] */
  float *acc = smem + p.head_dim;         /* [head_dim] */
  float *weight = smem + 2 * p.head_dim;  /* [ATTENTION_KEYS_PER_CHUNK] */
  int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  int kvh = h / (p.q_heads / p.kv_heads);
  int D = p.head_dim;
  const float *q = p.q + b * p.q_batch_stride + i * p.q_row_stride
      + (int64_t) h * D;
  const float *k = p.k + b * p.k_batch_stride + (int64_t) kvh * D;
  const float *v = p.v + b * p.v_batch_stride + (int64_t) kvh * D;
  float *out = p.out + b * p.out_batch_stride + i * p.out_row_stride
      + (int64_t) h * D;
  float running_max = -INFINITY, running_sum = 0.0f;

  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    q_s[d] = q[d];
    acc[d] = 0.0f;
  }
  __syncthreads ();

  for (int j0 = 0; j0 < p.kv_len; j0 += ATTENTION_KEYS_PER_CHUNK) {
    int j = j0 + threadIdx.x;
    int n_keys = min (ATTENTION_KEYS_PER_CHUNK, p.kv_len - j0);
    float score = -INFINITY, chunk_max, new_max, e, correction;
    gboolean visible = j < p.kv_len
        && (p.key_mask == NULL || p.key_mask[(int64_t) b * p.kv_len + j])
        && (!p.causal || j <= i + p.causal_offset);

    if (visible) {
      const float *kj = k + j * p.k_row_stride;
      float dot = 0.0f;
      for (int d = 0; d < D; d++)
        dot += q_s[d] * kj[d];
      score = dot * p.scale;
    }
    chunk_max = hart_block_max (score, reduce);
    new_max = fmaxf (running_max, chunk_max);
    if (new_max == -INFINITY)
      continue;                 /* nothing visible yet (uniform branch) */

    e = score == -INFINITY ? 0.0f : expf (score - new_max);
    weight[threadIdx.x] = e;
    /* hart_block_sum synchronises, which also publishes weight[]. */
    correction = running_max == -INFINITY ? 0.0f :
        expf (running_max - new_max);
    running_sum = running_sum * correction + hart_block_sum (e, reduce);
    running_max = new_max;

    for (int d = threadIdx.x; d < D; d += blockDim.x) {
      float a = acc[d] * correction;
      for (int jj = 0; jj < n_keys; jj++) {
        /* skipping zero weights also keeps masked (possibly
         * uninitialised) value rows out of the sum */
        if (weight[jj] != 0.0f)
          a += weight[jj] * v[(int64_t) (j0 + jj) * p.v_row_stride + d];
      }
      acc[d] = a;
    }
    __syncthreads ();           /* weight[] is rewritten by the next chunk */
  }

  for (int d = threadIdx.x; d < D; d += blockDim.x)
    out[d] = running_sum > 0.0f ? acc[d] / running_sum : 0.0f;
}

void
hart_cuda_attention (HartBackend * be, const HartAttentionParams * p)
{
  gsize shared_bytes;

  if (p->batch <= 0 || p->q_heads <= 0 || p->q_len <= 0 || p->head_dim <= 0)
    return;
  if (p->kv_heads <= 0 || p->q_heads % p->kv_heads != 0
      || p->head_dim > ATTENTION_MAX_HEAD_DIM || p->q_heads > 65535
      || p->batch > 65535) {
    hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
        "attention: unsupported shape (q_heads %d, kv_heads %d, head_dim %d,"
        " batch %d)", p->q_heads, p->kv_heads, p->head_dim, p->batch);
    return;
  }
  if (!hart_cuda_enter (be))
    return;
  shared_bytes = (2 * (gsize) p->head_dim + ATTENTION_KEYS_PER_CHUNK)
      * sizeof (float);
  attention_kernel <<< dim3 (p->q_len, p->q_heads, p->batch),
      ATTENTION_KEYS_PER_CHUNK, shared_bytes, hart_cuda_priv (be)->stream
      >>> (*p);
  hart_cuda_check (be, "attention");
}
