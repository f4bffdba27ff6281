/* gst-hart — CUDA backend: rotary embedding and attention (fp32, bf16)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout (backend.h): element (b, t, h, d) of a sequence tensor lives at
 * base + b * batch_stride + t * row_stride + h * head_dim + d.
 */
#include "cuda-private.cuh"

#include <string.h>

#include <mma.h>
#include <cuda_bf16.h>

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
 * Dynamic shared memory: (2 · head_dim + ATTENTION_KEYS_PER_CHUNK) floats.
 * HALF (attention_half for head sizes the mma kernel below does not take):
 * q, k, v and the probabilities of the weighted sum rounded to bf16, the
 * running sum of the unrounded ones (backend.h). */
template < bool HALF > static __device__ __forceinline__ float
attention_operand (float x)
{
  return HALF ? hart_cuda_bf16_float (hart_cuda_bf16_bits (x)) : x;
}

/* Element d of key (or value) row j of KV head kvh in batch item b: from
 * the fp32 tensor (rounded to bf16 when HALF), or from the bf16
 * head-major cache when the caller gave one (HALF only). */
template < bool HALF > static __device__ __forceinline__ float
attention_kv (const HartAttentionParams & p, const float *base_f32,
    int64_t row_stride, const uint16_t * cache, int b, int kvh, int j, int d)
{
  if (HALF && cache != NULL)
    return hart_cuda_bf16_float (cache[b * p.kv_half_batch_stride
            + kvh * p.kv_half_head_stride + (int64_t) j * p.head_dim + d]);
  return attention_operand < HALF > (base_f32[(int64_t) j * row_stride + d]);
}

template < bool HALF > static __global__ void
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
  const float *k = p.k_half != NULL ? NULL :
      p.k + b * p.k_batch_stride + (int64_t) kvh * D;
  const float *v = p.v_half != NULL ? NULL :
      p.v + b * p.v_batch_stride + (int64_t) kvh * D;
  float *out = p.out + b * p.out_batch_stride + i * p.out_row_stride
      + (int64_t) h * D;
  float running_max = -INFINITY, running_sum = 0.0f;

  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    q_s[d] = attention_operand < HALF > (q[d]);
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
      float dot = 0.0f;
      for (int d = 0; d < D; d++)
        dot += q_s[d] * attention_kv < HALF > (p, k, p.k_row_stride,
            p.k_half, b, kvh, j, d);
      score = dot * p.scale;
    }
    chunk_max = hart_block_max (score, reduce);
    new_max = fmaxf (running_max, chunk_max);
    if (new_max == -INFINITY)
      continue;                 /* nothing visible yet (uniform branch) */

    e = score == -INFINITY ? 0.0f : expf (score - new_max);
    weight[threadIdx.x] = attention_operand < HALF > (e);
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
          a += weight[jj] * attention_kv < HALF > (p, v, p.v_row_stride,
              p.v_half, b, kvh, j0 + jj, d);
      }
      acc[d] = a;
    }
    __syncthreads ();           /* weight[] is rewritten by the next chunk */
  }

  for (int d = threadIdx.x; d < D; d += blockDim.x)
    out[d] = running_sum > 0.0f ? acc[d] / running_sum : 0.0f;
}

/* Element d of key j of KV head kvh in batch item b, K and V as bf16 bits,
 * for the head_dim-64 tensor-core kernels' tiles: from the bf16 cache when
 * the caller gave one, else rounded from the fp32 tensors; zeros for a key
 * no query of the block sees (!ok), so that an uninitialised (NaN) row of
 * a cache never reaches a product.  Returns ok. */
