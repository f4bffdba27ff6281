/* gst-hart — caps of the hart elements and the RGB → video frame copy
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_CAPS_H
#define GST_HART_CAPS_H

#include <gst/gst.h>
#include <gst/video/video.h>
#include "hart/hart.h"

G_BEGIN_DECLS

/* Packed formats the engine's RGB output is shuffled into. */
#define GST_HART_VIDEO_FORMATS "{ RGB, RGBA, RGBx, BGRx, BGRA }"

#define GST_HART_TOKENS_MEDIA_TYPE "video/x-hart-tokens"

/* Square pixels, progressive: what the pictures are, stated so that a
 * downstream asking for anything else is refused instead of served */
#define GST_HART_RAW_CAPS GST_VIDEO_CAPS_MAKE (GST_HART_VIDEO_FORMATS) ", " \
    "pixel-aspect-ratio = (fraction) 1/1, " \
    "interlace-mode = (string) progressive"


/* The fingerprint field (string, the model's hex digest) is optional in the
 * template; hartsrc always sets it. */
#define GST_HART_TOKENS_CAPS GST_HART_TOKENS_MEDIA_TYPE ", " \
    "width = " GST_VIDEO_SIZE_RANGE ", " \
    "height = " GST_VIDEO_SIZE_RANGE ", " \
    "framerate = " GST_VIDEO_FPS_RANGE

/* Raw video at the model's size (any of the formats), then token frames of
 * the model: the order is hartsrc's preference. */
GstCaps *gst_hart_caps_for_model (const HartModel * model);

gboolean gst_hart_caps_is_tokens (const GstCaps * caps);

/* Copies packed RGB into FRAME (one of GST_HART_VIDEO_FORMATS, same size);
 * alpha and padding bytes are set to 255.  FALSE when sizes differ. */
gboolean gst_hart_image_to_frame (const HartImage * image,
    GstVideoFrame * frame);

G_END_DECLS
#endif /* GST_HART_CAPS_H */
