/* gst-hart — moving checkpoint tensors into backend memory
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Model code asks for a tensor by name and exact shape; the loader checks
 * both against the checkpoint (error names tensor, file, expected and found),
 * converts to f32, uploads to the backend and keeps the allocation so the
 * model frees everything in one call.
 */
#ifndef HART_WEIGHTS_H
#define HART_WEIGHTS_H

#include <glib.h>
#include "hart/checkpoint.h"
#include "kernels/backend.h"
#include "hart/matrix.h"

G_BEGIN_DECLS

typedef struct _HartWeights HartWeights;

/* Loader over `ckpt` (not owned) uploading to `be` (not owned); every name
 * asked for is prefixed with `prefix` (e.g. "vae." or "diffloss.net."). */
HartWeights *hart_weights_new (HartBackend * be, HartCheckpoint * ckpt,
    const char *prefix);
/* Frees every buffer this loader uploaded. */
void hart_weights_free (HartWeights * w);

/* The tensor `prefix + name` with exactly the given shape, as a device
 * pointer owned by the loader; NULL with an error otherwise. */
float *hart_weights_get (HartWeights * w, int ndim, const int64_t * shape,
    GError ** error, const char *name_fmt, ...) G_GNUC_PRINTF (5, 6);

/* Same, but a missing tensor is not an error: returns NULL and leaves
 * error unset (a wrong shape or dtype still is). */
float *hart_weights_get_optional (HartWeights * w, int ndim,
    const int64_t * shape, GError ** error, const char *name_fmt, ...)
    G_GNUC_PRINTF (5, 6);

/* The type hart_weights_get_matrix holds matrices in: HART_DTYPE_F32 (the
 * default) or a 16-bit type of the backend's half_dtypes (the engine's
 * precision, docs/precision.md). */
void hart_weights_set_matrix_dtype (HartWeights * w, HartDType dtype);
HartDType hart_weights_get_matrix_dtype (const HartWeights * w);

/* The weight matrix `prefix + name` of shape [out, in], held in the
 * loader's matrix type (rounded to nearest even from the checkpoint's
 * values; a bf16 checkpoint read into bf16 is copied exactly). */
gboolean hart_weights_get_matrix (HartWeights * w, HartMatrix * m, int out,
    int in, GError ** error, const char *name_fmt, ...) G_GNUC_PRINTF (6, 7);

/* Device scratch owned by the loader (zeroed), for derived tables. */
float *hart_weights_alloc (HartWeights * w, gsize n_floats, GError ** error);

/* Bytes uploaded so far. */
guint64 hart_weights_bytes (const HartWeights * w);

HartBackend *hart_weights_backend (const HartWeights * w);

/* Shape helpers: HART_SHAPE (a, b, …) → (const int64_t[]){a, b, …} */
#define HART_SHAPE(...) ((const int64_t[]){ __VA_ARGS__ })
#define HART_NDIM(...) ((int) (sizeof ((const int64_t[]){ __VA_ARGS__ }) / sizeof (int64_t)))
/* hart_weights_get (w, HART_DIMS (a, b), error, "name") */
#define HART_DIMS(...) HART_NDIM (__VA_ARGS__), HART_SHAPE (__VA_ARGS__)

G_END_DECLS
#endif /* HART_WEIGHTS_H */
