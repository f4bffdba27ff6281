/* gst-hart — libhart error domain
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "error.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* *INDENT-OFF* */
/* GNU indent would space out the dashes, which G_DEFINE_QUARK turns into
 * the quark's string */
G_DEFINE_QUARK (hart-error-quark, hart_error);
/* *INDENT-ON* */

gboolean
hart_error_if_cancelled (GCancellable * cancel, GError ** error)
{
  if (cancel == NULL || !g_cancellable_is_cancelled (cancel))
    return FALSE;
  g_set_error_literal (error, HART_ERROR, HART_ERROR_CANCELLED,
      "generation cancelled");
  return TRUE;
}

/* Exponent bits all set: NaN or ±Inf.  Tested on the bits rather than with
 * isfinite () so that the loop over a chunk is plain integer arithmetic that
 * vectorises (the scan of a tensor costs about one pass over its memory)
 * and stays correct under -ffinite-math-only: adding one to the exponent
 * field carries into the sign bit only when the field is all ones. */
static inline guint32
non_finite_bit (const float *v)
{
  guint32 bits;
  memcpy (&bits, v, sizeof bits);
  return ((bits & 0x7f800000u) + 0x00800000u) & 0x80000000u;
}

#define SCAN_CHUNK 4096

gsize
hart_find_non_finite (const float *x, gsize n)
{
  gsize start = 0;

  /* Whole chunks first: a constant trip count lets -O2 vectorise the loop.
   * Then the tail, and the exact index only once a chunk is known bad. */
  for (; start < n; start += SCAN_CHUNK) {
    const gsize len = MIN (SCAN_CHUNK, n - start);
    const float *chunk = x + start;
    guint32 bad = 0;
    if (len == SCAN_CHUNK) {
      for (gsize i = 0; i < SCAN_CHUNK; i++)
        bad |= non_finite_bit (&chunk[i]);
    } else {
      for (gsize i = 0; i < len; i++)
        bad |= non_finite_bit (&chunk[i]);
    }
    if (G_UNLIKELY (bad))
      for (gsize i = 0; i < len; i++)
        if (non_finite_bit (&chunk[i]))
          return start + i;
  }
  return n;
}

const char *
hart_non_finite_name (float v)
{
  if (isnan (v))
    return "NaN";
  if (isinf (v))
    return v > 0 ? "+Inf" : "-Inf";
  return "finite";
}

gboolean
hart_check_finite (const float *x, gsize n, GError ** error, gint code,
    const char *what_fmt, ...)
{
  const gsize i = hart_find_non_finite (x, n);
  va_list args;
  char *what;

  if (G_LIKELY (i == n))
    return TRUE;
  va_start (args, what_fmt);
  what = g_strdup_vprintf (what_fmt, args);
  va_end (args);
  g_set_error (error, HART_ERROR, code, "%s holds %s at element %"
      G_GSIZE_FORMAT, what, hart_non_finite_name (x[i]), i);
  g_free (what);
  return FALSE;
}
