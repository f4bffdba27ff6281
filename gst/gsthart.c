/* gst-hart — plugin registration
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * plugin-hart:
 *
 * Image and video generation with HART (Hybrid Autoregressive Transformer).
 *
 * `hartsrc` generates pictures (or token frames) from a text prompt;
 * `hartrefine` turns token frames into pictures; `hartparse` splits a file
 * of token frames into frames, and a typefinder recognises one.  This file
 * registers the plugin, the elements, the typefinder, the custom meta
 * GstHartMeta, the debug category "hart" and the translations.
 *
 * |[
 * gst-launch-1.0 hartsrc model-path=hart-0.7b-1024px num-buffers=1 ! \
 *     videoconvert ! pngenc ! filesink location=out.png
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <glib/gi18n-lib.h>

#include "gsthartcache.h"
#include "gsthartmeta.h"
#include "gsthartparse.h"
#include "gsthartrefine.h"
#include "gsthartsrc.h"

GST_DEBUG_CATEGORY (gst_hart_debug);

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  GST_DEBUG_CATEGORY_INIT (gst_hart_debug, "hart", 0, "HART image generation");

#ifdef ENABLE_NLS
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif

  /* for the element tests (gsthartcache.h): no exported symbol needed */
  g_object_set_data (G_OBJECT (plugin), GST_HART_CACHE_HOOKS_KEY,
      (gpointer) & gst_hart_cache_hooks);

  /* the meta's name is known from here on: an application (or a pad probe)
   * may look it up before the first frame */
  gst_hart_meta_get_info ();

  ret |= GST_ELEMENT_REGISTER (hartsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (hartrefine, plugin);
  ret |= GST_ELEMENT_REGISTER (hartparse, plugin);
  ret |= gst_hart_typefind_register (plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hart,
    "Image and video generation with HART", plugin_init, VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
