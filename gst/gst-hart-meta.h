/* gst-hart — GstHartMeta as an application sees it
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one plugin header an application may include: the layout of the
 * meta hartsrc attaches to every frame, and the name of its API type.  It
 * declares no plugin symbol, so an application does not link against the
 * plugin: it looks the API type up by name once the plugin is loaded,
 *
 *   GType api = g_type_from_name (GST_HART_META_API_NAME);
 *   GstHartMeta *meta = api ? (GstHartMeta *) gst_buffer_get_meta (buf, api)
 *       : NULL;
 *
 * (examples/hart-appsink.c does).  Installed as gst-hart/gst-hart-meta.h.
 */
#ifndef GST_HART_META_PUBLIC_H
#define GST_HART_META_PUBLIC_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_HART_META_API_NAME "GstHartMetaAPI"

/**
 * GstHartMeta:
 * @meta: parent
 * @prompt: the prompt the frame was generated from (during a transition:
 *   the prompt being moved to)
 * @seed: the seed of the random draws
 * @frame: the frame index that keyed the draws (0 in seed-mode fixed)
 * @cfg_scale: classifier-free guidance scale
 * @fingerprint: the model's fingerprint (hex SHA-256)
 *
 * Attached by hartsrc to every buffer (raw frames and token frames) and
 * carried through hartrefine.  API type name: "GstHartMetaAPI".
 */
typedef struct
{
  GstMeta meta;
  gchar *prompt;
  guint64 seed;
  guint32 frame;
  gdouble cfg_scale;
  gchar *fingerprint;
} GstHartMeta;

G_END_DECLS
#endif /* GST_HART_META_PUBLIC_H */