static __device__ __forceinline__ gboolean
attention_kv_bf16 (const HartAttentionParams & p, int b, int kvh, int j,
    int d, int kv_end, uint16_t * kb, uint16_t * vb)
{
  gboolean ok = j < kv_end && (p.key_mask == NULL
      || p.key_mask[(int64_t) b * p.kv_len + j]);

  *kb = *vb = 0;
  if (ok && p.k_half != NULL) {
    int64_t at = b * p.kv_half_batch_stride + kvh * p.kv_half_head_stride
        + (int64_t) j * p.head_dim + d;
    *kb = p.k_half[at];
    *vb = p.v_half[at];
  } else if (ok) {
    *kb = hart_cuda_bf16_bits (p.k[b * p.k_batch_stride
            + (int64_t) j * p.k_row_stride + (int64_t) kvh * p.head_dim + d]);
    *vb = hart_cuda_bf16_bits (p.v[b * p.v_batch_stride
            + (int64_t) j * p.v_row_stride + (int64_t) kvh * p.head_dim + d]);
  }
  return ok;
}

/* ---- attention_half, head_dim 64, on the tensor cores ---- */

/* The kernel in use (HART_CUDA_ATTENTION unset or "wmma"): checked on an
 * H200 (docs/device-logs/2026-12-04-h200-bf16-bench.log: the op harness's
 * cases and compute-sanitizer's memcheck), 15–21 TFLOP/s at HART's shapes.
 *
 * FlashAttention-2's order of work (Dao, 2023), written with the WMMA API
 * (16×16×16 bf16 products, fp32 sums): a block of WMMA_WARPS warps takes
 * WMMA_BQ queries of one (batch item, head), each warp 16 of them, and walks
 * the keys WMMA_BK at a time.  Per key tile: the block rounds K and V to
 * bf16 into shared memory (or copies them from the bf16 cache); each warp
 * computes its scores S = Q Kᵀ on the tensor cores into shared memory; two
 * lanes per query row apply scale and masks, update the row's running
 * maximum and sum in fp32 and write the probabilities exp (s − max) rounded
 * to bf16; P V on the tensor cores; the fp32 output rows are rescaled and
 * added to in shared memory.  The rounding points are attention_half's
 * (backend.h): q, k, v and the probabilities in bf16, the sums, the
 * statistics and the output in fp32; the running sum adds the unrounded
 * probabilities, as the CPU backend does.  No score matrix beyond one
 * 64×64 tile per block is ever held.
 *
 * Keys no query of the block may see (past kv_len, masked, or past the
 * last query's causal limit) are zero in shared memory, so an
 * uninitialised (NaN) row of a cache never reaches a product. */
#define WMMA_D 64
#define WMMA_BQ 64
#define WMMA_BK 64
#define WMMA_WARPS (WMMA_BQ / 16)
/* Row strides in shared memory, padded against bank conflicts; WMMA needs
 * a multiple of 8 elements for 16-bit tiles, of 4 for fp32 ones, and 32-byte
 * aligned tile origins (every region below starts at such a multiple). */
#define WMMA_LDH (WMMA_D + 8)
#define WMMA_LDF (WMMA_D + 4)
#define WMMA_SMEM_BYTES \
  ((gsize) (WMMA_BQ + 2 * WMMA_BK + WMMA_BQ) * WMMA_LDH * 2 \
      + (gsize) 2 * WMMA_BQ * WMMA_LDF * 4 + WMMA_BK)

