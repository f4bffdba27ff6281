/* gst-hart — engine: one compute device
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "auto" takes CUDA when it is compiled in and a device answers, else the
 * CPU; the engine owns its backend (kernels/backend.h).
 */
#include "hart.h"
#include "engine-private.h"
#include "kernels/op-timing.h"

#include <string.h>

struct _HartEngine
{
  gint ref_count;
  HartBackend *be;
  char *device;
  GMutex device_lock;           /* held by hart_engine_enter when the
                                 * backend is not concurrent */
  HartPrecision precision;      /* resolved: never AUTO */
  char *precision_impl;
};

static const char *const precision_names[] = {
  [HART_PRECISION_FP32] = "fp32",
  [HART_PRECISION_BF16] = "bf16",
  [HART_PRECISION_FP16] = "fp16",
  [HART_PRECISION_AUTO] = "auto",
};

const char *
hart_precision_to_string (HartPrecision precision)
{
  if ((unsigned) precision >= G_N_ELEMENTS (precision_names))
    return "?";
  return precision_names[precision];
}

gboolean
hart_precision_from_string (const char *name, HartPrecision * precision,
    GError ** error)
{
  for (guint i = 0; i < G_N_ELEMENTS (precision_names); i++) {
    if (g_strcmp0 (name, precision_names[i]) == 0) {
      *precision = (HartPrecision) i;
      return TRUE;
    }
  }
  g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
      "unknown precision \"%s\" (expected fp32, bf16, fp16 or auto)",
      name ? name : "(null)");
  return FALSE;
}

HartDType
hart_precision_matrix_dtype (HartPrecision precision)
{
  switch (precision) {
    case HART_PRECISION_BF16:
      return HART_DTYPE_BF16;
    case HART_PRECISION_FP16:
      return HART_DTYPE_F16;
    default:
      return HART_DTYPE_F32;
  }
}

/* AUTO → what the hardware computes fastest; an explicit half precision
 * the backend lacks → HART_ERROR_UNSUPPORTED naming the reason. */
static gboolean
resolve_precision (HartBackend * be, const char *device,
    HartPrecision requested, HartPrecision * resolved, GError ** error)
{
  HartDType dtype;

  if (requested != HART_PRECISION_FP32 && be->ops->init_half != NULL)
    be->ops->init_half (be);
  if (requested == HART_PRECISION_AUTO) {
    *resolved = (be->half_native && (be->half_dtypes & (1u << HART_DTYPE_BF16)))
        ? HART_PRECISION_BF16 : HART_PRECISION_FP32;
    g_debug ("precision auto on %s: %s (%s)", device,
        hart_precision_to_string (*resolved), be->half_impl ? be->half_impl :
        "no half-precision products on this device");
    return TRUE;
  }
  dtype = hart_precision_matrix_dtype (requested);
  if (dtype != HART_DTYPE_F32 && !(be->half_dtypes & (1u << dtype))) {
    const char *why;
    if (strcmp (be->ops->name, "cpu") != 0)
      why = be->half_dtypes != 0 ? "this backend has bf16 only" :
          be->half_impl != NULL ? be->half_impl : "this backend runs fp32 only";
    else if (be->ops->init_half == NULL)
      why = "this build has no oneDNN (libdnnl-dev; meson option onednn)";
    else if (be->half_dtypes == 0)
      why = "oneDNN could not be set up (out of memory?)";
    else
      why = "the CPU backend has bf16 only";
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "precision %s is not available on device %s: %s (use fp32 or auto)",
        hart_precision_to_string (requested), device, why);
    return FALSE;
  }
  *resolved = requested;
  return TRUE;
}

HartEngine *
hart_engine_new (const char *device, int device_id, GError ** error)
{
  return hart_engine_new_full (device, device_id, 0, error);
}

HartEngine *
hart_engine_new_full (const char *device, int device_id, int n_threads,
    GError ** error)
{
  return hart_engine_new_with_precision (device, device_id, n_threads,
      HART_PRECISION_FP32, error);
}

