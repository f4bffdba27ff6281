/* gst-hart — caps of the hart elements and the RGB → video frame copy
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartcaps.h"

#include <string.h>

GstCaps *
gst_hart_caps_for_model (const HartModel * model)
{
  GstCaps *caps = gst_caps_from_string (GST_HART_RAW_CAPS "; "
      GST_HART_TOKENS_CAPS);

  gst_caps_set_simple (caps,
      "width", G_TYPE_INT, hart_model_get_width (model),
      "height", G_TYPE_INT, hart_model_get_height (model), NULL);
  gst_structure_set (gst_caps_get_structure (caps, 1), "fingerprint",
      G_TYPE_STRING, hart_model_get_fingerprint (model), NULL);
  return caps;
}

gboolean
gst_hart_caps_is_tokens (const GstCaps * caps)
{
  return gst_caps_get_size (caps) > 0
      && gst_structure_has_name (gst_caps_get_structure (caps, 0),
      GST_HART_TOKENS_MEDIA_TYPE);
}

gboolean
gst_hart_image_to_frame (const HartImage * image, GstVideoFrame * frame)
{
  const int width = GST_VIDEO_FRAME_WIDTH (frame);
  const int height = GST_VIDEO_FRAME_HEIGHT (frame);
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  /* destination byte of source channel c (0 = R, 1 = G, 2 = B); -1 none */
  int r, g, b, pixel_bytes;

  if (image->width != width || image->height != height)
    return FALSE;

  switch (GST_VIDEO_FRAME_FORMAT (frame)) {
    case GST_VIDEO_FORMAT_RGB:
      r = 0, g = 1, b = 2, pixel_bytes = 3;
      break;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx:
      r = 0, g = 1, b = 2, pixel_bytes = 4;
      break;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx:
      r = 2, g = 1, b = 0, pixel_bytes = 4;
      break;
    default:
      return FALSE;
  }

  for (int y = 0; y < height; y++) {
    const guint8 *src_row = image->rgb + (gsize) y * image->stride;
    guint8 *dst_row = dst + (gsize) y * stride;

    if (pixel_bytes == 3) {
      memcpy (dst_row, src_row, (gsize) width * 3);
      continue;
    }
    for (int x = 0; x < width; x++) {
      guint8 *px = dst_row + 4 * x;
      px[r] = src_row[3 * x];
      px[g] = src_row[3 * x + 1];
      px[b] = src_row[3 * x + 2];
      px[3] = 255;
    }
  }
  return TRUE;
}
