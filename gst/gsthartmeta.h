/* gst-hart — GstHartMeta: how a frame was generated
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_META_H
#define GST_HART_META_H

#include <gst/gst.h>
#include "gst/gst-hart-meta.h"

G_BEGIN_DECLS

/* The name, the fields and the readers: gst/gst-hart-meta.h (public). */

/* Registers the custom meta (once; plugin_init calls it, so that an
 * application finds the name as soon as the plugin is loaded). */
const GstMetaInfo *gst_hart_meta_get_info (void);

/* Sets BUFFER's GstHartMeta (BUFFER writable), adding it when the buffer
 * has none.  PROMPT NULL or CFG_SCALE < 0: not known here (hartrefine
 * after a hop that dropped the metas: a token frame stores no prompt);
 * the field then keeps the value it has, or stays absent.  MODEL is the
 * model's name (gst_hart_model_name ()); PRECISION the precision of the
 * engine that made the buffer ("fp32", "bf16"). */
GstCustomMeta *gst_buffer_set_hart_meta (GstBuffer * buffer,
    const gchar * prompt, guint64 seed, guint32 frame, gdouble cfg_scale,
    const gchar * model, const gchar * fingerprint, const gchar * precision);

G_END_DECLS
#endif /* GST_HART_META_H */
