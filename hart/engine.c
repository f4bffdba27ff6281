/* gst-hart — engine: one compute device
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "auto" takes CUDA when it is compiled in and a device answers, else the
 * CPU; the engine owns its backend (kernels/backend.h).
 */
#include "hart.h"
#include "engine-private.h"

#include <string.h>

struct _HartEngine
{
  gint ref_count;
  HartBackend *be;
  char *device;
  GMutex device_lock;           /* held by hart_engine_enter when the
                                 * backend is not concurrent */
};

HartEngine *
hart_engine_new (const char *device, int device_id, GError ** error)
{
  return hart_engine_new_full (device, device_id, 0, error);
}

HartEngine *
hart_engine_new_full (const char *device, int device_id, int n_threads,
    GError ** error)
{
  HartEngine *engine;
  HartBackend *be = NULL;
  char *name;

  if (n_threads < 0 || n_threads > HART_MAX_THREADS) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "invalid thread count %d (expected 0 for every core, or 1 to %d)",
        n_threads, HART_MAX_THREADS);
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
  engine = g_new0 (HartEngine, 1);
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