static __global__ void __launch_bounds__ (WMMA_WARPS * 32)
attention_bf16_wmma_kernel (HartAttentionParams p)
{
  using namespace nvcuda;
  extern __shared__ __align__ (128) unsigned char wmma_smem[];
  uint16_t *qs = (uint16_t *) wmma_smem;         /* [WMMA_BQ][WMMA_LDH] */
  uint16_t *ks = qs + WMMA_BQ * WMMA_LDH;         /* [WMMA_BK][WMMA_LDH] */
  uint16_t *vs = ks + WMMA_BK * WMMA_LDH;         /* [WMMA_BK][WMMA_LDH] */
  uint16_t *ps = vs + WMMA_BK * WMMA_LDH;         /* [WMMA_BQ][WMMA_LDH] */
  float *ss = (float *) (ps + WMMA_BQ * WMMA_LDH); /* [WMMA_BQ][WMMA_LDF] */
  float *os = ss + WMMA_BQ * WMMA_LDF;            /* [WMMA_BQ][WMMA_LDF] */
  unsigned char *key_ok = (unsigned char *) (os + WMMA_BQ * WMMA_LDF);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int q0 = blockIdx.x * WMMA_BQ, h = blockIdx.y, b = blockIdx.z;
  const int kvh = h / (p.q_heads / p.kv_heads);
  /* lane's row of its warp's 16, and its half of the row's columns
   * (interleaved: columns half, half + 2, …, two-way bank conflicts) */
  const int row = warp * 16 + (lane >> 1), half = lane & 1;
  const int i = q0 + row;
  const int last_q = min (q0 + WMMA_BQ, p.q_len) - 1;
  int kv_end = p.kv_len;
  float row_max = -INFINITY, row_sum = 0.0f;
  wmma::fragment < wmma::matrix_a, 16, 16, 16, __nv_bfloat16,
      wmma::row_major > q_frag[WMMA_D / 16];

  if (p.causal)
    kv_end = max (0, min (p.kv_len, last_q + p.causal_offset + 1));

  for (int e = threadIdx.x; e < WMMA_BQ * WMMA_D; e += blockDim.x) {
    int r = e / WMMA_D, d = e % WMMA_D;
    float x = q0 + r < p.q_len ? p.q[b * p.q_batch_stride
        + (int64_t) (q0 + r) * p.q_row_stride + (int64_t) h * WMMA_D + d] : 0.0f;
    qs[r * WMMA_LDH + d] = hart_cuda_bf16_bits (x);
    os[r * WMMA_LDF + d] = 0.0f;
  }
  __syncthreads ();
  for (int c = 0; c < WMMA_D / 16; c++)
    wmma::load_matrix_sync (q_frag[c], (const __nv_bfloat16 *) qs
        + warp * 16 * WMMA_LDH + c * 16, WMMA_LDH);

  for (int j0 = 0; j0 < kv_end; j0 += WMMA_BK) {
    for (int e = threadIdx.x; e < WMMA_BK * WMMA_D; e += blockDim.x) {
      int jj = e / WMMA_D, d = e % WMMA_D;
      uint16_t kb, vb;
      gboolean ok = attention_kv_bf16 (p, b, kvh, j0 + jj, d, kv_end, &kb, &vb);
      ks[jj * WMMA_LDH + d] = kb;
      vs[jj * WMMA_LDH + d] = vb;
      if (d == 0)
        key_ok[jj] = ok;
    }
    __syncthreads ();

    /* S = Q Kᵀ: K's rows read as Kᵀ's columns (col_major) */
    for (int c = 0; c < WMMA_BK / 16; c++) {
      wmma::fragment < wmma::accumulator, 16, 16, 16, float >s_frag;
      wmma::fill_fragment (s_frag, 0.0f);
      for (int k = 0; k < WMMA_D / 16; k++) {
        wmma::fragment < wmma::matrix_b, 16, 16, 16, __nv_bfloat16,
            wmma::col_major > k_frag;
        wmma::load_matrix_sync (k_frag, (const __nv_bfloat16 *) ks
            + c * 16 * WMMA_LDH + k * 16, WMMA_LDH);
        wmma::mma_sync (s_frag, q_frag[k], k_frag, s_frag);
      }
      wmma::store_matrix_sync (ss + warp * 16 * WMMA_LDF + c * 16, s_frag,
          WMMA_LDF, wmma::mem_row_major);
    }
    __syncwarp ();

    /* the row's statistics in fp32, its probabilities in bf16 */
    float *srow = ss + row * WMMA_LDF;
    uint16_t *prow = ps + row * WMMA_LDH;
    float tile_max = -INFINITY, new_max, correction, sum = 0.0f;
    for (int t = 0; t < WMMA_BK / 2; t++) {
      int jj = half + 2 * t, j = j0 + jj;
      gboolean visible = key_ok[jj] && i <= last_q
          && (!p.causal || j <= i + p.causal_offset);
      float score = visible ? srow[jj] * p.scale : -INFINITY;
      srow[jj] = score;
      tile_max = fmaxf (tile_max, score);
    }
    tile_max = fmaxf (tile_max, __shfl_xor_sync (0xffffffffu, tile_max, 1));
    new_max = fmaxf (row_max, tile_max);
    correction = row_max == -INFINITY ? 0.0f : expf (row_max - new_max);
    for (int t = 0; t < WMMA_BK / 2; t++) {
      int jj = half + 2 * t;
      float e = srow[jj] == -INFINITY ? 0.0f : expf (srow[jj] - new_max);
      sum += e;
      prow[jj] = hart_cuda_bf16_bits (e);
    }
    sum += __shfl_xor_sync (0xffffffffu, sum, 1);
    row_sum = row_sum * correction + sum;
    row_max = new_max;
    __syncwarp ();

    /* P V into the warp's score rows (read above, free now) */
    for (int c = 0; c < WMMA_D / 16; c++) {
      wmma::fragment < wmma::accumulator, 16, 16, 16, float >o_frag;
      wmma::fill_fragment (o_frag, 0.0f);
      for (int k = 0; k < WMMA_BK / 16; k++) {
        wmma::fragment < wmma::matrix_a, 16, 16, 16, __nv_bfloat16,
            wmma::row_major > p_frag;
        wmma::fragment < wmma::matrix_b, 16, 16, 16, __nv_bfloat16,
            wmma::row_major > v_frag;
        wmma::load_matrix_sync (p_frag, (const __nv_bfloat16 *) ps
            + warp * 16 * WMMA_LDH + k * 16, WMMA_LDH);
        wmma::load_matrix_sync (v_frag, (const __nv_bfloat16 *) vs
            + k * 16 * WMMA_LDH + c * 16, WMMA_LDH);
        wmma::mma_sync (o_frag, p_frag, v_frag, o_frag);
      }
      wmma::store_matrix_sync (ss + warp * 16 * WMMA_LDF + c * 16, o_frag,
          WMMA_LDF, wmma::mem_row_major);
    }
    __syncwarp ();
    for (int t = 0; t < WMMA_D / 2; t++) {
      int d = half + 2 * t;
      os[row * WMMA_LDF + d] = os[row * WMMA_LDF + d] * correction + srow[d];
    }
    __syncthreads ();           /* ks, vs and key_ok are rewritten next */
  }

  if (i <= last_q) {
    float *out = p.out + b * p.out_batch_stride + (int64_t) i * p.out_row_stride
        + (int64_t) h * WMMA_D;
    for (int t = 0; t < WMMA_D / 2; t++) {
      int d = half + 2 * t;
      out[d] = row_sum > 0.0f ? os[row * WMMA_LDF + d] / row_sum : 0.0f;
    }
  }
}

