/* gst-hart — CPU backend: bf16 matrix products on CPUs without bf16 units
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where oneDNN has no bf16 matmul for the CPU (Debian's 2.6 on a CPU
 * without AVX-512 has only its reference loops, which the backend does not
 * use), the bf16 ops still run: the products that hart_cpu_onednn_matmul
 * would hand to oneDNN come here, their bf16 operands are widened to fp32
 * (exact: a bf16 value is the upper half of an fp32 one) and OpenBLAS
 * multiplies them.  The product of two bf16 values is exact in fp32 (8 + 8
 * significant bits, within fp32's 24), so this is the matrix units'
 * arithmetic, bf16 operands and fp32 sums, in another summation order: the
 * bf16 tolerances of docs/precision.md hold.  What it gives is the bf16
 * mode on every CPU: its memory (weights and KV cache in half the
 * bytes), its results (the same fidelity), never its speed (the products
 * run at fp32's rate, plus the widening), so "auto" does not pick it.
 *
 * Why hand-written: oneDNN 2.6 has no bf16 product for these CPUs, and
 * Debian's OpenBLAS 0.3.21 declares cblas_sbgemm but is built without it
 * (the library exports no such symbol; where it is built, its fast kernels
 * need AVX-512 BF16 as well).  Widening into an sgemm leaves the
 * arithmetic to the library; this file only converts.
 *
 * Operands arrive as oneDNN 2.x memory descriptors (plain strided layouts
 * of 2 to 4 dimensions, the leading ones batch dimensions that may
 * broadcast, as oneDNN's matmul takes them).  The product runs over
 * chunks of A's rows and tiles of B's columns (below), each widened into
 * a per-thread scratch of about WIDE_A_FLOATS (plus the zero rows of the
 * padded chunks, below) + HART_CPU_WIDE_COL_TILE · K floats (8 MiB + 8.8
 * MiB at Qwen2's widest K, 8960), kept for the thread's next call
 * (hart_cpu_thread_scratch, cpu-private.h).  The chunks
 * and tiles depend on the shapes only, and each tile's product is the fp32
 * path's single-threaded sgemm (hart_cpu_sgemm_one_thread), which gives
 * a row the same bits whatever the rows multiplied with it: a frame of a
 * batch comes out as the frame made alone, as in fp32 (docs/video.md).
 */
#include "cpu-onednn.h"

/* A's rows in chunks of at most WIDE_A_FLOATS / K rows (at least
 * WIDE_MIN_ROWS); B's columns in tiles of HART_CPU_WIDE_COL_TILE
 * (cpu-onednn.h), counted from the product's first column.  Large enough
 * that the copies and OpenBLAS's packing cost a few percent of the
 * products (tiles of 128 × 128 ran linear_half at 40–70 % of the fp32
 * linear's rate, docs/precision.md).  The column tiles are fixed, not
 * sized by N: the Zen kernel's bits for a column depend on where it sits
 * in the call (cpu-gemm.c), so a column must sit in the same tile whether
 * the caller's product is cut into panels or not (linear_half cuts its
 * panels at multiples of the tile when the products run widened). */
#define WIDE_A_FLOATS (2u << 20)
#define WIDE_MIN_ROWS 64

/* The widened tiles, one scratch per thread */
static HartCpuThreadScratch wide_scratch = HART_CPU_THREAD_SCRATCH_INIT;

/* A plain (strided, unblocked) descriptor of N_DIMS dimensions and TYPE */
static gboolean
plain_md (const dnnl_memory_desc_t * md, int n_dims, dnnl_data_type_t type)
{
  return md->ndims == n_dims && md->data_type == type
      && md->format_kind == dnnl_blocked
      && md->format_desc.blocking.inner_nblks == 0;
}

/* Element offset of the block at batch index IDX (one per leading
 * dimension) in MD: a dimension of size 1 broadcasts. */
static int64_t
batch_offset (const dnnl_memory_desc_t * md, const int64_t * idx, int n_batch)
{
  int64_t off = md->offset0;

  for (int i = 0; i < n_batch; i++)
    if (md->dims[i] != 1)
      off += idx[i] * md->format_desc.blocking.strides[i];
  return off;
}

