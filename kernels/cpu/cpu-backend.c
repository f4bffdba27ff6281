/* gst-hart — CPU compute backend (C + OpenBLAS + its own thread pool):
 * construction, memory and the op table
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reference backend: fp32 everywhere, GEMMs through CBLAS, loops
 * through the backend's thread pool (cpu-pool.c); with oneDNN, also bf16
 * weights for the linear layers (cpu-onednn.c, docs/precision.md).  The ops live in
 * cpu-gemm.c, cpu-attention.c, cpu-norm.c, cpu-elementwise.c and
 * cpu-image.c; this file builds the table.
 */
#include "cpu-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Buffers are aligned for AVX-512 loads and whole cache lines. */
#define HART_CPU_ALIGNMENT 64

void
hart_cpu_blas_single_thread (void)
{
#ifdef HART_HAVE_OPENBLAS_THREADS
  if (openblas_get_num_threads () != 1)
    openblas_set_num_threads (1);
#endif
}

static void
cpu_destroy (HartBackend * be)
{
#ifdef HART_HAVE_ONEDNN
  hart_cpu_half_free (be->priv);
#endif
  g_free (be);
}

static void *
cpu_alloc (HartBackend * be, gsize bytes, GError ** error)
{
  void *ptr = NULL;
  /* posix_memalign (0) may return NULL; callers expect a distinct pointer */
  gsize request = bytes > 0 ? bytes : HART_CPU_ALIGNMENT;
  int rc = posix_memalign (&ptr, HART_CPU_ALIGNMENT, request);

  if (rc != 0 || ptr == NULL) {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_OUT_OF_MEMORY,
        "cpu backend: cannot allocate %" G_GSIZE_FORMAT " bytes (%.1f MiB): %s",
        bytes, bytes / (1024.0 * 1024.0), g_strerror (rc ? rc : ENOMEM));
    return NULL;
  }
  return ptr;
}

static void
cpu_free (HartBackend * be, void *ptr)
{
  free (ptr);
}

/* the backend's memory is the host's: an alloc, zeroed */
static void *
cpu_alloc_host (HartBackend * be, gsize bytes, GError ** error)
{
  void *ptr = cpu_alloc (be, bytes, error);

  if (ptr != NULL && bytes > 0)
    memset (ptr, 0, bytes);
  return ptr;
}

static void
cpu_copy (HartBackend * be, void *dst, const void *src, gsize bytes)
{
  if (bytes > 0 && dst != src)
    memmove (dst, src, bytes);
}

static void
cpu_copy_2d (HartBackend * be, void *dst, gsize dst_pitch, const void *src,
    gsize src_pitch, gsize row_bytes, gsize rows)
{
  hart_cpu_copy_2d (dst, dst_pitch, src, src_pitch, row_bytes, rows);
}

static gboolean
cpu_synchronize (HartBackend * be, GError ** error)
{
  /* Every op returns when its work is done; nothing is ever queued. */
  return TRUE;
}

static const HartBackendOps cpu_ops = {
  .name = "cpu",
  .destroy = cpu_destroy,

  .alloc = cpu_alloc,
  .free = cpu_free,
  .upload = cpu_copy,
  .download = cpu_copy,
  .alloc_host = cpu_alloc_host,
  .free_host = cpu_free,
  .copy = cpu_copy,
  .copy_2d = cpu_copy_2d,
  .fill = hart_cpu_fill,
  .synchronize = cpu_synchronize,
#ifdef HART_HAVE_ONEDNN
  .init_half = hart_cpu_half_init,
#endif

  .gemm = hart_cpu_gemm,
  .gemm_batched = hart_cpu_gemm_batched,
  .linear = hart_cpu_linear,
#ifdef HART_HAVE_ONEDNN
  .linear_half = hart_cpu_linear_half,
#endif

  .layer_norm = hart_cpu_layer_norm,
  .rms_norm = hart_cpu_rms_norm,
  .modulate = hart_cpu_modulate,
  .group_norm = hart_cpu_group_norm,

  .rope = hart_cpu_rope,

  .attention = hart_cpu_attention,
#ifdef HART_HAVE_ONEDNN
  .attention_half = hart_cpu_attention_half,
  .to_half_heads = hart_cpu_to_half_heads,
#endif

  .softmax = hart_cpu_softmax,
  .silu = hart_cpu_silu,
  .gelu = hart_cpu_gelu,
  .gelu_tanh = hart_cpu_gelu_tanh,
  .swiglu = hart_cpu_swiglu,
  .add = hart_cpu_add,
  .mul = hart_cpu_mul,
  .axpby = hart_cpu_axpby,
  .scale = hart_cpu_scale,
  .add_row_vector = hart_cpu_add_row_vector,
  .clamp = hart_cpu_clamp,
  .max_over_rows = hart_cpu_max_over_rows,

  .embedding = hart_cpu_embedding,

  .conv2d = hart_cpu_conv2d,
#ifdef HART_HAVE_ONEDNN
  .conv2d_half = hart_cpu_conv2d_half,
  .group_norm_silu_half = hart_cpu_group_norm_silu_half,
#endif
  .upsample_nearest2x = hart_cpu_upsample_nearest2x,
  .resize_bicubic = hart_cpu_resize_bicubic,
  .resize_area = hart_cpu_resize_area,
};

HartBackend *
hart_backend_cpu_new (int n_threads, GError ** error)
{
  HartBackend *be;

  if (n_threads < 0) {
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "cpu backend: invalid thread count %d (expected 0 for every core, "
        "or a positive number)", n_threads);
    return NULL;
  }
  if (n_threads == 0)
    n_threads = hart_cpu_default_threads ();

  hart_cpu_blas_single_thread ();

  be = g_new0 (HartBackend, 1);
  be->ops = &cpu_ops;
  be->device_id = 0;
  be->n_threads = n_threads;
  be->concurrent = TRUE;
  be->host_memory = TRUE;
  be->fp32_impl = hart_cpu_gemm_describe ();
  be->pool = hart_cpu_pool_new (n_threads);
  be->priv = NULL;
  return be;
}