/* The candidate (HART_CUDA_ATTENTION=mma), not yet run on a GPU: the
 * same work with every tile in registers, which the WMMA kernel cannot
 * have (its fragments' layout is opaque, so its scores and outputs go
 * through shared memory, which bounds it).  The next GPU session runs the
 * op harness's cases on it (test-backend-ops runs each attention_half
 * case with the variable set too) and makes it the default if they pass.
 *
 * FlashAttention-2's order of work (Dao, 2023) on the tensor cores'
 * mma.sync m16n8k16 (bf16 operands, fp32 sums), with every tile of scores,
 * probabilities and outputs held in registers: a block of MMA_WARPS warps
 * takes MMA_BQ queries of one (batch item, head), each warp 16 of them,
 * and walks the keys MMA_BK at a time.  Per key tile the block rounds K
 * and V to bf16 into shared memory (or copies them from the bf16 cache), V
 * transposed so that both products read their B operand as 32-bit pairs;
 * each warp computes S = Q Kᵀ, applies scale and masks, updates each row's
 * running maximum and sum in fp32, rounds exp (s − max) to bf16 straight
 * into the A operand of P V (the accumulator layout of m16n8k16 is its A
 * layout), rescales its output rows and adds P V.  Rounding points are
 * attention_half's (backend.h): q, k, v and the probabilities in bf16; the
 * sums, the statistics and the output in fp32; the running sum adds the
 * unrounded probabilities, as the CPU backend does.
 *
 * Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16"): lane =
 * 4 g + t; A (16×16, row-major) a0 = (g, 2t..2t+1), a1 = (g+8, 2t..),
 * a2 = (g, 2t+8..), a3 = (g+8, 2t+8..); B (16×8) b0 = (k 2t..2t+1, n g),
 * b1 = (k 2t+8.., n g); C (16×8) c0, c1 = (g, 2t, 2t+1), c2, c3 = (g+8, …).
 * The lower column index sits in the lower 16 bits of a pair.
 *
 * Keys no query of the block may see (past kv_len, masked, or past the
 * last query's causal limit) are zero in shared memory, so an
 * uninitialised (NaN) row of a cache never reaches a product; their scores
 * are −inf whatever the product gave. */
