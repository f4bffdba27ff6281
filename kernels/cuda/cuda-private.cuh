/* gst-hart — CUDA backend, private state shared by the kernel files
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CUDA backend is split by op group:
 *   cuda-backend.cu     registry, memory, errors, the op table
 *   cuda-gemm.cu        gemm, gemm_batched, linear (cuBLAS)
 *   cuda-norm.cu        layer_norm, rms_norm, modulate, group_norm,
 *                       group_norm_silu_half, softmax, max_over_rows
 *   cuda-attention.cu   rope, attention, attention_half
 *   cuda-attention-gemm.cu  attention as blocked cuBLAS products
 *   cuda-half.cu        init_half, linear_half, to_half_heads
 *   cuda-elementwise.cu fill, activations, elementwise, embedding
 *   cuda-image.cu       conv2d, conv2d_half, upsample_nearest2x, resize_bicubic,
 *                       resize_area
 * Every op runs on the backend's one stream, in fp32 (the *_half ops: bf16
 * operands, fp32 sums and outputs).  Ops cannot return an
 * error (see backend.h): the first failure is kept as the backend's sticky
 * error and reported by synchronize().
 */
#ifndef HART_KERNELS_CUDA_PRIVATE_CUH
#define HART_KERNELS_CUDA_PRIVATE_CUH

#include "kernels/backend.h"

#include <cuda_runtime.h>
#include <cublas_v2.h>

/* Threads per block of the simple kernels (elementwise, row reductions). */
#define HART_CUDA_BLOCK 256
/* Upper bound on the blocks of a grid-stride elementwise launch. */
#define HART_CUDA_MAX_BLOCKS 65535u

typedef struct
{
  int device;
  cudaStream_t stream;
  cublasHandle_t cublas;

  /* First error seen by any op (NULL when none); guarded by error_lock. */
  GMutex error_lock;
  char *sticky_error;
  HartBackendError sticky_code;

  /* Scratch memory of one op at a time (conv2d's im2col, linear_half's
   * rounded x, the blocked attention's copies and scores), grown on
   * demand; ops run in stream order, so it is free between them. */
  float *scratch;
  gsize scratch_bytes;
  /* Largest im2col band conv2d builds at once (bytes). */
  gsize im2col_limit_bytes;
  /* attention_half's WMMA kernel was allowed its shared memory (over the
   * 48 KB a launch gets by default) on this device. */
  gboolean attention_wmma_ready;
  /* group_norm's per-group sums (two doubles a group), grown on demand. */
  double *norm_stats;
  gsize norm_stats_count;
} HartCudaBackend;

static inline HartCudaBackend *
hart_cuda_priv (HartBackend * be)
{
  return (HartCudaBackend *) be->priv;
}

/* Records `code` with a printf-style message as the sticky error, unless an
 * error is already recorded (the first one is the cause, later ones are
 * usually consequences). */
void hart_cuda_record_error (HartBackend * be, HartBackendError code,
    const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Checks cudaGetLastError () after a kernel launch or a runtime call and
 * records a failure as "<what>: <CUDA error string>".  Returns TRUE on
 * success. */
gboolean hart_cuda_check (HartBackend * be, const char *what);
/* Records a failed runtime call `err` as "<what>: <CUDA error string>". */
gboolean hart_cuda_check_status (HartBackend * be, cudaError_t err,
    const char *what);
/* Records a failed cuBLAS call. */
gboolean hart_cuda_check_cublas (HartBackend * be, cublasStatus_t status,
    const char *what);

/* Makes the backend's device current for the calling thread (a process may
 * hold backends on several GPUs).  Returns FALSE (error recorded) if that
 * fails. */
gboolean hart_cuda_enter (HartBackend * be);

/* Returns scratch memory of at least `bytes` bytes, valid until the next
 * call; NULL (sticky out-of-memory error recorded) on failure. */
float *hart_cuda_scratch (HartBackend * be, gsize bytes);

/* A byte count from the environment variable NAME (debug knobs: 1 … max),
 * else fallback */
gsize hart_cuda_env_bytes (const char *name, gsize fallback, gsize max);

/* Blocks for a grid-stride loop over n elements. */
static inline unsigned
hart_cuda_grid_for (gsize n)
{
  gsize blocks = (n + HART_CUDA_BLOCK - 1) / HART_CUDA_BLOCK;
  if (blocks == 0)
    blocks = 1;
  return blocks > HART_CUDA_MAX_BLOCKS ? HART_CUDA_MAX_BLOCKS :
      (unsigned) blocks;
}

/* ---- block reductions (every thread of the block must call them) ---- */

/* Sum of `v` over the warp, result in every lane. */
static __device__ __forceinline__ float
hart_warp_sum (float v)
{
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, offset);
  return v;
}

static __device__ __forceinline__ float
hart_warp_max (float v)
{
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf (v, __shfl_xor_sync (0xffffffffu, v, offset));
  return v;
}

/* Sum of `v` over the block (blockDim.x a multiple of 32, at most 1024);
 * result in every thread.  `shared` holds 32 floats. */
