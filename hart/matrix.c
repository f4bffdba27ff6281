/* gst-hart — weight matrices in the model's precision
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart/matrix.h"

void
hart_matrix_linear (HartBackend * be, float *y, const float *x,
    const HartMatrix * m, const float *bias, int rows)
{
  if (m->dtype == HART_DTYPE_F32) {
    be->ops->linear (be, y, x, m->data, bias, rows, m->in, m->out);
    return;
  }
  /* the loader gives 16-bit matrices only where the backend has them
   * (hart_weights_set_matrix_dtype) */
  g_assert (be->ops->linear_half != NULL
      && (be->half_dtypes & (1u << m->dtype)) != 0);
  be->ops->linear_half (be, y, x, m->data, m->dtype, bias, rows, m->in, m->out);
}

HartMatrix
hart_matrix_rows (const HartMatrix * m, int r0, int n)
{
  HartMatrix view = *m;

  g_assert (r0 >= 0 && n >= 0 && r0 + n <= m->out);
  view.data = (char *) m->data + (gsize) r0 *m->in * hart_dtype_size (m->dtype);
  view.out = n;
  return view;
}

gsize
hart_matrix_bytes (const HartMatrix * m)
{
  return (gsize) m->out * m->in * hart_dtype_size (m->dtype);
}

void
hart_attention_in (HartBackend * be, const HartAttentionParams * p,
    HartDType dtype)
{
  if (dtype != HART_DTYPE_F32 && be->ops->attention_half != NULL
      && (be->half_dtypes & (1u << HART_DTYPE_BF16)) != 0) {
    be->ops->attention_half (be, p);
  } else {
    /* only the bf16 attention reads K and V in bf16 */
    g_assert (p->k_half == NULL);
    be->ops->attention (be, p);
  }
}

gboolean
hart_attention_takes_half_kv (HartBackend * be, HartDType dtype)
{
  return dtype != HART_DTYPE_F32 && be->ops->attention_half != NULL
      && be->ops->to_half_heads != NULL
      && (be->half_dtypes & (1u << HART_DTYPE_BF16)) != 0;
}

void
hart_conv2d_in (HartBackend * be, const HartConv2dParams * p, HartDType dtype)
{
  if (dtype != HART_DTYPE_F32 && be->ops->conv2d_half != NULL
      && (be->half_dtypes & (1u << HART_DTYPE_BF16)) != 0)
    be->ops->conv2d_half (be, p);
  else
    be->ops->conv2d (be, p);
}