#define MMA_D 64
#define MMA_BQ 64
#define MMA_BK 64
#define MMA_WARPS (MMA_BQ / 16)
/* Row strides in shared memory (bf16 elements): 72 = 36 words, so the 32
 * lanes' 32-bit operand loads (rows g, words t) hit 32 different banks. */
#define MMA_LDK (MMA_D + 8)
#define MMA_LDV (MMA_BK + 8)

static __device__ __forceinline__ uint32_t
bf16_pair (float lo, float hi)
{
  return (uint32_t) hart_cuda_bf16_bits (lo)
      | ((uint32_t) hart_cuda_bf16_bits (hi) << 16);
}

/* d = a · b + d, m16n8k16, bf16 operands, fp32 accumulators */
static __device__ __forceinline__ void
mma_bf16_16816 (float *d, const uint32_t *a, uint32_t b0, uint32_t b1)
{
  asm volatile ("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f" (d[0]), "+f" (d[1]), "+f" (d[2]), "+f" (d[3])
      : "r" (a[0]), "r" (a[1]), "r" (a[2]), "r" (a[3]), "r" (b0), "r" (b1));
}

static __global__ void __launch_bounds__ (MMA_WARPS * 32)
attention_bf16_mma_kernel (HartAttentionParams p)
{
  __shared__ __align__ (16) uint16_t ks[MMA_BK * MMA_LDK];  /* [key][dim] */
  __shared__ __align__ (16) uint16_t vt[MMA_D * MMA_LDV];   /* [dim][key] */
  __shared__ unsigned char key_ok[MMA_BK];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int q0 = blockIdx.x * MMA_BQ, h = blockIdx.y, b = blockIdx.z;
  const int kvh = h / (p.q_heads / p.kv_heads);
  const int last_q = min (q0 + MMA_BQ, p.q_len) - 1;
  /* this lane's two query rows */
  const int i0 = q0 + warp * 16 + g, i1 = i0 + 8;
  const int warp_first = q0 + warp * 16;
  int kv_end = p.kv_len;
  uint32_t qa[MMA_D / 16][4];
  float o[MMA_D / 8][4];
  float max0 = -INFINITY, max1 = -INFINITY, sum0 = 0.0f, sum1 = 0.0f;

  if (p.causal)
    kv_end = max (0, min (p.kv_len, last_q + p.causal_offset + 1));

  /* Q, rounded, straight into A fragments */
  {
    const float *qb = p.q + b * p.q_batch_stride + (int64_t) h * MMA_D;
    const float *r0 = i0 <= last_q ? qb + (int64_t) i0 * p.q_row_stride : NULL;
    const float *r1 = i1 <= last_q ? qb + (int64_t) i1 * p.q_row_stride : NULL;
    #pragma unroll
    for (int kc = 0; kc < MMA_D / 16; kc++) {
      int d = kc * 16 + 2 * t;
      qa[kc][0] = r0 ? bf16_pair (r0[d], r0[d + 1]) : 0u;
      qa[kc][1] = r1 ? bf16_pair (r1[d], r1[d + 1]) : 0u;
      qa[kc][2] = r0 ? bf16_pair (r0[d + 8], r0[d + 9]) : 0u;
      qa[kc][3] = r1 ? bf16_pair (r1[d + 8], r1[d + 9]) : 0u;
    }
  }
  #pragma unroll
  for (int db = 0; db < MMA_D / 8; db++)
    o[db][0] = o[db][1] = o[db][2] = o[db][3] = 0.0f;

  for (int j0 = 0; j0 < kv_end; j0 += MMA_BK) {
    for (int e = threadIdx.x; e < MMA_BK * MMA_D; e += blockDim.x) {
      int jj = e / MMA_D, d = e % MMA_D;
      uint16_t kb, vb;
      gboolean ok = attention_kv_bf16 (p, b, kvh, j0 + jj, d, kv_end, &kb, &vb);
      ks[jj * MMA_LDK + d] = kb;
      vt[d * MMA_LDV + jj] = vb;
      if (d == 0)
        key_ok[jj] = ok;
    }
    __syncthreads ();

    /* S = Q Kᵀ, 16 rows × 64 keys: s[nb] holds keys nb·8 + 2t, +1 */
    float s[MMA_BK / 8][4];
    #pragma unroll
    for (int nb = 0; nb < MMA_BK / 8; nb++) {
      const uint16_t *kr = ks + (nb * 8 + g) * MMA_LDK + 2 * t;
      s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
      #pragma unroll
      for (int kc = 0; kc < MMA_D / 16; kc++)
        mma_bf16_16816 (s[nb], qa[kc],
            *(const uint32_t *) (kr + kc * 16),
            *(const uint32_t *) (kr + kc * 16 + 8));
    }

    /* scale and masks; every key of the tile visible to every row of the
     * warp is the common case (one test for the warp) */
    gboolean all_visible = p.key_mask == NULL && j0 + MMA_BK <= kv_end
        && warp_first + 15 <= last_q
        && (!p.causal || j0 + MMA_BK - 1 <= warp_first + p.causal_offset);
    float tile0 = -INFINITY, tile1 = -INFINITY;
    #pragma unroll
    for (int nb = 0; nb < MMA_BK / 8; nb++)
      #pragma unroll
      for (int c = 0; c < 2; c++) {
        int jj = nb * 8 + 2 * t + c, j = j0 + jj;
        float v0 = s[nb][c] * p.scale, v1 = s[nb][c + 2] * p.scale;
        if (!all_visible) {
          gboolean ok = key_ok[jj];
          if (!ok || i0 > last_q || (p.causal && j > i0 + p.causal_offset))
            v0 = -INFINITY;
          if (!ok || i1 > last_q || (p.causal && j > i1 + p.causal_offset))
            v1 = -INFINITY;
        }
        s[nb][c] = v0;
        s[nb][c + 2] = v1;
        tile0 = fmaxf (tile0, v0);
        tile1 = fmaxf (tile1, v1);
      }
    /* the four lanes of a quad share rows g and g + 8 */
    tile0 = fmaxf (tile0, __shfl_xor_sync (0xffffffffu, tile0, 1));
    tile0 = fmaxf (tile0, __shfl_xor_sync (0xffffffffu, tile0, 2));
    tile1 = fmaxf (tile1, __shfl_xor_sync (0xffffffffu, tile1, 1));
    tile1 = fmaxf (tile1, __shfl_xor_sync (0xffffffffu, tile1, 2));
    float new0 = fmaxf (max0, tile0), new1 = fmaxf (max1, tile1);
    float corr0 = max0 == -INFINITY ? 0.0f : expf (max0 - new0);
    float corr1 = max1 == -INFINITY ? 0.0f : expf (max1 - new1);
    float part0 = 0.0f, part1 = 0.0f;
    uint32_t pa[MMA_BK / 16][4];
    #pragma unroll
    for (int nb = 0; nb < MMA_BK / 8; nb++) {
      float e[4];
      #pragma unroll
      for (int c = 0; c < 4; c++) {
        float m = c < 2 ? new0 : new1;
        e[c] = s[nb][c] == -INFINITY ? 0.0f : expf (s[nb][c] - m);
      }
      part0 += e[0] + e[1];
      part1 += e[2] + e[3];
      /* keys nb·8.. are columns 0..7 (nb even) or 8..15 (odd) of chunk nb/2 */
      pa[nb / 2][(nb & 1) * 2] = bf16_pair (e[0], e[1]);
      pa[nb / 2][(nb & 1) * 2 + 1] = bf16_pair (e[2], e[3]);
    }
    part0 += __shfl_xor_sync (0xffffffffu, part0, 1);
    part0 += __shfl_xor_sync (0xffffffffu, part0, 2);
    part1 += __shfl_xor_sync (0xffffffffu, part1, 1);
    part1 += __shfl_xor_sync (0xffffffffu, part1, 2);
    sum0 = sum0 * corr0 + part0;
    sum1 = sum1 * corr1 + part1;
    max0 = new0;
    max1 = new1;

    /* O = O · correction + P V */
    #pragma unroll
    for (int db = 0; db < MMA_D / 8; db++) {
      const uint16_t *vr = vt + (db * 8 + g) * MMA_LDV + 2 * t;
      o[db][0] *= corr0;
      o[db][1] *= corr0;
      o[db][2] *= corr1;
      o[db][3] *= corr1;
      #pragma unroll
      for (int kc = 0; kc < MMA_BK / 16; kc++)
        mma_bf16_16816 (o[db], pa[kc],
            *(const uint32_t *) (vr + kc * 16),
            *(const uint32_t *) (vr + kc * 16 + 8));
    }
    __syncthreads ();           /* ks, vt and key_ok are rewritten next */
  }

  {
    float *ob = p.out + b * p.out_batch_stride + (int64_t) h * MMA_D;
    #pragma unroll
    for (int db = 0; db < MMA_D / 8; db++) {
      int d = db * 8 + 2 * t;
      if (i0 <= last_q) {
        float *r = ob + (int64_t) i0 * p.out_row_stride;
        r[d] = sum0 > 0.0f ? o[db][0] / sum0 : 0.0f;
        r[d + 1] = sum0 > 0.0f ? o[db][1] / sum0 : 0.0f;
      }
      if (i1 <= last_q) {
        float *r = ob + (int64_t) i1 * p.out_row_stride;
        r[d] = sum1 > 0.0f ? o[db][2] / sum1 : 0.0f;
        r[d + 1] = sum1 > 0.0f ? o[db][3] / sum1 : 0.0f;
      }
    }
  }
}

