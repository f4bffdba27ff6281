/* gst-hart — GstHartMeta: how a frame was generated
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_META_H
#define GST_HART_META_H

#include <gst/gst.h>
#include "gst/gst-hart-meta.h"

G_BEGIN_DECLS

/* The struct and its API type name: gst/gst-hart-meta.h (public). */

#define GST_HART_META_API_TYPE (gst_hart_meta_api_get_type ())
#define GST_HART_META_INFO (gst_hart_meta_get_info ())
#define gst_buffer_get_hart_meta(b) \
    ((GstHartMeta *) gst_buffer_get_meta ((b), GST_HART_META_API_TYPE))

GType gst_hart_meta_api_get_type (void);
const GstMetaInfo *gst_hart_meta_get_info (void);

GstHartMeta *gst_buffer_add_hart_meta (GstBuffer * buffer,
    const gchar * prompt, guint64 seed, guint32 frame, gdouble cfg_scale,
    const gchar * fingerprint);

G_END_DECLS
#endif /* GST_HART_META_H */
