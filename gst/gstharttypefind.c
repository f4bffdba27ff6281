/* gst-hart — typefinder of token frames (video/x-hart-tokens)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Recognises a stream that starts with a token frame (docs/token-frames.md)
 * from its 128-byte header: the magic at offset 0, then the checks of the
 * header that hartparse makes too.  It reads that header and nothing more.
 * The caps it suggests carry the fingerprint; not width and height, which
 * a token frame does not hold (they depend on the model's autoencoder:
 * token side × its downsampling factor), nor the framerate.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartparse.h"
#include "gsthartcaps.h"
#include "hart/tokens.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_hart_debug);
#define GST_CAT_DEFAULT gst_hart_debug

static void
hart_tokens_type_find (GstTypeFind * find, gpointer user_data)
{
  const guint8 *data = gst_type_find_peek (find, 0,
      HART_TOKENS_HEADER_SIZE);
  HartTokensHeader header;
  GError *error = NULL;

  if (data == NULL) {
    /* a stream shorter than a header holds no frame; the magic alone is
     * still a good guess (hartparse then says what is wrong) */
    data = gst_type_find_peek (find, 0, 8);
    if (data != NULL && memcmp (data, HART_TOKENS_MAGIC, 8) == 0)
      gst_type_find_suggest_empty_simple (find, GST_TYPE_FIND_POSSIBLE,
          GST_HART_TOKENS_MEDIA_TYPE);
    return;
  }
  if (memcmp (data, HART_TOKENS_MAGIC, 8) != 0)
    return;

  if (!hart_tokens_read_header (data, HART_TOKENS_HEADER_SIZE, &header, &error)) {
    /* the magic, but a header this build cannot read (another version):
     * still token frames, for hartparse to refuse with the reason */
    GST_DEBUG ("token frame magic, unreadable header: %s", error->message);
    g_error_free (error);
    gst_type_find_suggest_empty_simple (find, GST_TYPE_FIND_LIKELY,
        GST_HART_TOKENS_MEDIA_TYPE);
    return;
  }
  gst_type_find_suggest_simple (find, GST_TYPE_FIND_MAXIMUM,
      GST_HART_TOKENS_MEDIA_TYPE, "fingerprint", G_TYPE_STRING,
      header.fingerprint, NULL);
}

gboolean
gst_hart_typefind_register (GstPlugin * plugin)
{
  GstCaps *caps = gst_caps_new_empty_simple (GST_HART_TOKENS_MEDIA_TYPE);
  gboolean ok;

  ok = gst_type_find_register (plugin, GST_HART_TOKENS_MEDIA_TYPE,
      GST_RANK_PRIMARY, hart_tokens_type_find, "tok", caps, NULL, NULL);
  gst_caps_unref (caps);
  return ok;
}
