/* gst-hart — what the hart elements post on the bus
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartmessages.h"
#include "hart/error.h"
#include "hart/bundled-model.h"

#include <glib/gi18n-lib.h>

void
gst_hart_post_progress (GstElement * element, guint64 frame,
    GstClockTime pts, guint frames, gint stage, gint n_stages,
    const gchar * description)
{
  /* frame and pts tie the message to the buffer it is about: with a queue
   * between hartsrc and hartrefine both work on different frames at once */
  GstStructure *s = gst_structure_new ("hart-progress",
      "frame", G_TYPE_UINT64, frame,
      "pts", G_TYPE_UINT64, pts,
      "frames", G_TYPE_UINT, frames,
      "stage", G_TYPE_INT, stage,
      "n-stages", G_TYPE_INT, n_stages,
      "description", G_TYPE_STRING, description ? description : "", NULL);

  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT (element), s));
}

/* GLib's rule for a message's debug text is UTF-8 (gst_message_new_error
 * drops any other with a g_warning); libhart's messages quote bytes of the
 * input (paths, token frame fields) that need not be UTF-8. */
gchar *
gst_hart_debug_text (const gchar * text)
{
  return g_utf8_make_valid (text ? text : "", -1);
}

/* The folder's name, made UTF-8 (it goes into translatable messages). */
gchar *
gst_hart_model_name (const gchar * model_path)
{
  gchar *base, *name;

  if (model_path == NULL || model_path[0] == '\0')
    return g_strdup (HART_BUNDLED_MODEL_NAME);
  base = g_path_get_basename (model_path);
  name = g_utf8_make_valid (base, -1);
  g_free (base);
  return name;
}

static gchar *
debug_text (const GError * error)
{
  return gst_hart_debug_text (error->message);
}

void
gst_hart_post_engine_error (GstElement * element, const gchar * device,
    const gchar * precision, const GError * error)
{
  if (g_error_matches (error, HART_ERROR, HART_ERROR_UNSUPPORTED))
    GST_ELEMENT_ERROR (element, LIBRARY, SETTINGS,
        (_("Precision \"%s\" is not available on the compute device "
                "\"%s\"."), precision, device), ("%s", error->message));
  else
    GST_ELEMENT_ERROR (element, LIBRARY, INIT,
        (_("Could not open the compute device \"%s\"."), device),
        ("%s", error->message));
}

void
gst_hart_post_load_error (GstElement * element, const gchar * what,
    const gchar * path, const GError * error)
{
  const gint code = error->domain == HART_ERROR ? error->code : -1;
  gchar *debug = debug_text (error);
  gchar *shown = g_utf8_make_valid (path, -1);

  path = shown;
  switch (code) {
    case HART_ERROR_NOT_FOUND:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          (_("Could not find the %s at \"%s\"."), what, path), ("%s", debug));
      break;
    case HART_ERROR_IO:
      GST_ELEMENT_ERROR (element, RESOURCE, READ,
          (_("Could not read the %s at \"%s\"."), what, path), ("%s", debug));
      break;
    case HART_ERROR_INVALID_ARGUMENT:
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          (_("Invalid settings for the %s at \"%s\"."), what, path),
          ("%s", debug));
      break;
    default:
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
          (_("Could not load the %s at \"%s\"."), what, path), ("%s", debug));
      break;
  }
  g_free (shown);
  g_free (debug);
}

void
gst_hart_post_generate_error (GstElement * element, const GError * error)
{
  const gint code = error->domain == HART_ERROR ? error->code : -1;
  gchar *debug = debug_text (error);

  switch (code) {
    case HART_ERROR_FORMAT:
    case HART_ERROR_SHAPE:
    case HART_ERROR_LIMIT:
      GST_ELEMENT_ERROR (element, STREAM, DECODE,
          (_("Could not use the token frame.")), ("%s", debug));
      break;
    default:
      GST_ELEMENT_ERROR (element, LIBRARY, FAILED,
          (_("Image generation failed.")), ("%s", debug));
      break;
  }
  g_free (debug);
}

void
gst_hart_error_once_reset (GstElement * element, GstHartErrorOnce * once)
{
  GST_OBJECT_LOCK (element);
  once->posted = FALSE;
  GST_OBJECT_UNLOCK (element);
}

/* GstBaseSrc's fallbacks: GST_ELEMENT_FLOW_ERROR carries the flow return in
 * its details; the one after a failed start is CORE/STATE_CHANGE, which
 * the hart elements never post themselves. */
static gboolean
is_base_class_fallback (GstMessage * message, const GError * error)
{
  const GstStructure *details = NULL;

  gst_message_parse_error_details (message, &details);
  if (details != NULL && gst_structure_has_field (details, "flow-return"))
    return TRUE;
  return g_error_matches (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE);
}

gboolean
gst_hart_error_once_post_message (GstElement * element,
    GstHartErrorOnce * once, GstMessage * message,
    gboolean (*parent_post) (GstElement *, GstMessage *))
{
  GError *error = NULL;
  gboolean drop = FALSE;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR
      || GST_MESSAGE_SRC (message) != GST_OBJECT_CAST (element))
    return parent_post (element, message);

  gst_message_parse_error (message, &error, NULL);
  GST_OBJECT_LOCK (element);
  if (once->posted) {
    drop = is_base_class_fallback (message, error)
        || (error->domain == once->domain && error->code == once->code);
  } else {
    once->posted = TRUE;
    once->domain = error->domain;
    once->code = error->code;
  }
  GST_OBJECT_UNLOCK (element);

  if (drop) {
    GST_DEBUG_OBJECT (element, "not posting a second error for one failure: "
        "%s", error->message);
    g_error_free (error);
    gst_message_unref (message);
    return TRUE;
  }
  g_error_free (error);
  return parent_post (element, message);
}
