/* gst-hart — compute backend interface
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One op table, implemented once per device (kernels/cpu/, kernels/cuda/).
 * Model code (hart/) is written once over this table; a backend never knows
 * which model calls it.
 *
 * Conventions shared by every op:
 *  - All float pointers are device pointers of the backend that runs the op
 *    (host memory for the CPU backend), fp32 unless stated otherwise.
 *  - Matrices are row-major.  "Linear(in->out)" stores W as [out, in] (the
 *    PyTorch layout), y = x * W^T + b.
 *  - Sequence tensors are token-major: element (b, t, h, d) of a tensor with
 *    `heads` heads of `head_dim` lives at
 *      base + b * batch_stride + t * row_stride + h * head_dim + d
 *    so a fused QKV projection can be read in place by giving row_stride = 3C.
 *  - Image tensors are NCHW.
 *  - Ops do not fail on valid arguments.  Device errors (CUDA) are sticky:
 *    they are recorded in the backend and reported by synchronize().
 */
#ifndef HART_KERNELS_BACKEND_H
#define HART_KERNELS_BACKEND_H

#include <glib.h>
#include <stdint.h>
#include <stddef.h>
#include "kernels/dtype.h"
#include "kernels/cpu/cpu-pool.h"

G_BEGIN_DECLS

typedef struct _HartBackend HartBackend;
typedef struct _HartBackendOps HartBackendOps;

/* Parameters of one attention call.  Q has `q_heads` heads, K/V `kv_heads`
 * (grouped-query: query head h reads KV head h / (q_heads / kv_heads)).
 * Layout as described at the top of this file.  The score matrix is never
 * materialised beyond one block of queries × one block of keys. */
typedef struct
{
  int batch;
  int q_heads;
  int kv_heads;
  int q_len;
  int kv_len;
  int head_dim;
  float scale;                  /* multiplies q·k before softmax */

  const float *q;
  int64_t q_batch_stride, q_row_stride;
  const float *k;
  int64_t k_batch_stride, k_row_stride;
  const float *v;
  int64_t v_batch_stride, v_row_stride;
  float *out;                   /* [batch, q_len, q_heads * head_dim] */
  int64_t out_batch_stride, out_row_stride;

  /* Optional [batch, kv_len]; key j visible iff key_mask[b * kv_len + j] != 0 */
  const uint8_t *key_mask;
  /* Causal: key j visible to query i iff j <= i + causal_offset */
  gboolean causal;
  int causal_offset;

  /* attention_half only, optional: K and V already in bf16 (a KV cache
   * held in bf16, docs/precision.md), head-major: element (b, j, h, d) at
   *   base + b * kv_half_batch_stride + h * kv_half_head_stride
   *        + j * head_dim + d
   * (to_half_heads writes this layout).  When k_half is set, k and v are
   * not read. */
  const uint16_t *k_half, *v_half;
  int64_t kv_half_batch_stride, kv_half_head_stride;
} HartAttentionParams;

/* Parameters of one gemm_batched call: for i < batch,
 *   C_i [m, n] = alpha * op(A_i) op(B_i) + beta * C_i
 * with X_i = x + i * stride_x (element strides), row-major, op = transpose
 * when trans_* is TRUE; lda/ldb/ldc are row strides in elements.  A struct
 * because 17 positional arguments of four types are too easy to swap. */
typedef struct
{
  gboolean trans_a, trans_b;
  int m, n, k;
  int batch;
  float alpha, beta;

  const float *a;
  int lda;
  int64_t stride_a;
  const float *b;
  int ldb;
  int64_t stride_b;
  float *c;
  int ldc;
  int64_t stride_c;
} HartGemmBatchedParams;

/* Parameters of one conv2d call: 2-D convolution of NCHW images, stride 1,
 * zero padding `pad`, square kernel k:
 *   y [batch, cout, height + 2 pad - k + 1, width + 2 pad - k + 1]
 *     = conv (x [batch, cin, height, width], w [cout, cin, k, k]) + bias
 * bias [cout] may be NULL. */
typedef struct
{
  float *y;
  const float *x;
  const float *w;
  const float *bias;
  int batch, cin, height, width;
  int cout, k, pad;
} HartConv2dParams;