static gboolean
attention_shape_ok (HartBackend * be, const HartAttentionParams * p,
    const char *what)
{
  if (p->kv_heads <= 0 || p->q_heads % p->kv_heads != 0
      || p->head_dim > ATTENTION_MAX_HEAD_DIM || p->q_heads > 65535
      || p->batch > 65535) {
    hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
        "%s: unsupported shape (q_heads %d, kv_heads %d, head_dim %d,"
        " batch %d)", what, p->q_heads, p->kv_heads, p->head_dim, p->batch);
    return FALSE;
  }
  return TRUE;
}

template < bool HALF > static void
attention_generic (HartBackend * be, const HartAttentionParams * p,
    const char *what)
{
  gsize shared_bytes = (2 * (gsize) p->head_dim + ATTENTION_KEYS_PER_CHUNK)
      * sizeof (float);

  attention_kernel < HALF > <<< dim3 (p->q_len, p->q_heads, p->batch),
      ATTENTION_KEYS_PER_CHUNK, shared_bytes, hart_cuda_priv (be)->stream
      >>> (*p);
  hart_cuda_check (be, what);
}

void
hart_cuda_attention (HartBackend * be, const HartAttentionParams * p)
{
  if (p->batch <= 0 || p->q_heads <= 0 || p->q_len <= 0 || p->head_dim <= 0)
    return;
  if (!attention_shape_ok (be, p, "attention") || !hart_cuda_enter (be))
    return;
  if (hart_cuda_attention_switch ("gemm")) {
    hart_cuda_attention_gemm (be, p);
    return;
  }
  attention_generic < false > (be, p, "attention");
}

