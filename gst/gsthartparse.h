/* gst-hart — hartparse: a byte stream of token frames to one buffer a frame
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_PARSE_H
#define GST_HART_PARSE_H

#include <gst/gst.h>
#include <gst/base/gstbaseparse.h>

#include "gsthartmessages.h"
#include "hart/tokens.h"

G_BEGIN_DECLS

#define GST_TYPE_HART_PARSE (gst_hart_parse_get_type ())
G_DECLARE_FINAL_TYPE (GstHartParse, gst_hart_parse, GST, HART_PARSE,
    GstBaseParse)

struct _GstHartParse
{
  GstBaseParse parent;

  /* property, under the object lock */
  guint64 max_frame_size;

  /* streaming thread */
  guint64 offset;               /* byte offset of the next frame */
  guint64 n_frames;             /* frames found since start */
  guint64 n_pushed;             /* frames stamped (pre_push_frame) */
  gchar fingerprint[65];        /* of the caps set last ("" before) */
  gint fps_n, fps_d;            /* 0/1: unknown */
  GstCaps *sink_caps;           /* upstream's caps, when it sent some */

  /* one ERROR message per failure (gsthartmessages.h) */
  GstHartErrorOnce error_once;
};

GST_ELEMENT_REGISTER_DECLARE (hartparse);

/* The typefinder of token frames (gstharttypefind.c). */
gboolean gst_hart_typefind_register (GstPlugin * plugin);

G_END_DECLS
#endif /* GST_HART_PARSE_H */
