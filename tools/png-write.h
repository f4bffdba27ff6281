/* gst-hart — writing RGB images as PNG (libpng)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_PNG_WRITE_H
#define HART_PNG_WRITE_H

#include <glib.h>
#include "hart/hart.h"

gboolean hart_png_write (const HartImage * image, const char *path,
    GError ** error);

#endif
