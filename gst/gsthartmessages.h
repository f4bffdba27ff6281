/* gst-hart — what the hart elements post on the bus
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_MESSAGES_H
#define GST_HART_MESSAGES_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* The element message "hart-progress": frame (guint64, the number of the
 * frame in the stream: its buffer offset, GST_BUFFER_OFFSET_NONE when not
 * known), pts (guint64, the frame's PTS, GST_CLOCK_TIME_NONE when not
 * known), frames (guint, how many successive frames, FRAME first, the
 * generation makes: 1, or a batch's length), stage (int, 0 … n-stages),
 * n-stages (int), description (string).  docs/elements.md, "Bus
 * messages". */
void gst_hart_post_progress (GstElement * element, guint64 frame,
    GstClockTime pts, guint frames, gint stage, gint n_stages,
    const gchar * description);

/* Posts the error of a failed load of PATH (model, text encoder):
 * RESOURCE NOT_FOUND for a missing file or folder, RESOURCE READ for a read
 * error, RESOURCE OPEN_READ for contents that cannot be used (format,
 * shape, unsupported), with ERROR's text as debug detail. */
void gst_hart_post_load_error (GstElement * element, const gchar * what,
    const gchar * path, const GError * error);

/* Posts the error of an engine that could not be created on DEVICE
 * ("auto", "cpu", "cuda") in PRECISION ("fp32", "bf16", …): LIBRARY
 * SETTINGS when the device lacks the precision (HART_ERROR_UNSUPPORTED,
 * docs/errors.md E93), LIBRARY INIT otherwise (E57). */
void gst_hart_post_engine_error (GstElement * element, const gchar * device,
    const gchar * precision, const GError * error);

/* Posts the error of a failed generation step: STREAM DECODE for a bad
 * token frame (format, shape), LIBRARY FAILED for the rest. */
void gst_hart_post_generate_error (GstElement * element, const GError * error);

/* The name of a model for messages: the folder's name, or the bundled
 * model's name (HART_BUNDLED_MODEL_NAME) when MODEL_PATH (the model-path
 * property) is NULL or empty.  Free with g_free (). */
gchar *gst_hart_model_name (const gchar * model_path);

/* TEXT as valid UTF-8 (invalid bytes replaced by U+FFFD), for the debug
 * part of an error message: GStreamer drops debug text that is not UTF-8.
 * Free with g_free (). */
gchar *gst_hart_debug_text (const gchar * text);

/* One ERROR message per failure.  The element's own error says what went
 * wrong; GStreamer's base classes may add generic ones for the same
 * failure (GstBaseSrc: "Failed to start" after start () fails, "Internal
 * data stream error" after create () returns GST_FLOW_ERROR), and a
 * failing set_caps is called again on each retry.  An element keeps a
 * GstHartErrorOnce, calls gst_hart_error_once_post_message () from its
 * post_message vfunc and gst_hart_error_once_reset () when a new attempt
 * starts (start, flush, a frame produced). */
typedef struct
{
  gboolean posted;              /* an error of this attempt is on the bus */
  GQuark domain;
  gint code;
} GstHartErrorOnce;

void gst_hart_error_once_reset (GstElement * element, GstHartErrorOnce * once);

/* The post_message vfunc's body: passes MESSAGE on to PARENT_POST, or
 * drops it (and returns TRUE) when it repeats the error already posted. */
gboolean gst_hart_error_once_post_message (GstElement * element,
    GstHartErrorOnce * once, GstMessage * message,
    gboolean (*parent_post) (GstElement *, GstMessage *));

G_END_DECLS
#endif /* GST_HART_MESSAGES_H */
