/* gst-hart — CPU backend, shared internals
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Threading model: every op parallelises with OpenMP over `be->n_threads`
 * threads and calls OpenBLAS single-threaded from inside its parallel
 * regions.  Mixing OpenBLAS's own pthread pool with libgomp's on the same
 * cores makes both spin against each other, so the backend pins OpenBLAS to
 * one thread and splits large GEMMs itself (hart_cpu_sgemm).
 */
#ifndef HART_KERNELS_CPU_PRIVATE_H
#define HART_KERNELS_CPU_PRIVATE_H

#include "kernels/backend.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

G_BEGIN_DECLS

/* Loops shorter than this run on one thread: a parallel region costs a few
 * microseconds, about what 32 K simple float operations take. */
#define HART_CPU_PARALLEL_MIN 32768

/* Makes sure OpenBLAS runs single-threaded inside our OpenMP regions. */
void hart_cpu_blas_single_thread (void);

/* Row-major sgemm split across `n_threads` OpenMP threads (each running
 * single-threaded OpenBLAS on a panel of C).  Same arguments as
 * HartBackendOps.gemm. */
void hart_cpu_sgemm (int n_threads, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc);

/* Op implementations, one group per file. */
/* cpu-gemm.c */
void hart_cpu_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc);
void hart_cpu_gemm_batched (HartBackend * be,
    const HartGemmBatchedParams * p);
void hart_cpu_linear (HartBackend * be, float *y, const float *x,
    const float *w, const float *bias, int rows, int in, int out);

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
void hart_cpu_upsample_nearest2x (HartBackend * be, float *y, const float *x,
    int batch, int channels, int height, int width);
void hart_cpu_resize_bicubic (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w);
void hart_cpu_resize_area (HartBackend * be, float *y, const float *x,
    int batch, int channels, int in_h, int in_w, int out_h, int out_w);

G_END_DECLS
#endif /* HART_KERNELS_CPU_PRIVATE_H */
