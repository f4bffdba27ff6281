/* gst-hart — HART_TRACE: intermediate tensors of a generation (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every function takes the writer hart_trace_begin returned and does
 * nothing when it is NULL (HART_TRACE unset).
 */
#ifndef HART_TRACE_H
#define HART_TRACE_H

#include <glib.h>
#include <stdint.h>
#include "hart/safetensors-write.h"
#include "hart/weights.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

/* A writer when HART_TRACE is set, else NULL. */
HartSafetensorsWriter *hart_trace_begin (void);
/* Writes the file HART_TRACE names (a failure is a warning) and frees. */
void hart_trace_end (HartSafetensorsWriter * trace);
/* Adds tensor NAME of SHAPE, from the device when ON_DEVICE. */
void hart_trace_add (HartSafetensorsWriter * trace, HartBackend * be,
    const char *name, const float *data, gboolean on_device, int ndim,
    const int64_t * shape);
/* sNN_idx [B, l] and sNN_logits_cfg [B, l, V] of one stage (host). */
void hart_trace_stage_sampling (HartSafetensorsWriter * trace,
    HartBackend * be, int stage, const int32_t * idx, const float *logits,
    int batch, int l, int vocab);
/* sNN_fhat [B, Cv, P, P] and sNN_next_latent [B, Cv, pn', pn'] (device). */
void hart_trace_stage_latent (HartSafetensorsWriter * trace, HartBackend * be,
    int stage, const float *fhat, const float *next, int batch, int channels,
    int side, int next_side);

G_END_DECLS
#endif /* HART_TRACE_H */