struct _HartBackendOps
{
  const char *name;
  /* Frees the backend itself and its private state. */
  void (*destroy) (HartBackend * be);

  /* ---- memory ---- */
  void *(*alloc) (HartBackend * be, gsize bytes, GError ** error);
  void (*free) (HartBackend * be, void *ptr);
  void (*upload) (HartBackend * be, void *dst, const void *host_src,
      gsize bytes);
  void (*download) (HartBackend * be, void *host_dst, const void *src,
      gsize bytes);
  /* Host memory for the buffers a generation copies to or from the device
   * at every stage (the logits): zeroed, freed by free_host.  On CUDA it
   * is page-locked, which copies at the bus's rate where pageable memory
   * goes through a staging buffer (the H200 run read the logits at ~2
   * GB/s: docs/performance.md, "CUDA"); the CPU backend's is its alloc's.
   * NULL only on error (out of host memory). */
  void *(*alloc_host) (HartBackend * be, gsize bytes, GError ** error);
  void (*free_host) (HartBackend * be, void *ptr);
  void (*copy) (HartBackend * be, void *dst, const void *src, gsize bytes);
  /* rows × row_bytes from src (rows src_pitch bytes apart) to dst (rows
   * dst_pitch bytes apart), device to device. */
  void (*copy_2d) (HartBackend * be, void *dst, gsize dst_pitch,
      const void *src, gsize src_pitch, gsize row_bytes, gsize rows);
  void (*fill) (HartBackend * be, float *dst, float value, gsize n);
  /* Probes the libraries for half-precision products and sets the
   * backend's half_* fields (below); idempotent.  The engine calls it only
   * when a precision other than fp32 is asked for, so an fp32 run never
   * loads them.  NULL: the backend has none. */
  void (*init_half) (HartBackend * be);
  /* Waits for queued work; reports a sticky device error. */
  gboolean (*synchronize) (HartBackend * be, GError ** error);

  /* ---- GEMM ---- */
  /* C[m,n] = alpha * op(A) op(B) + beta * C, row-major, op = transpose when
   * trans_* is TRUE.  lda/ldb/ldc are row strides in elements. */
  void (*gemm) (HartBackend * be, gboolean trans_a, gboolean trans_b,
      int m, int n, int k, float alpha, const float *a, int lda,
      const float *b, int ldb, float beta, float *c, int ldc);
  /* The same over `batch` matrices at the given element strides. */
  void (*gemm_batched) (HartBackend * be, const HartGemmBatchedParams * p);
  /* y[rows, out] = x[rows, in] · W[out, in]^T + bias[out] (bias may be NULL) */
  void (*linear) (HartBackend * be, float *y, const float *x, const float *w,
      const float *bias, int rows, int in, int out);
  /* The same with W held in a 16-bit type w_dtype (raw bf16 or f16 bits):
   * x is rounded to that type, products are summed in fp32, y and bias are
   * fp32 (docs/precision.md).  NULL on a backend without half precision;
   * w_dtype is one of HartBackend.half_dtypes. */
  void (*linear_half) (HartBackend * be, float *y, const float *x,
      const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
      int in, int out);

  /* ---- normalisation ---- */
  /* LayerNorm over the last dim; weight/bias may be NULL (no affine). */
  void (*layer_norm) (HartBackend * be, float *y, const float *x,
      const float *weight, const float *bias, int rows, int dim, float eps);
  /* y = x / sqrt(mean(x^2) + eps) * weight (weight may be NULL) */
  void (*rms_norm) (HartBackend * be, float *y, const float *x,
      const float *weight, int rows, int dim, float eps);
  /* adaLN modulation, in place: x[b, t, :] = x * (1 + scale[b, :]) + shift[b, :]
   * for x [batch, rows_per_batch, dim]; scale/shift rows are `mod_stride`
   * apart (so they can be read straight out of a fused projection). */
  void (*modulate) (HartBackend * be, float *x, const float *scale,
      const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
      int dim);
  /* GroupNorm over NCHW x [batch, channels, hw]; affine weight/bias [channels]. */
  void (*group_norm) (HartBackend * be, float *y, const float *x,
      const float *weight, const float *bias, int batch, int channels,
      int hw, int groups, float eps);

