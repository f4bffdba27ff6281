/* gst-hart — CPU backend, shared internals
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Threading model: every op splits its loop over the backend's own thread
 * pool (cpu-pool.h: `be->n_threads` threads, the calling thread one of
 * them; passive waiting, chunks claimed dynamically) and calls OpenBLAS
 * single-threaded from inside its chunks.  OpenBLAS's own thread pool would
 * compete with ours on the same cores, so the backend pins OpenBLAS to one
 * thread and splits large GEMMs itself (hart_cpu_sgemm).
 *
 * Determinism: a chunk's items compute the same values whichever thread
 * runs them and wherever the chunk boundaries fall (rows, planes, tiles
 * and elements are independent), so results never depend on the schedule.
 * Where a kernel's arithmetic does depend on how it is cut (the GEMM panels
 * of hart_cpu_sgemm, the convolution's bands), the cut is a function of
 * `be->n_threads` only, as it was with OpenMP: a given thread count gives
 * the same bits whatever the load on the machine.
 *
 * Two generations may call ops of one backend at once (be->concurrent):
 * the pool runs one job at a time, and an op that finds it busy runs on its
 * calling thread alone.  No OpenMP: libgomp spins at its barriers unless
 * OMP_WAIT_POLICY is set before it loads, which a plugin cannot arrange.
 */
#ifndef HART_KERNELS_CPU_PRIVATE_H
#define HART_KERNELS_CPU_PRIVATE_H

#include "kernels/backend.h"
#include "kernels/cpu/cpu-pool.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

G_BEGIN_DECLS

/* Loops shorter than this run on one thread: a pool job costs a few
 * microseconds, about what 32 K simple float operations take. */
#define HART_CPU_PARALLEL_MIN 32768
/* Chunks per thread of a split loop: a thread the system deschedules then
 * holds back a quarter of its share, not all of it. */
#define HART_CPU_CHUNKS_PER_THREAD 4

/* ROWS rows of ROW_BYTES bytes from SRC to DST, each with its own pitch
 * (the copy_2d op, and the GEMM's padded scratch in cpu-gemm.c). */
static inline void
hart_cpu_copy_2d (void *dst, gsize dst_pitch, const void *src,
    gsize src_pitch, gsize row_bytes, gsize rows)
{
  for (gsize r = 0; r < rows; r++)
    memmove ((char *) dst + r * dst_pitch, (const char *) src + r * src_pitch,
        row_bytes);
}

/* The chunk size for a loop of n_items independent items whose total work
 * is `work` (float operations, roughly): n_items (one chunk, run inline)
 * below HART_CPU_PARALLEL_MIN or on one thread, else about
 * HART_CPU_CHUNKS_PER_THREAD chunks per thread. */
static inline gsize
hart_cpu_grain (const HartBackend * be, gsize n_items, gsize work)
{
  gsize n_chunks = (gsize) be->n_threads * HART_CPU_CHUNKS_PER_THREAD;

  if (work < HART_CPU_PARALLEL_MIN || be->n_threads <= 1 || n_items == 0)
    return MAX (n_items, 1);
  return MAX ((n_items + n_chunks - 1) / n_chunks, 1);
}

/* fn over [0, n_items) in chunks of `grain` on the backend's pool */
static inline void
hart_cpu_parallel_for (HartBackend * be, gsize n_items, gsize grain,
    HartCpuRangeFunc fn, gpointer data)
{
  hart_cpu_pool_parallel_for (be->pool, n_items, grain, fn, data);
}

/* A buffer kept per thread from one call to the next (freed when the
 * thread ends), grown to the largest size asked for: scratch that every
 * call of an op needs (cpu-gemm.c's padding, cpu-bf16-widened.c's widened
 * tiles).  Zeroed when allocated: padding rows are read, and must be
 * defined for Valgrind and MemorySanitizer.  NULL when out of memory. */
typedef struct
{
  GPrivate buf;
  GPrivate size;
} HartCpuThreadScratch;

#define HART_CPU_THREAD_SCRATCH_INIT \
  { G_PRIVATE_INIT (g_free), G_PRIVATE_INIT (NULL) }

static inline void *
hart_cpu_thread_scratch (HartCpuThreadScratch * s, gsize bytes)
{
  void *buf = g_private_get (&s->buf);

  if (buf == NULL || GPOINTER_TO_SIZE (g_private_get (&s->size)) < bytes) {
    buf = g_try_malloc0 (MAX (bytes, 1));
    if (buf == NULL)
      return NULL;
    g_private_replace (&s->buf, buf);
    g_private_set (&s->size, GSIZE_TO_POINTER (bytes));
  }
  return buf;
}