static __device__ __forceinline__ float
hart_block_sum (float v, float *shared)
{
  int lane = threadIdx.x & 31;
  int warp = threadIdx.x >> 5;
  int n_warps = blockDim.x >> 5;

  v = hart_warp_sum (v);
  __syncthreads ();             /* `shared` may still be read by a previous call */
  if (lane == 0)
    shared[warp] = v;
  __syncthreads ();
  v = lane < n_warps ? shared[lane] : 0.0f;
  return hart_warp_sum (v);
}

/* Maximum of `v` over the block; same rules as hart_block_sum. */
static __device__ __forceinline__ float
hart_block_max (float v, float *shared)
{
  int lane = threadIdx.x & 31;
  int warp = threadIdx.x >> 5;
  int n_warps = blockDim.x >> 5;

  v = hart_warp_max (v);
  __syncthreads ();
  if (lane == 0)
    shared[warp] = v;
  __syncthreads ();
  v = lane < n_warps ? shared[lane] : -INFINITY;
  return hart_warp_max (v);
}

/* ---- ops, one declaration per entry of HartBackendOps ---- */

/* fp32 → bf16 bits, round to nearest even; NaN stays NaN (quiet, its
 * payload's top bits), denormals are kept: the CPU backend's rounding
 * (kernels/dtype.h), so both backends hold the same bf16 weights, KV cache
 * and operands. */
static __device__ __forceinline__ uint16_t
hart_cuda_bf16_bits (float f)
{
  uint32_t u = __float_as_uint (f);

  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t) ((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t) (u >> 16);
}

static __device__ __forceinline__ float
hart_cuda_bf16_float (uint16_t h)
{
  return __uint_as_float ((uint32_t) h << 16);
}

/* dst[i] = v as an fp32 buffer holds it, or a bf16 one (rounded): for the
 * kernels written once for both (im2col, the blocked attention's copies) */
static __device__ __forceinline__ void
hart_cuda_store (float *dst, gsize i, float v)
{
  dst[i] = v;
}

static __device__ __forceinline__ void
hart_cuda_store (uint16_t *dst, gsize i, float v)
{
  dst[i] = hart_cuda_bf16_bits (v);
}

G_BEGIN_DECLS

void hart_cuda_fill (HartBackend * be, float *dst, float value, gsize n);

void hart_cuda_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc);
void hart_cuda_gemm_batched (HartBackend * be,
    const HartGemmBatchedParams * p);
void hart_cuda_linear (HartBackend * be, float *y, const float *x,
    const float *w, const float *bias, int rows, int in, int out);
void hart_cuda_add_bias (HartBackend * be, float *y, const float *bias,
    int rows, int out, const char *what);
gboolean hart_cuda_round_bf16 (HartBackend * be, uint16_t * dst,
    const float *src, gsize n, const char *what);

void hart_cuda_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps);
void hart_cuda_rms_norm (HartBackend * be, float *y, const float *x,
    const float *weight, int rows, int dim, float eps);
void hart_cuda_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim);
void hart_cuda_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps);
void hart_cuda_group_norm_silu_half (HartBackend * be, float *y,
    const float *x, const float *weight, const float *bias, int batch,
    int channels, int hw, int groups, float eps);
void hart_cuda_conv2d_half (HartBackend * be, const HartConv2dParams * p);
void hart_cuda_softmax (HartBackend * be, float *x, int rows, int n);
void hart_cuda_max_over_rows (HartBackend * be, float *y, const float *x,
    int batch, int len, int dim);

void hart_cuda_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim);
void hart_cuda_attention (HartBackend * be, const HartAttentionParams * p);
void hart_cuda_attention_half (HartBackend * be,
    const HartAttentionParams * p);
gboolean hart_cuda_attention_switch (const char *name);
void hart_cuda_attention_gemm (HartBackend * be,
    const HartAttentionParams * p);
void hart_cuda_attention_gemm_half (HartBackend * be,
    const HartAttentionParams * p);

void hart_cuda_init_half (HartBackend * be);
void hart_cuda_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
    int in, int out);
void hart_cuda_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim);

void hart_cuda_silu (HartBackend * be, float *y, const float *x, gsize n);
void hart_cuda_gelu (HartBackend * be, float *y, const float *x, gsize n);
void hart_cuda_gelu_tanh (HartBackend * be, float *y, const float *x,
    gsize n);
void hart_cuda_swiglu (HartBackend * be, float *y, const float *gate,
    const float *up, gsize n);
void hart_cuda_add (HartBackend * be, float *y, const float *a,
    const float *b, gsize n);
void hart_cuda_mul (HartBackend * be, float *y, const float *a,
    const float *b, gsize n);
void hart_cuda_axpby (HartBackend * be, float *y, float alpha,
    const float *a, float beta, const float *b, gsize n);
void hart_cuda_scale (HartBackend * be, float *y, const float *x,
    float alpha, gsize n);
void hart_cuda_add_row_vector (HartBackend * be, float *x, const float *v,
    int rows, int dim);
void hart_cuda_clamp (HartBackend * be, float *y, const float *x, float lo,
    float hi, gsize n);
void hart_cuda_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim);

void hart_cuda_conv2d (HartBackend * be, const HartConv2dParams * p);
void hart_cuda_upsample_nearest2x (HartBackend * be, float *y,
    const float *x, int batch, int channels, int height, int width);
void hart_cuda_resize_bicubic (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w);
void hart_cuda_resize_area (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w);

G_END_DECLS

#endif /* HART_KERNELS_CUDA_PRIVATE_CUH */
