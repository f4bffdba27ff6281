/* gst-hart — GstHartMeta: how a frame was generated
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartmeta.h"

GType
gst_hart_meta_api_get_type (void)
{
  static GType api_type = 0;
  /* no tags: the metadata describes the picture's origin, not its memory,
   * size or colours, so every transform may carry it */
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&api_type)) {
    GType type = gst_meta_api_type_register (GST_HART_META_API_NAME, tags);
    g_once_init_leave (&api_type, type);
  }
  return api_type;
}

static gboolean
gst_hart_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstHartMeta *hart_meta = (GstHartMeta *) meta;

  hart_meta->prompt = NULL;
  hart_meta->seed = 0;
  hart_meta->frame = 0;
  hart_meta->cfg_scale = 0.0;
  hart_meta->fingerprint = NULL;
  return TRUE;
}

static void
gst_hart_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstHartMeta *hart_meta = (GstHartMeta *) meta;

  g_free (hart_meta->prompt);
  g_free (hart_meta->fingerprint);
}

static gboolean
gst_hart_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstHartMeta *src = (GstHartMeta *) meta;

  /* copies, scaling, format conversions: the origin stays the same */
  return gst_buffer_add_hart_meta (dest, src->prompt, src->seed, src->frame,
      src->cfg_scale, src->fingerprint) != NULL;
}

const GstMetaInfo *
gst_hart_meta_get_info (void)
{
  static const GstMetaInfo *meta_info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & meta_info)) {
    const GstMetaInfo *info = gst_meta_register (GST_HART_META_API_TYPE,
        "GstHartMeta", sizeof (GstHartMeta), gst_hart_meta_init,
        gst_hart_meta_free, gst_hart_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & meta_info, (GstMetaInfo *) info);
  }
  return meta_info;
}

GstHartMeta *
gst_buffer_add_hart_meta (GstBuffer * buffer, const gchar * prompt,
    guint64 seed, guint32 frame, gdouble cfg_scale, const gchar * fingerprint)
{
  GstHartMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  meta = (GstHartMeta *) gst_buffer_add_meta (buffer, GST_HART_META_INFO, NULL);
  meta->prompt = g_strdup (prompt);
  meta->seed = seed;
  meta->frame = frame;
  meta->cfg_scale = cfg_scale;
  meta->fingerprint = g_strdup (fingerprint);
  return meta;
}