typedef uint32_t hart_v4su __attribute__((vector_size (16)));
typedef uint16_t hart_v4hu __attribute__((vector_size (8)));

/* hart_f32_to_bf16 on four fp32 values given as their bits: the bf16 bits
 * in the low halves (nearest even; a NaN stays a NaN, made quiet), one
 * rounding for the two forms below */
static inline hart_v4su
hart_cpu_bf16_round4 (hart_v4su bits)
{
  const hart_v4su rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const hart_v4su quiet = (bits >> 16) | 0x40u;
  const hart_v4su nan = (hart_v4su) ((bits & 0x7fffffffu) > 0x7f800000u);

  return (nan & quiet) | (~nan & rounded);
}

/* DST = SRC with each value rounded to bf16 and widened back to fp32:
 * what a bf16 product sees of it (the widened bf16 convolutions' im2col
 * and weights, cpu-conv-half.c). */
static inline void
hart_cpu_bf16_round_f32_row (float *dst, const float *src, gsize n)
{
  gsize i = 0;

  for (; i + 4 <= n; i += 4) {
    hart_v4su bits;
    memcpy (&bits, src + i, sizeof bits);
    bits = hart_cpu_bf16_round4 (bits) << 16;
    memcpy (dst + i, &bits, sizeof bits);
  }
  for (; i < n; i++)
    dst[i] = hart_bf16_to_f32 (hart_f32_to_bf16 (src[i]));
}

/* Makes sure OpenBLAS runs single-threaded inside our pool's chunks. */
void hart_cpu_blas_single_thread (void);

/* Row-major sgemm split into panels of C for be->n_threads threads (each
 * running single-threaded OpenBLAS on a panel).  Same arguments as
 * HartBackendOps.gemm. */
/* The BLAS kernel and how fp32 products are handed to it so that every row
 * keeps its bits whatever the rows around it (cpu-gemm.c): be->fp32_impl. */
const char *hart_cpu_gemm_describe (void);
void hart_cpu_sgemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc);
/* The same product on the calling thread alone, with the same rows'
 * bits (for callers already inside a pool chunk: the widened bf16
 * products of cpu-bf16-widened.c). */
void hart_cpu_sgemm_one_thread (gboolean trans_a, gboolean trans_b, int m,
    int n, int k, float alpha, const float *a, int lda, const float *b,
    int ldb, float beta, float *c, int ldc);

/* The padded row chunks (cpu-gemm.c, GEMM_ROWS_PADDED), for a caller that
 * builds A's chunks itself instead of having them copied (the widened bf16
 * products, which widen straight into them): whether the fp32 products run
 * that way on this CPU; a chunk holds at most HART_CPU_GEMM_ROWS_CHUNK real
 * rows after HART_CPU_GEMM_ROWS_PAD zero rows, and
 * hart_cpu_gemm_chunk_rows (mc) rows in all (the rest zero); A2 is
 * row-major [rows, k], or column-major (a2_col_major, ld rows).  The
 * product of a chunk has the bits hart_cpu_sgemm_one_thread gives its
 * rows. */
#define HART_CPU_GEMM_ROWS_PAD 8
#define HART_CPU_GEMM_ROWS_PANEL 320
#define HART_CPU_GEMM_ROWS_CHUNK \
  (HART_CPU_GEMM_ROWS_PANEL - 2 * HART_CPU_GEMM_ROWS_PAD)
gboolean hart_cpu_gemm_rows_padded (void);
int hart_cpu_gemm_chunk_rows (int mc);
void hart_cpu_sgemm_padded_chunk (gboolean a2_col_major, gboolean trans_b,
    int mc, int n, int k, float alpha, const float *a2, const float *b,
    int ldb, float beta, float *c, int ldc);

/* Op implementations, one group per file. */
/* cpu-gemm.c */
void hart_cpu_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc);
void hart_cpu_gemm_batched (HartBackend * be,
    const HartGemmBatchedParams * p);
void hart_cpu_linear (HartBackend * be, float *y, const float *x,
    const float *w, const float *bias, int rows, int in, int out);

/* cpu-onednn.c (HART_HAVE_ONEDNN): bf16 linear on oneDNN.  init (the
 * init_half op) probes oneDNN and, when it has a bf16 matmul on this CPU,
 * sets be->priv and the be->half_* fields; otherwise half_dtypes stays 0
 * and half_impl becomes "none". */
