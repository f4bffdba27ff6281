/* gst-hart — writing RGB images as PNG (libpng)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "png-write.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

gboolean
hart_png_write (const HartImage * image, const char *path, GError ** error)
{
  png_image png;

  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32) image->width;
  png.height = (png_uint_32) image->height;
  png.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_file (&png, path, 0, image->rgb, image->stride, NULL)) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO, "%s: cannot write PNG: %s",
        path, png.message);
    png_image_free (&png);
    return FALSE;
  }
  return TRUE;
}
