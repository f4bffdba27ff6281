/* gst-hart — libhart error domain
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every failure a user can cause (a file, a property, a buffer) is reported
 * through a GError in this domain whose message names the file, the tensor or
 * the value, what was expected and what was found.
 */
#ifndef HART_ERROR_H
#define HART_ERROR_H

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define HART_ERROR (hart_error_quark ())
GQuark hart_error_quark (void);

typedef enum
{
  HART_ERROR_NOT_FOUND,         /* missing file, folder or tensor */
  HART_ERROR_IO,                /* read error, truncated file */
  HART_ERROR_FORMAT,            /* malformed file contents (header, JSON, pickle, zip) */
  HART_ERROR_UNSUPPORTED,       /* well-formed but not implemented (dtype, config value) */
  HART_ERROR_SHAPE,             /* tensor shape or dtype differs from what the model needs */
  HART_ERROR_FORBIDDEN,         /* pickle global or opcode refused by the restricted unpickler */
  HART_ERROR_LIMIT,             /* a size beyond a sanity limit (absurd header, memory budget) */
  HART_ERROR_INVALID_ARGUMENT,  /* bad value from a caller or property */
  HART_ERROR_CANCELLED,
  HART_ERROR_NUMERIC,           /* NaN/Inf in activations */
} HartError;

/* TRUE (and HART_ERROR_CANCELLED set) when cancel is cancelled. */
gboolean hart_error_if_cancelled (GCancellable * cancel, GError ** error);

/* Index of the first NaN or ±Inf among the n floats, n when all are finite. */
gsize hart_find_non_finite (const float *x, gsize n);

/* TRUE when the n floats are all finite.  Otherwise FALSE with `code` set
 * and the message "WHAT holds NaN at element N" (or +Inf, -Inf), WHAT
 * formatted from what_fmt: e.g. "FILE: tensor \"NAME\"". */
gboolean hart_check_finite (const float *x, gsize n, GError ** error,
    gint code, const char *what_fmt, ...) G_GNUC_PRINTF (5, 6);

/* "NaN", "+Inf" or "-Inf" for a non-finite v ("finite" otherwise). */
const char *hart_non_finite_name (float v);

G_END_DECLS
#endif /* HART_ERROR_H */