/* DST [rows, cols] (row-major, ld cols) = the bf16 values at SRC with the
 * given strides, widened (kernels/dtype.h: exact) */
static void
widen_tile (float *dst, const uint16_t * src, int64_t rows, int64_t cols,
    int64_t row_stride, int64_t col_stride)
{
  for (int64_t r = 0; r < rows; r++) {
    const uint16_t *s = src + r * row_stride;
    float *d = dst + r * cols;
    if (col_stride == 1)
      hart_convert_to_f32 (d, s, HART_DTYPE_BF16, cols);
    else
      for (int64_t c = 0; c < cols; c++)
        d[c] = hart_bf16_to_f32 (s[c * col_stride]);
  }
}

/* C's tile [mc, nt] at CT (rows ldc apart) starts as the bias (added to C
 * when accumulating); the product then adds to it. */
static void
bias_tile (float *ct, int64_t ldc, const float *bias, int64_t bias_stride,
    int64_t mc, int64_t nt, gboolean accumulate)
{
  for (int64_t r = 0; r < mc; r++)
    for (int64_t j = 0; j < nt; j++)
      ct[r * ldc + j] = (accumulate ? ct[r * ldc + j] : 0.0f) +
          bias[j * bias_stride];
}

/* A's chunk of MC rows at A, widened into the padded row chunks of
 * cpu-gemm.c (hart_cpu_sgemm_padded_chunk): consecutive sub-chunks of at
 * most HART_CPU_GEMM_ROWS_CHUNK rows, each between its zero rows,
 * row-major [rows, k] (A_ROWS) or column-major. */
static void
widen_padded_chunks (float *aw, const uint16_t * a, int64_t a_rs,
    int64_t a_cs, gboolean a_rows, int64_t mc, int64_t k)
{
  const int64_t pad = HART_CPU_GEMM_ROWS_PAD;

  for (int64_t s0 = 0; s0 < mc; s0 += HART_CPU_GEMM_ROWS_CHUNK) {
    const int64_t rows = MIN (HART_CPU_GEMM_ROWS_CHUNK, mc - s0);
    const int64_t mp = hart_cpu_gemm_chunk_rows ((int) rows);

    if (a_rows) {
      memset (aw, 0, (gsize) (pad * k) * sizeof (float));
      widen_tile (aw + pad * k, a + s0 * a_rs, rows, k, a_rs, a_cs);
      memset (aw + (pad + rows) * k, 0,
          (gsize) ((mp - pad - rows) * k) * sizeof (float));
    } else {
      /* stored column by column (a_rs = 1): column p holds the rows */
      for (int64_t p = 0; p < k; p++) {
        float *col = aw + p * mp;
        memset (col, 0, (gsize) pad * sizeof (float));
        hart_convert_to_f32 (col + pad, a + s0 + p * a_cs, HART_DTYPE_BF16,
            (gsize) rows);
        memset (col + pad + rows, 0, (gsize) (mp - pad - rows) *
            sizeof (float));
      }
    }
    aw += mp * k;
  }
}

/* One 2-D product C [m, n] (=|+=) A [m, k] · B [k, n] (+ bias), A and B
 * bf16 with the given strides, C fp32 rows ldc apart.  BIAS: n values
 * bias_stride apart, or NULL. */