HartEngine *
hart_engine_new_with_precision (const char *device, int device_id,
    int n_threads, HartPrecision precision, GError ** error)
{
  HartPrecision resolved;
  HartEngine *engine;
  HartBackend *be = NULL;
  char *name;

  if (n_threads < 0 || n_threads > HART_MAX_THREADS) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "invalid thread count %d (expected 0 for every core, or 1 to %d)",
        n_threads, HART_MAX_THREADS);
    return NULL;
  }
  if ((unsigned) precision > HART_PRECISION_AUTO) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "invalid precision %d", (int) precision);
    return NULL;
  }
  if (device == NULL || strcmp (device, "auto") == 0) {
    GError *local = NULL;
    if (hart_backend_is_compiled ("cuda"))
      be = hart_backend_new ("cuda", device_id, n_threads, &local);
    if (be == NULL) {
      g_debug ("device auto: using the CPU (%s)",
          local ? local->message : "CUDA backend not compiled");
      g_clear_error (&local);
      be = hart_backend_new ("cpu", 0, n_threads, error);
    } else {
      g_debug ("device auto: using CUDA device %d", device_id);
    }
  } else if (strcmp (device, "cpu") == 0 || strcmp (device, "cuda") == 0) {
    be = hart_backend_new (device, device_id, n_threads, error);
  } else {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "unknown device \"%s\" (expected \"auto\", \"cpu\" or \"cuda\")",
        device);
  }
  if (be == NULL)
    return NULL;

  if (strcmp (be->ops->name, "cpu") == 0)
    name = g_strdup ("cpu");
  else
    name = g_strdup_printf ("%s:%d", be->ops->name, be->device_id);
  if (!resolve_precision (be, name, precision, &resolved, error)) {
    hart_backend_free (be);
    g_free (name);
    return NULL;
  }
  engine = g_new0 (HartEngine, 1);
  engine->precision = resolved;
  engine->precision_impl = resolved == HART_PRECISION_FP32 ?
      g_strdup_printf ("fp32 (%s)", be->fp32_impl ? be->fp32_impl :
      strcmp (be->ops->name,
          "cpu") == 0 ? "CBLAS" : "cuBLAS") : g_strdup_printf ("%s (%s)",
      hart_precision_to_string (resolved), be->half_impl);
  engine->ref_count = 1;
  engine->be = be;
  engine->device = name;
  g_mutex_init (&engine->device_lock);
  return engine;
}

HartEngine *
hart_engine_ref (HartEngine * engine)
{
  g_atomic_int_inc (&engine->ref_count);
  return engine;
}

void
hart_engine_unref (HartEngine * engine)
{
  if (engine == NULL || !g_atomic_int_dec_and_test (&engine->ref_count))
    return;
  hart_backend_free (engine->be);
  g_mutex_clear (&engine->device_lock);
  g_free (engine->precision_impl);
  g_free (engine->device);
  g_free (engine);
}

int
hart_engine_get_n_threads (const HartEngine * engine)
{
  return engine->be->n_threads;
}

const char *
hart_engine_get_device (const HartEngine * engine)
{
  return engine->device;
}

gboolean
hart_engine_has_host_memory (const HartEngine * engine)
{
  return engine->be->host_memory;
}

HartPrecision
hart_engine_get_precision (const HartEngine * engine)
{
  return engine->precision;
}

const char *
hart_engine_get_precision_impl (const HartEngine * engine)
{
  return engine->precision_impl;
}

HartDType
hart_engine_get_matrix_dtype (const HartEngine * engine)
{
  return hart_precision_matrix_dtype (engine->precision);
}

void
hart_engine_time_ops (HartEngine * engine)
{
  g_return_if_fail (engine != NULL);
  hart_backend_time_ops (engine->be);
}

int
hart_engine_get_op_times (const HartEngine * engine, HartOpTime * times,
    int n_times)
{
  HartOpTotal totals[HART_N_TIMED];

  g_return_val_if_fail (engine != NULL && n_times >= 0, 0);
  g_return_val_if_fail (times != NULL || n_times == 0, 0);
  if (!hart_backend_get_op_totals (engine->be, totals))
    return 0;
  for (int i = 0; i < MIN (n_times, HART_N_TIMED); i++) {
    times[i].op = totals[i].op;
    times[i].calls = totals[i].calls;
    times[i].seconds = totals[i].ns / 1e9;
    times[i].flops = (double) totals[i].flops;
  }
  return HART_N_TIMED;
}

HartBackend *
hart_engine_get_backend (HartEngine * engine)
{
  return engine->be;
}

void
hart_engine_enter (HartEngine * engine)
{
  if (!engine->be->concurrent)
    g_mutex_lock (&engine->device_lock);
}

void
hart_engine_leave (HartEngine * engine)
{
  if (!engine->be->concurrent)
    g_mutex_unlock (&engine->device_lock);
}