/* The candidate kernels switched on in HART_CUDA_ATTENTION, a comma-
 * separated list: "mma" (attention_half at head_dim 64 on register
 * tiles), "gemm" (fp32 attention, and attention_half at other head sizes,
 * as blocked cuBLAS products: cuda-attention-gemm.cu).  Read at every
 * call, as the CPU backend's HART_CPU_ATTENTION, so that the op harness
 * can run both sides in one process. */
gboolean
hart_cuda_attention_switch (const char *name)
{
  const char *env = g_getenv ("HART_CUDA_ATTENTION");
  const gsize len = strlen (name);

  /* every attention call asks: no allocation */
  for (const char *t = env; t != NULL && *t != '\0';) {
    const char *end = strchr (t, ',');
    gsize n;
    while (g_ascii_isspace (*t))
      t++;
    n = end ? (gsize) (end - t) : strlen (t);
    while (n > 0 && g_ascii_isspace (t[n - 1]))
      n--;
    if (n == len && strncmp (t, name, len) == 0)
      return TRUE;
    t = end ? end + 1 : NULL;
  }
  return FALSE;
}

/* head_dim 64 (HART's transformer) on the tensor cores; other sizes (the
 * decoder's single 512-wide head) on the generic kernel with the same
 * rounding points, or with HART_CUDA_ATTENTION=gemm as blocked cuBLAS
 * products (cuda-attention-gemm.cu). */
