/* gst-hart — backend registry
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "backend.h"

#include <math.h>
#include <string.h>

/* *INDENT-OFF* */
/* GNU indent would space out the dashes, which G_DEFINE_QUARK turns into
 * the quark's string */
G_DEFINE_QUARK (hart-backend-error-quark, hart_backend_error);
/* *INDENT-ON* */

gboolean
hart_backend_is_compiled (const char *name)
{
  if (g_strcmp0 (name, "cpu") == 0)
    return TRUE;
#ifdef HART_HAVE_CUDA
  if (g_strcmp0 (name, "cuda") == 0)
    return TRUE;
#endif
  return FALSE;
}

HartBackend *
hart_backend_new (const char *name, int device_id, int n_threads,
    GError ** error)
{
  if (g_strcmp0 (name, "cpu") == 0)
    return hart_backend_cpu_new (n_threads, error);
  if (g_strcmp0 (name, "cuda") == 0) {
#ifdef HART_HAVE_CUDA
    HartBackend *be;

    if (n_threads < 0) {
      g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
          "invalid thread count %d (expected 0 for every core, or a "
          "positive number)", n_threads);
      return NULL;
    }
    be = hart_backend_cuda_new (device_id, error);
    if (be != NULL) {
      /* host threads for host-side loops (the sampler), started when a
       * loop first needs them */
      be->n_threads = n_threads > 0 ? n_threads : hart_cpu_default_threads ();
      be->pool = hart_cpu_pool_new (be->n_threads);
    }
    return be;
#else
    g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
        "backend \"cuda\" is not compiled into this build "
        "(configure with -Dcuda=enabled and a CUDA toolkit)");
    return NULL;
#endif
  }
  g_set_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE,
      "unknown backend \"%s\" (expected \"cpu\" or \"cuda\")",
      name ? name : "(null)");
  return NULL;
}

void
hart_backend_free (HartBackend * be)
{
  HartCpuPool *pool;

  if (be == NULL)
    return;
  pool = be->pool;
  be->ops->destroy (be);
  hart_cpu_pool_free (pool);
}

void
hart_backend_parallel_for (HartBackend * be, gsize n_items, gsize grain,
    HartCpuRangeFunc fn, gpointer data)
{
  if (be == NULL || be->pool == NULL) {
    if (n_items > 0)
      fn (0, n_items, data);
    return;
  }
  hart_cpu_pool_parallel_for (be->pool, n_items, grain, fn, data);
}