static gboolean
widened_product (float *c, int64_t ldc, const uint16_t * a, int64_t a_rs,
    int64_t a_cs, const uint16_t * b, int64_t b_rs, int64_t b_cs,
    const float *bias, int64_t bias_stride, int64_t m, int64_t n, int64_t k,
    gboolean accumulate, gboolean rows_fixed)
{
  /* rows of A per chunk and columns of B per tile, within the budgets */
  const int64_t mc_max = MIN (m, MAX (WIDE_MIN_ROWS, WIDE_A_FLOATS / k));
  const int64_t nt_step = MIN (n, HART_CPU_WIDE_COL_TILE);
  /* Where the fp32 products run in padded row chunks (every CPU whose
   * OpenBLAS kernel is not AVX-512's), A is widened straight into them,
   * once per chunk, rather than widened and then copied into them again
   * for every tile of B: the same calls of the kernel, the same bits, a
   * fifth less time where a product has many columns (docs/precision.md). */
  const gboolean padded = !rows_fixed && hart_cpu_gemm_rows_padded ();
  const int64_t n_sub = (mc_max + HART_CPU_GEMM_ROWS_CHUNK - 1) /
      HART_CPU_GEMM_ROWS_CHUNK;
  const int64_t a_floats = padded ? ((n_sub - 1) *
      hart_cpu_gemm_chunk_rows (HART_CPU_GEMM_ROWS_CHUNK) +
      hart_cpu_gemm_chunk_rows ((int) (mc_max - (n_sub - 1) *
              HART_CPU_GEMM_ROWS_CHUNK))) * k : mc_max * k;
  float *scratch = hart_cpu_thread_scratch (&wide_scratch,
      (gsize) (a_floats + nt_step * k) * sizeof (float));
  /* A's chunk as it lies in memory: rows of k (no transpose), or, for an
   * operand stored column by column, [k, rows] handed to sgemm transposed;
   * B's tile likewise: rows of n (an activation, as im2col's columns), or
   * a weight matrix W [out, in] seen as B = Wᵀ, read along W's rows */
  const gboolean a_rows = a_cs == 1 || a_rs != 1;
  const gboolean b_rows = b_cs == 1;
  float *aw, *bw;

  if (scratch == NULL)
    return FALSE;
  aw = scratch;
  bw = scratch + a_floats;
  for (int64_t m0 = 0; m0 < m; m0 += mc_max) {
    const int64_t mc = MIN (mc_max, m - m0);

    if (padded)
      widen_padded_chunks (aw, a + m0 * (a_rows ? a_rs : 1), a_rs, a_cs,
          a_rows, mc, k);
    else if (a_rows)
      widen_tile (aw, a + m0 * a_rs, mc, k, a_rs, a_cs);
    else
      widen_tile (aw, a + m0, k, mc, a_cs, 1);
    for (int64_t n0 = 0; n0 < n; n0 += nt_step) {
      const int64_t nt = MIN (nt_step, n - n0);
      const int ldb = b_rows ? (int) nt : (int) k;
      float *ct = c + m0 * ldc + n0;
      float beta = accumulate ? 1.0f : 0.0f;

      if (b_rows)
        widen_tile (bw, b + n0, k, nt, b_rs, 1);
      else
        widen_tile (bw, b + n0 * b_cs, nt, k, b_cs, b_rs);
      if (bias != NULL) {
        bias_tile (ct, ldc, bias + n0 * bias_stride, bias_stride, mc, nt,
            accumulate);
        beta = 1.0f;
      }
      if (rows_fixed) {
        /* the caller's blocks fix each row's place in the call: the
         * kernel's plain call, without the padding rows and the
         * transposed copies of C, which cost most where K is small (the
         * attention's head size) */
        cblas_sgemm (CblasRowMajor, a_rows ? CblasNoTrans : CblasTrans,
            b_rows ? CblasNoTrans : CblasTrans, (int) mc, (int) nt, (int) k,
            1.0f, aw, a_rows ? (int) k : (int) mc, bw, ldb, beta, ct,
            (int) ldc);
        continue;
      }
      if (!padded) {
        hart_cpu_sgemm_one_thread (!a_rows, !b_rows, (int) mc, (int) nt,
            (int) k, 1.0f, aw, a_rows ? (int) k : (int) mc, bw, ldb, beta,
            ct, (int) ldc);
        continue;
      }
      /* the chunks hart_cpu_sgemm_one_thread would have cut from the
       * widened A, in the same order */
      for (int64_t s0 = 0, off = 0; s0 < mc; s0 += HART_CPU_GEMM_ROWS_CHUNK) {
        const int64_t rows = MIN (HART_CPU_GEMM_ROWS_CHUNK, mc - s0);
        hart_cpu_sgemm_padded_chunk (!a_rows, !b_rows, (int) rows, (int) nt,
            (int) k, 1.0f, aw + off, bw, ldb, beta, ct + s0 * ldc, (int) ldc);
        off += hart_cpu_gemm_chunk_rows ((int) rows) * k;
      }
    }
  }
  return TRUE;
}

