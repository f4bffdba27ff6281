/* gst-hart — what the hart elements post on the bus
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartmessages.h"
#include "hart/error.h"

#include <glib/gi18n-lib.h>

void
gst_hart_post_progress (GstElement * element, gint stage, gint n_stages,
    const gchar * description)
{
  GstStructure *s = gst_structure_new ("hart-progress",
      "stage", G_TYPE_INT, stage,
      "n-stages", G_TYPE_INT, n_stages,
      "description", G_TYPE_STRING, description ? description : "", NULL);

  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT (element), s));
}

void
gst_hart_post_load_error (GstElement * element, const gchar * what,
    const gchar * path, const GError * error)
{
  const gint code = error->domain == HART_ERROR ? error->code : -1;

  switch (code) {
    case HART_ERROR_NOT_FOUND:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          (_("Could not find the %s at \"%s\"."), what, path),
          ("%s", error->message));
      break;
    case HART_ERROR_IO:
      GST_ELEMENT_ERROR (element, RESOURCE, READ,
          (_("Could not read the %s at \"%s\"."), what, path),
          ("%s", error->message));
      break;
    case HART_ERROR_INVALID_ARGUMENT:
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          (_("Invalid settings for the %s at \"%s\"."), what, path),
          ("%s", error->message));
      break;
    default:
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
          (_("Could not load the %s at \"%s\"."), what, path),
          ("%s", error->message));
      break;
  }
}

void
gst_hart_post_generate_error (GstElement * element, const GError * error)
{
  const gint code = error->domain == HART_ERROR ? error->code : -1;

  switch (code) {
    case HART_ERROR_FORMAT:
    case HART_ERROR_SHAPE:
    case HART_ERROR_LIMIT:
      GST_ELEMENT_ERROR (element, STREAM, DECODE,
          (_("Could not use the token frame.")), ("%s", error->message));
      break;
    default:
      GST_ELEMENT_ERROR (element, LIBRARY, FAILED,
          (_("Image generation failed.")), ("%s", error->message));
      break;
  }
}