  /* ---- position ---- */
  /* Rotary embedding, half-split pairing, in place on x [batch, len, heads,
   * head_dim] (layout above): for d < head_dim/2,
   *   x'[d]      = x[d] cos[d]      - x[d+h2] sin[d]
   *   x'[d + h2] = x[d+h2] cos[d+h2] + x[d]    sin[d+h2]
   * with full-width tables cos/sin [batch, len, head_dim]; table_batch_stride
   * may be 0 to share one table.  A standard 1-D RoPE passes tables whose two
   * halves are equal; HART's image RoPE passes different halves (docs/algorithm.md §5.4). */
  void (*rope) (HartBackend * be, float *x, int64_t batch_stride,
      int64_t row_stride, const float *cos, const float *sin,
      int64_t table_batch_stride, int batch, int len, int heads,
      int head_dim);

  /* ---- attention ---- */
  void (*attention) (HartBackend * be, const HartAttentionParams * p);
  /* The same with both products in bf16 (q, k, the probabilities and v
   * rounded to bf16, sums in fp32; scale, masks, softmax statistics and
   * the output fp32; docs/precision.md).  NULL, or unusable while
   * half_dtypes lacks bf16, on a backend without it. */
  void (*attention_half) (HartBackend * be, const HartAttentionParams * p);
  /* Rounds `len` rows of a token-major tensor (layout above) to bf16, into
   * the head-major layout of HartAttentionParams.k_half:
   *   dst[b * dst_batch_stride + h * dst_head_stride + j * head_dim + d]
   *     = bf16 (src[b * src_batch_stride + j * src_row_stride
   *                 + h * head_dim + d])
   * (round to nearest even).  NULL where attention_half is. */
  void (*to_half_heads) (HartBackend * be, uint16_t * dst,
      int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
      int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
      int heads, int head_dim);

  /* ---- activations and elementwise ---- */
  void (*softmax) (HartBackend * be, float *x, int rows, int n);  /* in place */
  void (*silu) (HartBackend * be, float *y, const float *x, gsize n);
  void (*gelu) (HartBackend * be, float *y, const float *x, gsize n);      /* erf */
  void (*gelu_tanh) (HartBackend * be, float *y, const float *x, gsize n);
  /* y = silu(gate) * up */
  void (*swiglu) (HartBackend * be, float *y, const float *gate,
      const float *up, gsize n);
  void (*add) (HartBackend * be, float *y, const float *a, const float *b,
      gsize n);
  void (*mul) (HartBackend * be, float *y, const float *a, const float *b,
      gsize n);
  /* y = alpha * a + beta * b */
  void (*axpby) (HartBackend * be, float *y, float alpha, const float *a,
      float beta, const float *b, gsize n);
  void (*scale) (HartBackend * be, float *y, const float *x, float alpha,
      gsize n);
  /* x[r, :] += v[:] for x [rows, dim] */
  void (*add_row_vector) (HartBackend * be, float *x, const float *v,
      int rows, int dim);
  void (*clamp) (HartBackend * be, float *y, const float *x, float lo,
      float hi, gsize n);
  /* y[b, :] = max over t of x[b, t, :] for x [batch, len, dim] */
  void (*max_over_rows) (HartBackend * be, float *y, const float *x,
      int batch, int len, int dim);

  /* ---- lookup ---- */
  /* y[i, :] = table[ids[i], :]; ids must be in [0, n_table) (checked by the
   * caller). */
  void (*embedding) (HartBackend * be, float *y, const float *table,
      const int32_t * ids, int n, int dim);

