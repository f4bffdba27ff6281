/* gst-hart — CUDA backend: gemm, gemm_batched, linear (cuBLAS, fp32)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The op table is row-major, cuBLAS is column-major.  A row-major matrix
 * M [r, c] with row stride ld is, read column-major, M^T [c, r] with the
 * same leading dimension.  So the row-major product
 *   C [m, n] = op(A) [m, k] · op(B) [k, n]
 * is computed as the column-major product
 *   C^T [n, m] = op(B)^T [n, k] · op(A)^T [k, m]
 * i.e. cuBLAS gets B first and A second, n and m swapped, and the same
 * transpose flags (the "^T" of the view and of the product cancel).
 */
#include "cuda-private.cuh"

static inline cublasOperation_t
cublas_op (gboolean trans)
{
  return trans ? CUBLAS_OP_T : CUBLAS_OP_N;
}

void
hart_cuda_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0 || !hart_cuda_enter (be))
    return;
  hart_cuda_check_cublas (be, cublasSgemm (hart_cuda_priv (be)->cublas,
          cublas_op (trans_b), cublas_op (trans_a), n, m, k, &alpha,
          b, ldb, a, lda, &beta, c, ldc), "gemm (cublasSgemm)");
}

void
hart_cuda_gemm_batched (HartBackend * be, const HartGemmBatchedParams * p)
{
  if (p->m <= 0 || p->n <= 0 || p->batch <= 0 || !hart_cuda_enter (be))
    return;
  hart_cuda_check_cublas (be,
      cublasSgemmStridedBatched (hart_cuda_priv (be)->cublas,
          cublas_op (p->trans_b), cublas_op (p->trans_a), p->n, p->m, p->k,
          &p->alpha, p->b, p->ldb, p->stride_b, p->a, p->lda, p->stride_a,
          &p->beta, p->c, p->ldc, p->stride_c, p->batch),
      "gemm_batched (cublasSgemmStridedBatched)");
}

/* y[r, o] += bias[o] for y [rows, out]. */
static __global__ void
add_bias_kernel (float *y, const float *bias, gsize rows, int out)
{
  gsize total = rows * (gsize) out;
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x)
    y[i] += bias[i % out];
}

/* y [rows, out] += bias [out] row by row (both linear ops' epilogue) */
void
hart_cuda_add_bias (HartBackend * be, float *y, const float *bias, int rows,
    int out, const char *what)
{
  gsize total = (gsize) rows * (gsize) out;

  add_bias_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, bias, (gsize) rows, out);
  hart_cuda_check (be, what);
}

/* y [rows, out] = x [rows, in] · W [out, in]^T (+ bias [out]): one GEMM with
 * B = W transposed, then the bias added row by row. */
void
hart_cuda_linear (HartBackend * be, float *y, const float *x,
    const float *w, const float *bias, int rows, int in, int out)
{
  if (rows <= 0 || out <= 0)
    return;
  hart_cuda_gemm (be, FALSE, TRUE, rows, out, in, 1.0f, x, in, w, in, 0.0f,
      y, out);
  if (bias != NULL)
    hart_cuda_add_bias (be, y, bias, rows, out, "linear (bias)");
}
