/* gst-hart — libhart error domain
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "error.h"

G_DEFINE_QUARK (hart-error-quark, hart_error);

gboolean
hart_error_if_cancelled (GCancellable * cancel, GError ** error)
{
  if (cancel == NULL || !g_cancellable_is_cancelled (cancel))
    return FALSE;
  g_set_error_literal (error, HART_ERROR, HART_ERROR_CANCELLED,
      "generation cancelled");
  return TRUE;
}
