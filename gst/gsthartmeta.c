/* gst-hart — GstHartMeta: how a frame was generated
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GstCustomMeta rather than a C struct meta: its fields live in a
 * GstStructure, which the language bindings read (Python:
 * buf.get_custom_meta ("GstHartMeta").get_structure ()); a struct meta
 * would need C code of the plugin, which applications do not link.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartmeta.h"

static gboolean
copy_field (GQuark field, const GValue * value, gpointer user_data)
{
  gst_structure_id_set_value ((GstStructure *) user_data, field, value);
  return TRUE;
}

/* GStreamer's default for a custom meta copies it on a copy transform only
 * and drops it on any other (a scale, say).  The metadata describes the
 * picture's origin, not its memory, size or colours: every transform
 * carries it, unchanged.  A meta already on DEST is updated rather than
 * doubled. */
static gboolean
gst_hart_meta_transform (GstBuffer * dest, GstCustomMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data, gpointer user_data)
{
  GstCustomMeta *copy = gst_buffer_get_custom_meta (dest, GST_HART_META_NAME);

  if (copy == NULL)
    copy = gst_buffer_add_custom_meta (dest, GST_HART_META_NAME);
  if (copy == NULL)
    return FALSE;
  gst_structure_foreach (gst_custom_meta_get_structure (meta), copy_field,
      gst_custom_meta_get_structure (copy));
  return TRUE;
}

const GstMetaInfo *
gst_hart_meta_get_info (void)
{
  static const GstMetaInfo *meta_info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & meta_info)) {
    /* no tags: nothing in it depends on the memory, the size or the
     * colours, so GstBaseTransform and the video filters copy it */
    const gchar *tags[] = { NULL };
    const GstMetaInfo *info = gst_meta_register_custom (GST_HART_META_NAME,
        tags, gst_hart_meta_transform, NULL, NULL);

    g_once_init_leave ((GstMetaInfo **) & meta_info, (GstMetaInfo *) info);
  }
  return meta_info;
}

GstCustomMeta *
gst_buffer_set_hart_meta (GstBuffer * buffer, const gchar * prompt,
    guint64 seed, guint32 frame, gdouble cfg_scale, const gchar * model,
    const gchar * fingerprint, const gchar * precision)
{
  GstCustomMeta *meta;
  GstStructure *s;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (gst_hart_meta_get_info () != NULL, NULL);

  meta = gst_buffer_get_custom_meta (buffer, GST_HART_META_NAME);
  if (meta == NULL)
    meta = gst_buffer_add_custom_meta (buffer, GST_HART_META_NAME);
  s = gst_custom_meta_get_structure (meta);
  if (prompt != NULL)
    gst_structure_set (s, GST_HART_META_PROMPT, G_TYPE_STRING, prompt, NULL);
  if (cfg_scale >= 0.0)
    gst_structure_set (s, GST_HART_META_CFG_SCALE, G_TYPE_DOUBLE, cfg_scale,
        NULL);
  gst_structure_set (s,
      GST_HART_META_SEED, G_TYPE_UINT64, seed,
      GST_HART_META_FRAME, G_TYPE_UINT, (guint) frame,
      GST_HART_META_MODEL, G_TYPE_STRING, model,
      GST_HART_META_FINGERPRINT, G_TYPE_STRING, fingerprint,
      GST_HART_META_PRECISION, G_TYPE_STRING, precision, NULL);
  return meta;
}
