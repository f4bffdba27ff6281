/* gst-hart — weight matrices in the model's precision (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The linear layers' weights are held once, in the precision the engine
 * runs (docs/precision.md): fp32, or bf16 on a backend with half-precision
 * products.  Model code holds a HartMatrix and calls hart_matrix_linear,
 * which picks the backend's op for the matrix's type; everything around
 * the products (norms, RoPE, softmax, residuals, biases) stays fp32.
 */
#ifndef HART_MATRIX_H
#define HART_MATRIX_H

#include <glib.h>
#include "kernels/backend.h"

G_BEGIN_DECLS

typedef struct
{
  /* device pointer to [out, in] row-major: float for HART_DTYPE_F32, raw
   * 16-bit values for HART_DTYPE_BF16 / HART_DTYPE_F16 */
  gpointer data;
  HartDType dtype;
  int out, in;
} HartMatrix;

/* y[rows, out] = x[rows, in] · Mᵀ + bias[out] (bias may be NULL). */
void hart_matrix_linear (HartBackend * be, float *y, const float *x,
    const HartMatrix * m, const float *bias, int rows);

/* Attention in the precision of a model whose matrices are of type
 * DTYPE: bf16 products where the matrices are 16-bit and the backend has
 * them, fp32 otherwise. */
void hart_attention_in (HartBackend * be, const HartAttentionParams * p,
    HartDType dtype);

/* TRUE when hart_attention_in runs DTYPE's attention in bf16 and can take
 * K and V already rounded (HartAttentionParams.k_half, written by the
 * backend's to_half_heads): a model then holds its KV cache in bf16. */
gboolean hart_attention_takes_half_kv (HartBackend * be, HartDType dtype);

/* A convolution in the same way: bf16 products for DTYPE ≠ F32 where the
 * backend has them. */
void hart_conv2d_in (HartBackend * be, const HartConv2dParams * p,
    HartDType dtype);

/* Rows [r0, r0 + n) of M, as a matrix of its own (no copy). */
HartMatrix hart_matrix_rows (const HartMatrix * m, int r0, int n);

/* Bytes M occupies. */
gsize hart_matrix_bytes (const HartMatrix * m);

G_END_DECLS
#endif /* HART_MATRIX_H */
