/* gst-hart — CUDA backend: bf16 products on the tensor cores
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The half-precision members of the op table (backend.h; the precision
 * mode is described in docs/precision.md): linear_half runs the weights as
 * uploaded in bf16 against x rounded to bf16, summing in fp32 (cuBLAS
 * GemmEx, which runs it on the tensor cores); to_half_heads writes the bf16
 * KV cache that attention_half (cuda-attention.cu) reads.  bf16 rounding
 * is hart_cuda_bf16_bits (cuda-private.cuh), the CPU backend's bit for bit.
 */
#include "cuda-private.cuh"

/* dst[i] = bf16 (src[i]) */
static __global__ void
round_bf16_kernel (uint16_t *dst, const float *src, gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x)
    dst[i] = hart_cuda_bf16_bits (src[i]);
}

/* n floats rounded to bf16 on the stream (the half ops' operands) */
gboolean
hart_cuda_round_bf16 (HartBackend * be, uint16_t * dst, const float *src,
    gsize n, const char *what)
{
  round_bf16_kernel <<< hart_cuda_grid_for (n), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (dst, src, n);
  return hart_cuda_check (be, what);
}

/* y [rows, out] = bf16 (x) [rows, in] · W [out, in]^T (+ bias), fp32 sums
 * and output.  x is rounded into the backend's scratch (one op at a time
 * on the stream, so it is free between ops); the GEMM is the row-major
 * product of cuda-gemm.cu's comment, in cuBLAS's column-major terms:
 * y^T [out, rows] = W [out, in] · x^T [in, rows]. */
void
hart_cuda_linear_half (HartBackend * be, float *y, const float *x,
    const uint16_t * w, HartDType w_dtype, const float *bias, int rows,
    int in, int out)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  const float one = 1.0f, zero = 0.0f;
  gsize n_x = (gsize) rows * (gsize) in;
  uint16_t *x_half;

  if (rows <= 0 || out <= 0 || !hart_cuda_enter (be))
    return;
  if (w_dtype != HART_DTYPE_BF16) {
    hart_cuda_record_error (be, HART_BACKEND_ERROR_DEVICE,
        "linear_half: weight type %d: the CUDA backend has bf16 only",
        (int) w_dtype);
    return;
  }
  x_half = (uint16_t *) hart_cuda_scratch (be, MAX (n_x, 1) * 2);
  if (x_half == NULL)
    return;
  if (!hart_cuda_round_bf16 (be, x_half, x, n_x, "linear_half (rounding x)"))
    return;
  if (!hart_cuda_check_cublas (be, cublasGemmEx (priv->cublas, CUBLAS_OP_T,
              CUBLAS_OP_N, out, rows, in, &one, w, CUDA_R_16BF, in, x_half,
              CUDA_R_16BF, in, &zero, y, CUDA_R_32F, out, CUBLAS_COMPUTE_32F,
              CUBLAS_GEMM_DEFAULT), "linear_half (cublasGemmEx bf16)"))
    return;
  if (bias != NULL)
    hart_cuda_add_bias (be, y, bias, rows, out, "linear_half (bias)");
}

/* to_half_heads (backend.h): one thread per destination element */
static __global__ void
to_half_heads_kernel (uint16_t *dst, int64_t dst_batch_stride,
    int64_t dst_head_stride, const float *src, int64_t src_batch_stride,
    int64_t src_row_stride, int len, int heads, int head_dim, gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    int d = (int) (i % head_dim);
    gsize j = i / head_dim % len;
    int h = (int) (i / ((gsize) head_dim * len) % heads);
    gsize b = i / ((gsize) head_dim * len * heads);
    dst[b * dst_batch_stride + h * dst_head_stride + j * head_dim + d] =
        hart_cuda_bf16_bits (src[b * src_batch_stride + j * src_row_stride
            + (gsize) h * head_dim + d]);
  }
}

void
hart_cuda_to_half_heads (HartBackend * be, uint16_t * dst,
    int64_t dst_batch_stride, int64_t dst_head_stride, const float *src,
    int64_t src_batch_stride, int64_t src_row_stride, int batch, int len,
    int heads, int head_dim)
{
  gsize total = (gsize) batch * len * heads * head_dim;

  if (batch <= 0 || len <= 0 || heads <= 0 || head_dim <= 0
      || !hart_cuda_enter (be))
    return;
  to_half_heads_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (dst, dst_batch_stride,
      dst_head_stride, src, src_batch_stride, src_row_stride, len, heads,
      head_dim, total);
  hart_cuda_check (be, "to_half_heads");
}

/* bf16 needs compute capability 8.0 (Ampere) for cuBLAS's tensor-core
 * path and for the attention's bf16 mma; older devices stay fp32. */
void
hart_cuda_init_half (HartBackend * be)
{
  HartCudaBackend *priv = hart_cuda_priv (be);
  int major = 0;

  if (be->half_impl != NULL)
    return;
  if (cudaDeviceGetAttribute (&major, cudaDevAttrComputeCapabilityMajor,
          priv->device) != cudaSuccess) {
    (void) cudaGetLastError ();
    major = 0;
  }
  if (major < 8) {
    be->half_impl = "none (bf16 needs compute capability 8.0)";
    return;
  }
  be->half_dtypes = 1u << HART_DTYPE_BF16;
  be->half_impl = "cuBLAS bf16 tensor cores (fp32 sums); attention: bf16 "
      "mma, fp32 softmax";
  be->half_native = TRUE;
}
