/* gst-hart — what the hart elements post on the bus
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_MESSAGES_H
#define GST_HART_MESSAGES_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* The element message "hart-progress": stage (int, 1 … n-stages),
 * n-stages (int), description (string). */
void gst_hart_post_progress (GstElement * element, gint stage,
    gint n_stages, const gchar * description);

/* Posts the error of a failed load of PATH (model, text encoder):
 * RESOURCE NOT_FOUND for a missing file or folder, RESOURCE READ for a read
 * error, RESOURCE OPEN_READ for contents that cannot be used (format,
 * shape, unsupported), with ERROR's text as debug detail. */
void gst_hart_post_load_error (GstElement * element, const gchar * what,
    const gchar * path, const GError * error);

/* Posts the error of a failed generation step: STREAM DECODE for a bad
 * token frame (format, shape), LIBRARY FAILED for the rest. */
void gst_hart_post_generate_error (GstElement * element, const GError * error);

G_END_DECLS
#endif /* GST_HART_MESSAGES_H */
