/* gst-hart — HART_TRACE: intermediate tensors of a generation
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A debugging aid: with HART_TRACE=FILE in the environment, the tensors of
 * every stage are written to FILE (safetensors), named as the reference's
 * goldens.  Without it every function here returns at once.
 */
#include "trace.h"

#include <string.h>

/* With HART_TRACE=FILE in the environment, intermediate tensors of the
 * generation are written to FILE (debugging; names as the goldens). */
HartSafetensorsWriter *
hart_trace_begin (void)
{
  return g_getenv ("HART_TRACE") ? hart_safetensors_writer_new () : NULL;
}

void
hart_trace_end (HartSafetensorsWriter * trace)
{
  GError *error = NULL;
  if (trace == NULL)
    return;
  if (!hart_safetensors_writer_save (trace, g_getenv ("HART_TRACE"), &error)) {
    g_warning ("HART_TRACE: %s", error->message);
    g_error_free (error);
  }
  hart_safetensors_writer_free (trace);
}

/* Debugging aid: with HART_TRACE=FILE set, per-stage tensors are written
 * to FILE (safetensors, names as the reference's goldens). */
void
hart_trace_add (HartSafetensorsWriter * trace, HartBackend * be,
    const char *name, const float *data, gboolean on_device, int ndim,
    const int64_t * shape)
{
  gsize n = 1;
  float *host;
  if (trace == NULL)
    return;
  for (int i = 0; i < ndim; i++)
    n *= (gsize) shape[i];
  host = g_new (float, n);
  if (on_device)
    be->ops->download (be, host, data, n * sizeof (float));
  else
    memcpy (host, data, n * sizeof (float));
  hart_safetensors_writer_add (trace, name, HART_DTYPE_F32, ndim, shape, host);
  g_free (host);
}

void
hart_trace_stage_sampling (HartSafetensorsWriter * trace, HartBackend * be,
    int stage, const int32_t * idx, const float *logits, int batch, int l,
    int vocab)
{
  char name[64];
  float *fidx;

  if (trace == NULL)
    return;
  fidx = g_new (float, (gsize) batch * l);
  for (gsize i = 0; i < (gsize) batch * l; i++)
    fidx[i] = (float) idx[i];
  g_snprintf (name, sizeof name, "s%02d_idx", stage);
  hart_trace_add (trace, be, name, fidx, FALSE, 2, HART_SHAPE (batch, l));
  g_free (fidx);
  g_snprintf (name, sizeof name, "s%02d_logits_cfg", stage);
  hart_trace_add (trace, be, name, logits, FALSE, 3, HART_SHAPE (batch, l,
          vocab));
}

void
hart_trace_stage_latent (HartSafetensorsWriter * trace, HartBackend * be,
    int stage, const float *fhat, const float *next, int batch, int channels,
    int side, int next_side)
{
  char name[64];

  if (trace == NULL)
    return;
  g_snprintf (name, sizeof name, "s%02d_fhat", stage);
  hart_trace_add (trace, be, name, fhat, TRUE, 4, HART_SHAPE (batch, channels,
          side, side));
  g_snprintf (name, sizeof name, "s%02d_next_latent", stage);
  hart_trace_add (trace, be, name, next, TRUE, 4, HART_SHAPE (batch, channels,
          next_side, next_side));
}
