/* gst-hart — GstHartMeta as an application sees it
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one plugin header an application may include.  GstHartMeta is a
 * GstCustomMeta (GStreamer ≥ 1.20): a GstStructure attached to the buffer
 * under the registered name "GstHartMeta", so that any language with
 * GStreamer bindings reads it without C code of the plugin:
 *
 *   Python:  s = buf.get_custom_meta ("GstHartMeta").get_structure ()
 *            s.get_string ("prompt"), s.get_uint64 ("seed")[1], …
 *   C:       const GstStructure *s = gst_hart_meta_get_structure (buf);
 *            or gst_hart_meta_read (buf, &fields) below
 *
 * Everything here is a macro or a static inline function over GStreamer's
 * own API: the header declares no plugin symbol, so an application does
 * not link against the plugin.  The name resolves once the plugin is
 * loaded (it registers the meta when GStreamer loads it); before that,
 * and on a buffer without the meta, the functions return NULL / FALSE.
 * examples/hart-appsink.c reads it from C, examples/hart-prompt.py from
 * Python.  Installed as gst-hart/gst-hart-meta.h.
 */
#ifndef GST_HART_META_PUBLIC_H
#define GST_HART_META_PUBLIC_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* The name the custom meta is registered under (gst_meta_register_custom,
 * so its API type is "GstHartMeta-api") and the name of its structure. */
#define GST_HART_META_NAME "GstHartMeta"

/* The structure's fields.  Every hart buffer has all of them but the
 * prompt, which hartrefine knows only from an upstream meta (a token frame
 * does not store it): after gdppay ! gdpdepay, a file or a network hop the
 * field is absent, never an empty string (an empty prompt is valid).  After
 * such a hop hartrefine recovers cfg-scale from the token frame's header,
 * except with a model of two scales, whose token frames keep no trace of
 * it: then that field is absent too. */
#define GST_HART_META_PROMPT "prompt"   /* G_TYPE_STRING */
#define GST_HART_META_SEED "seed"       /* G_TYPE_UINT64 */
#define GST_HART_META_FRAME "frame"     /* G_TYPE_UINT */
#define GST_HART_META_CFG_SCALE "cfg-scale"     /* G_TYPE_DOUBLE */
#define GST_HART_META_MODEL "model"     /* G_TYPE_STRING */
#define GST_HART_META_FINGERPRINT "fingerprint" /* G_TYPE_STRING */
/* The precision of the engine that made the buffer ("fp32", "bf16";
 * docs/precision.md).  On hartrefine's pictures it is hartrefine's; when
 * the token maps came from an engine in another precision, that one is
 * kept as "tokens-precision". */
#define GST_HART_META_PRECISION "precision"     /* G_TYPE_STRING */
#define GST_HART_META_TOKENS_PRECISION "tokens-precision"       /* G_TYPE_STRING */

/**
 * GstHartMetaFields:
 * @prompt: the prompt the frame was generated from (during a transition:
 *   the prompt being moved to); NULL when not known (see above)
 * @seed: the seed of the random draws
 * @frame: the frame index that keyed the draws (0 in seed-mode fixed; with
 *   seed-mode increment the frame's number in the stream)
 * @cfg_scale: classifier-free guidance scale; -1 when not known (above)
 * @model: the model's name: its folder's name, or the bundled model's
 * @fingerprint: the model's fingerprint (hex SHA-256)
 * @precision: the precision the buffer was made in ("fp32", "bf16"); NULL
 *   on buffers of a plugin older than the field
 *
 * The meta's fields as C values, filled by gst_hart_meta_read ().  The
 * strings belong to the buffer's meta: valid while the buffer is.
 */
typedef struct
{
  const gchar *prompt;
  guint64 seed;
  guint frame;
  gdouble cfg_scale;
  const gchar *model;
  const gchar *fingerprint;
  const gchar *precision;
} GstHartMetaFields;

/* The meta's structure on BUFFER, or NULL.  Owned by the buffer. */
static inline const GstStructure *
gst_hart_meta_get_structure (GstBuffer * buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, GST_HART_META_NAME);

  return meta != NULL ? gst_custom_meta_get_structure (meta) : NULL;
}

/* Fills FIELDS from BUFFER's meta.  FALSE when the buffer has none, or one
 * without the fields every hart buffer has (FIELDS is then undefined). */
static inline gboolean
gst_hart_meta_read (GstBuffer * buffer, GstHartMetaFields * fields)
{
  const GstStructure *s = gst_hart_meta_get_structure (buffer);

  if (s == NULL)
    return FALSE;
  fields->prompt = gst_structure_get_string (s, GST_HART_META_PROMPT);
  fields->model = gst_structure_get_string (s, GST_HART_META_MODEL);
  fields->fingerprint = gst_structure_get_string (s,
      GST_HART_META_FINGERPRINT);
  fields->precision = gst_structure_get_string (s, GST_HART_META_PRECISION);
  if (!gst_structure_get_double (s, GST_HART_META_CFG_SCALE,
          &fields->cfg_scale))
    fields->cfg_scale = -1.0;
  return fields->model != NULL && fields->fingerprint != NULL
      && gst_structure_get_uint64 (s, GST_HART_META_SEED, &fields->seed)
      && gst_structure_get_uint (s, GST_HART_META_FRAME, &fields->frame);
}

G_END_DECLS
#endif /* GST_HART_META_PUBLIC_H */