void
hart_cuda_attention_half (HartBackend * be, const HartAttentionParams * p)
{
  HartCudaBackend *priv = hart_cuda_priv (be);

  if (p->batch <= 0 || p->q_heads <= 0 || p->q_len <= 0 || p->head_dim <= 0)
    return;
  if (!attention_shape_ok (be, p, "attention_half") || !hart_cuda_enter (be))
    return;
  if (p->head_dim != WMMA_D) {
    if (hart_cuda_attention_switch ("gemm"))
      hart_cuda_attention_gemm_half (be, p);
    else
      attention_generic < true > (be, p, "attention_half");
    return;
  }
  if (hart_cuda_attention_switch ("mma")) {
    attention_bf16_mma_kernel <<< dim3 ((p->q_len + MMA_BQ - 1) / MMA_BQ,
        p->q_heads, p->batch), MMA_WARPS * 32, 0, priv->stream >>> (*p);
    hart_cuda_check (be, "attention_half (mma)");
    return;
  }
  if (!priv->attention_wmma_ready) {
    if (!hart_cuda_check_status (be,
            cudaFuncSetAttribute (attention_bf16_wmma_kernel,
                cudaFuncAttributeMaxDynamicSharedMemorySize,
                (int) WMMA_SMEM_BYTES), "attention_half (shared memory)"))
      return;
    priv->attention_wmma_ready = TRUE;
  }
  attention_bf16_wmma_kernel <<< dim3 ((p->q_len + WMMA_BQ - 1) / WMMA_BQ,
      p->q_heads, p->batch), WMMA_WARPS * 32, WMMA_SMEM_BYTES, priv->stream
      >>> (*p);
  hart_cuda_check (be, "attention_half");
}