typedef struct _HartCpuHalf HartCpuHalf;
void hart_cpu_half_init (HartBackend * be);
void hart_cpu_half_free (HartCpuHalf * h);
void hart_cpu_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
    int in, int out);
/* cpu-attention-half.c (HART_HAVE_ONEDNN) */
void hart_cpu_attention_half (HartBackend * be,
    const HartAttentionParams * p);
void hart_cpu_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim);

/* cpu-attention-amx.c (HART_HAVE_AMX_ATTENTION): the bf16 attention on
 * the AMX tiles.  usable: the CPU and OS allow it (checked once), head_dim
 * is a multiple of 32 and HART_CPU_ATTENTION is not "onednn".  The kernel
 * computes batch row b from K and V in bf16, head-major (heads head_stride
 * apart), with *vt_buf as its scratch for Vᵀ (allocated with
 * posix_memalign on the first call; the caller frees it with free () after
 * the last row).  FALSE when it ran out of memory (the rows it could not
 * compute are NaN, or none was written: the caller fills the row). */
gboolean hart_cpu_attention_amx_usable (const HartAttentionParams * p);
gboolean hart_cpu_attention_amx (HartBackend * be,
    const HartAttentionParams * p, int b, const uint16_t * kh,
    const uint16_t * vh, int64_t head_stride, uint16_t ** vt_buf);

/* cpu-conv-half.c (HART_HAVE_ONEDNN) */
void hart_cpu_conv2d_half (HartBackend * be, const HartConv2dParams * p);
void hart_cpu_group_norm_silu_half (HartBackend * be, float *y,
    const float *x, const float *weight, const float *bias, int batch,
    int channels, int hw, int groups, float eps);

/* cpu-attention.c */
void hart_cpu_attention (HartBackend * be, const HartAttentionParams * p);

/* cpu-norm.c */
void hart_cpu_layer_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int rows, int dim, float eps);
void hart_cpu_rms_norm (HartBackend * be, float *y, const float *x,
    const float *weight, int rows, int dim, float eps);
void hart_cpu_modulate (HartBackend * be, float *x, const float *scale,
    const float *shift, int64_t mod_stride, int batch, int rows_per_batch,
    int dim);
void hart_cpu_group_norm (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels,
    int hw, int groups, float eps);
void hart_cpu_rope (HartBackend * be, float *x, int64_t batch_stride,
    int64_t row_stride, const float *cos, const float *sin,
    int64_t table_batch_stride, int batch, int len, int heads, int head_dim);
void hart_cpu_softmax (HartBackend * be, float *x, int rows, int n);

/* cpu-elementwise.c */
void hart_cpu_fill (HartBackend * be, float *dst, float value, gsize n);
void hart_cpu_silu (HartBackend * be, float *y, const float *x, gsize n);
void hart_cpu_gelu (HartBackend * be, float *y, const float *x, gsize n);
void hart_cpu_gelu_tanh (HartBackend * be, float *y, const float *x,
    gsize n);
void hart_cpu_swiglu (HartBackend * be, float *y, const float *gate,
    const float *up, gsize n);
void hart_cpu_add (HartBackend * be, float *y, const float *a,
    const float *b, gsize n);
void hart_cpu_mul (HartBackend * be, float *y, const float *a,
    const float *b, gsize n);
void hart_cpu_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n);
void hart_cpu_scale (HartBackend * be, float *y, const float *x, float alpha,
    gsize n);
void hart_cpu_add_row_vector (HartBackend * be, float *x, const float *v,
    int rows, int dim);
void hart_cpu_clamp (HartBackend * be, float *y, const float *x, float lo,
    float hi, gsize n);
void hart_cpu_max_over_rows (HartBackend * be, float *y, const float *x,
    int batch, int len, int dim);
void hart_cpu_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim);

/* cpu-image.c */
void hart_cpu_conv2d (HartBackend * be, const HartConv2dParams * p);
/* The same k > 1 convolution with x rounded to bf16 precision on its way
 * into im2col (p->w already rounded by the caller): bf16 operands, fp32
 * sums, at the fp32 convolution's speed (the widened bf16 products'
 * convolutions, cpu-conv-half.c). */
void hart_cpu_conv2d_bf16_rounded (HartBackend * be,
    const HartConv2dParams * p);
void hart_cpu_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width);
void hart_cpu_resize_bicubic (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w);
void hart_cpu_resize_area (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w);

G_END_DECLS
#endif /* HART_KERNELS_CPU_PRIVATE_H */