gboolean
hart_cpu_bf16_matmul_widened (const dnnl_memory_desc_t * src_md,
    const void *src, const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate,
    gboolean rows_fixed)
{
  const int nd = dst_md->ndims, n_batch = nd - 2;
  const int64_t *sd = src_md->format_desc.blocking.strides;
  const int64_t *wd = wei_md->format_desc.blocking.strides;
  const int64_t *dd = dst_md->format_desc.blocking.strides;
  const int64_t m = dst_md->dims[nd - 2], n = dst_md->dims[nd - 1];
  const int64_t k = src_md->dims[nd - 1];
  int64_t idx[DNNL_MAX_NDIMS] = { 0 }, n_blocks = 1;

  if (nd < 2 || nd > 4 || !plain_md (src_md, nd, dnnl_bf16)
      || !plain_md (wei_md, nd, dnnl_bf16) || !plain_md (dst_md, nd, dnnl_f32)
      || (bias_md != NULL && !plain_md (bias_md, nd, dnnl_f32))
      || dd[nd - 1] != 1 || src_md->dims[nd - 2] != m
      || wei_md->dims[nd - 2] != k || wei_md->dims[nd - 1] != n
      || (bias_md != NULL && bias_md->dims[nd - 1] != n)
      || (bias != NULL) != (bias_md != NULL)
      /* sgemm's sizes and leading dimensions are ints, and dst's rows
       * must not overlap (oneDNN allows any stride on a size-1 dimension) */
      || k > G_MAXINT || dd[nd - 2] > G_MAXINT || dd[nd - 2] < n
      || src_md->dims[nd - 2] > G_MAXINT || n > G_MAXINT)
    return FALSE;
  for (int i = 0; i < n_batch; i++) {
    if ((src_md->dims[i] != 1 && src_md->dims[i] != dst_md->dims[i])
        || (wei_md->dims[i] != 1 && wei_md->dims[i] != dst_md->dims[i])
        || (bias_md != NULL && bias_md->dims[i] != 1))
      return FALSE;
    n_blocks *= dst_md->dims[i];
  }
  if (bias_md != NULL && bias_md->dims[nd - 2] != 1)
    return FALSE;               /* a bias per row: no caller has one */
  if (m == 0 || n == 0)
    return TRUE;

  for (int64_t blk = 0; blk < n_blocks; blk++) {
    int64_t rest = blk;
    for (int i = n_batch - 1; i >= 0; i--) {
      idx[i] = rest % dst_md->dims[i];
      rest /= dst_md->dims[i];
    }
    if (k == 0) {
      /* no products: the bias, or zeros (plus dst when accumulating) */
      float *c = (float *) dst + batch_offset (dst_md, idx, n_batch);
      for (int64_t r = 0; r < m; r++)
        for (int64_t j = 0; j < n; j++) {
          float *y = c + r * dd[nd - 2] + j;
          float v = bias ? ((const float *) bias)[bias_md->offset0 +
              j * bias_md->format_desc.blocking.strides[nd - 1]] : 0.0f;
          *y = accumulate ? *y + v : v;
        }
      continue;
    }
    if (!widened_product ((float *) dst + batch_offset (dst_md, idx,
                n_batch), dd[nd - 2],
            (const uint16_t *) src + batch_offset (src_md, idx, n_batch),
            sd[nd - 2], sd[nd - 1],
            (const uint16_t *) wei + batch_offset (wei_md, idx, n_batch),
            wd[nd - 2], wd[nd - 1],
            bias ? (const float *) bias + bias_md->offset0 : NULL,
            bias_md ? bias_md->format_desc.blocking.strides[nd - 1] : 0,
            m, n, k, accumulate, rows_fixed))
      return FALSE;
  }
  return TRUE;
}