  /* ---- images (NCHW) ---- */
  void (*conv2d) (HartBackend * be, const HartConv2dParams * p);
  /* The same with x and w rounded to bf16 and the products summed in fp32
   * (y, bias fp32; docs/precision.md).  NULL, or unusable while
   * half_dtypes lacks bf16, on a backend without it. */
  void (*conv2d_half) (HartBackend * be, const HartConv2dParams * p);
  /* y = silu (group_norm (x)) (arguments as group_norm's) for a reader that
   * rounds y to bf16 (the decoder's conv2d_half): fp32 arithmetic, but
   * summed in vector lanes and with a polynomial exp, within a few 1e-7
   * relative of group_norm then silu, not bit for bit.  NULL where
   * conv2d_half is. */
  void (*group_norm_silu_half) (HartBackend * be, float *y, const float *x,
      const float *weight, const float *bias, int batch, int channels,
      int hw, int groups, float eps);
  /* Nearest-neighbour ×2: y[c, 2h+i, 2w+j] = x[c, h, w] */
  void (*upsample_nearest2x) (HartBackend * be, float *y, const float *x,
      int batch, int channels, int height, int width);
  /* PyTorch interpolate(mode="bicubic", align_corners=False), A = -0.75 */
  void (*resize_bicubic) (HartBackend * be, float *y, const float *x,
      int batch, int channels, int in_h, int in_w, int out_h, int out_w);
  /* adaptive_avg_pool2d (PyTorch "area"), summed row-major then divided by
   * window height, then window width (docs/algorithm.md §8.3). */
  void (*resize_area) (HartBackend * be, float *y, const float *x,
      int batch, int channels, int in_h, int in_w, int out_h, int out_w);
};

struct _HartBackend
{
  const HartBackendOps *ops;
  int device_id;
  /* Host threads (>= 1): the CPU backend's ops run on them, and so do the
   * host-side loops of every backend (hart_backend_parallel_for). */
  int n_threads;
  HartCpuPool *pool;            /* those threads; owned */
  /* TRUE when ops may run from several threads at once, on separate
   * buffers (the CPU backend: an op touches its arguments only).  FALSE
   * (CUDA: one stream and one im2col scratch per backend): the engine runs
   * one generation at a time on it (hart/engine-private.h). */
  gboolean concurrent;
  /* TRUE when the backend's memory is the host's (the CPU backend): the
   * host may read a device pointer directly, without a download, so a
   * caller can skip its host copy of a large buffer. */
  gboolean host_memory;
  /* The 16-bit weight types linear_half takes, as bits 1 << HartDType (0:
   * fp32 only), and what runs them ("oneDNN 2.6.3 brg:avx512_core_amx_bf16"),
   * for logs and benchmarks.  half_native: the hardware computes in that
   * type (matrix units, bf16 dot products) rather than emulating it, so
   * the precision "auto" picks it. */
  guint half_dtypes;
  const char *half_impl;
  gboolean half_native;
  /* What runs the fp32 products ("OpenBLAS Zen kernel, padded row
   * chunks"), for logs and benchmarks; NULL: the backend's library. */
  const char *fp32_impl;
  gpointer priv;                /* backend-specific state */
};

/* Error domain for backend failures (device, out of memory). */
#define HART_BACKEND_ERROR (hart_backend_error_quark ())
GQuark hart_backend_error_quark (void);

typedef enum
{
  HART_BACKEND_ERROR_UNAVAILABLE,       /* backend not compiled / no device */
  HART_BACKEND_ERROR_OUT_OF_MEMORY,
  HART_BACKEND_ERROR_DEVICE,
} HartBackendError;

/* Backends by name: "cpu", "cuda".  device_id selects the GPU.  n_threads 0
 * means every core (hart_cpu_default_threads (): HART_NUM_THREADS when set).
 * Returns NULL and sets error when unavailable. */
HartBackend *hart_backend_new (const char *name, int device_id,
    int n_threads, GError ** error);
void hart_backend_free (HartBackend * be);
/* Runs fn over [0, n_items) in chunks of `grain` items on the backend's
 * host threads (or on the calling thread alone when they are busy with
 * another job): for host-side loops whose items are independent. */
void hart_backend_parallel_for (HartBackend * be, gsize n_items, gsize grain,
    HartCpuRangeFunc fn, gpointer data);
/* TRUE if the named backend was compiled in. */
gboolean hart_backend_is_compiled (const char *name);

/* Backend constructors (one per folder). */
HartBackend *hart_backend_cpu_new (int n_threads, GError ** error);
#ifdef HART_HAVE_CUDA
HartBackend *hart_backend_cuda_new (int device_id, GError ** error);
#endif

G_END_DECLS
#endif /* HART_KERNELS_BACKEND_H */
