/* gst-hart — hartparse: a byte stream of token frames to one buffer a frame
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-hartparse
 * @title: hartparse
 *
 * Splits a byte stream of concatenated token frames (video/x-hart-tokens,
 * as `hartsrc ! filesink` writes them) into one buffer per frame, from the
 * size each frame's header describes (docs/token-frames.md).  The caps
 * carry the model fingerprint of the first frame; width, height and
 * framerate come from upstream's caps or downstream's caps query (a
 * `hartrefine` with a model answers its size) when either fixes them.
 * Frame n is stamped n / framerate when the framerate is known.
 *
 * A header that is not a token frame's, a frame larger than
 * #GstHartParse:max-frame-size or a stream that ends inside a frame is a
 * STREAM DECODE error naming the byte offset; nothing is allocated from a
 * size a header claims (the frame is collected from the data that
 * arrives).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=frames.tok ! hartparse ! \
 *     hartrefine model-path=hart-0.7b-1024px ! videoconvert ! pngenc ! \
 *     multifilesink location=frame-%05d.png
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartparse.h"
#include "gsthartcaps.h"
#include "hart/hart.h"
#include "hart/tokens.h"

#include <glib/gi18n-lib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_hart_parse_debug);
#define GST_CAT_DEFAULT gst_hart_parse_debug

/* 1 GiB: a 1024×1024 frame of the release model is 51 MiB; a 4096-pixel
 * model (token side 256, the engine's limit) about 0.8 GiB. */
#define DEFAULT_MAX_FRAME_SIZE (G_GUINT64_CONSTANT (1) << 30)
/* GstBaseParse counts a frame's bytes in a guint */
#define MAX_MAX_FRAME_SIZE ((guint64) G_MAXUINT)

enum
{
  PROP_0,
  PROP_MAX_FRAME_SIZE,
};

static GstStaticPadTemplate gst_hart_parse_sink_template =
GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_HART_TOKENS_MEDIA_TYPE));

/* parsed=true: autoplugging (parsebin, decodebin) does not plug the parser
 * again after itself.  No width and height: a token frame does not hold
 * them; the caps have them when upstream or downstream fixes them. */
static GstStaticPadTemplate gst_hart_parse_src_template =
GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_HART_TOKENS_MEDIA_TYPE ", "
        "framerate = " GST_VIDEO_FPS_RANGE ", parsed = (boolean) true"));

#define gst_hart_parse_parent_class parent_class
G_DEFINE_TYPE (GstHartParse, gst_hart_parse, GST_TYPE_BASE_PARSE);
/* PRIMARY: parsebin and decodebin plug it after the typefinder */
GST_ELEMENT_REGISTER_DEFINE (hartparse, "hartparse", GST_RANK_PRIMARY,
    GST_TYPE_HART_PARSE);

static void gst_hart_parse_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_hart_parse_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_hart_parse_post_message (GstElement * element,
    GstMessage * message);
static gboolean gst_hart_parse_start (GstBaseParse * parse);
static gboolean gst_hart_parse_stop (GstBaseParse * parse);
static gboolean gst_hart_parse_set_sink_caps (GstBaseParse * parse,
    GstCaps * caps);
static GstFlowReturn gst_hart_parse_handle_frame (GstBaseParse * parse,
    GstBaseParseFrame * frame, gint * skipsize);
static GstFlowReturn gst_hart_parse_pre_push_frame (GstBaseParse * parse,
    GstBaseParseFrame * frame);

static void
gst_hart_parse_class_init (GstHartParseClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseParseClass *parse_class = GST_BASE_PARSE_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_hart_parse_debug, "hartparse", 0,
      "HART token frame parser");

  gobject_class->set_property = gst_hart_parse_set_property;
  gobject_class->get_property = gst_hart_parse_get_property;

  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_SIZE,
      g_param_spec_uint64 ("max-frame-size", "Maximum frame size",
          "Largest token frame accepted, in bytes, header included; a "
          "header describing a larger frame is a stream error",
          HART_TOKENS_HEADER_SIZE, MAX_MAX_FRAME_SIZE,
          DEFAULT_MAX_FRAME_SIZE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_set_static_metadata (element_class,
      "HART token frame parser", "Codec/Parser/Video",
      "Splits a stream of HART token frames into one buffer per frame",
      "gst-hart developers");
  gst_element_class_add_static_pad_template (element_class,
      &gst_hart_parse_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &gst_hart_parse_src_template);

  element_class->post_message = GST_DEBUG_FUNCPTR (gst_hart_parse_post_message);

  parse_class->start = GST_DEBUG_FUNCPTR (gst_hart_parse_start);
  parse_class->stop = GST_DEBUG_FUNCPTR (gst_hart_parse_stop);
  parse_class->set_sink_caps = GST_DEBUG_FUNCPTR (gst_hart_parse_set_sink_caps);
  parse_class->handle_frame = GST_DEBUG_FUNCPTR (gst_hart_parse_handle_frame);
  parse_class->pre_push_frame =
      GST_DEBUG_FUNCPTR (gst_hart_parse_pre_push_frame);
}

static void
gst_hart_parse_init (GstHartParse * self)
{
  self->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->fps_d = 1;
}

static void
gst_hart_parse_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHartParse *self = GST_HART_PARSE (object);

  switch (prop_id) {
    case PROP_MAX_FRAME_SIZE:
      GST_OBJECT_LOCK (self);
      self->max_frame_size = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hart_parse_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHartParse *self = GST_HART_PARSE (object);

  switch (prop_id) {
    case PROP_MAX_FRAME_SIZE:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_frame_size);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* GstBaseParse adds its own error (the flow return) after ours */
static gboolean
gst_hart_parse_post_message (GstElement * element, GstMessage * message)
{
  return gst_hart_error_once_post_message (element,
      &GST_HART_PARSE (element)->error_once, message,
      GST_ELEMENT_CLASS (parent_class)->post_message);
}

static gboolean
gst_hart_parse_start (GstBaseParse * parse)
{
  GstHartParse *self = GST_HART_PARSE (parse);

  gst_hart_error_once_reset (GST_ELEMENT (self), &self->error_once);
  self->offset = 0;
  self->n_frames = 0;
  self->n_pushed = 0;
  self->fingerprint[0] = '\0';
  self->fps_n = 0;
  self->fps_d = 1;
  /* the header first; then, frame by frame, the size it describes */
  gst_base_parse_set_min_frame_size (parse, HART_TOKENS_HEADER_SIZE);
  /* a frame start cannot be found in the middle of a stream (the arrays
   * may hold the magic): no seeking to byte positions estimated from the
   * bitrate */
  gst_base_parse_set_syncable (parse, FALSE);
  return TRUE;
}

static gboolean
gst_hart_parse_stop (GstBaseParse * parse)
{
  GstHartParse *self = GST_HART_PARSE (parse);

  gst_clear_caps (&self->sink_caps);
  return TRUE;
}

static gboolean
gst_hart_parse_set_sink_caps (GstBaseParse * parse, GstCaps * caps)
{
  GstHartParse *self = GST_HART_PARSE (parse);

  /* read when the caps of the first frame are made: a capsfilter before
   * the parser may give the size and framerate the file does not hold */
  gst_caps_replace (&self->sink_caps, caps);
  return TRUE;
}

/* The caps of frames of model FINGERPRINT: the fields upstream's caps or
 * downstream's caps query fix, framerate 0/1 (unknown) when neither does;
 * width and height are not in a token frame (they depend on the model's
 * autoencoder) and are left out when nobody says them. */
static GstCaps *
gst_hart_parse_make_caps (GstHartParse * self, const gchar * fingerprint)
{
  static const gchar *const fields[] = { "width", "height", "framerate" };
  GstCaps *caps = gst_caps_new_simple (GST_HART_TOKENS_MEDIA_TYPE,
      "fingerprint", G_TYPE_STRING, fingerprint,
      "parsed", G_TYPE_BOOLEAN, TRUE, NULL);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  GstCaps *peer;

  /* pulled (filesrc puts the parser in pull mode) no caps event comes:
   * upstream's caps query says what a capsfilter there fixes */
  if (self->sink_caps == NULL) {
    GstCaps *up = gst_pad_peer_query_caps (GST_BASE_PARSE_SINK_PAD (self),
        NULL);

    if (up != NULL && !gst_caps_is_any (up) && !gst_caps_is_empty (up)
        && gst_structure_has_name (gst_caps_get_structure (up, 0),
            GST_HART_TOKENS_MEDIA_TYPE))
      self->sink_caps = gst_caps_ref (up);
    gst_clear_caps (&up);
  }
  if (self->sink_caps != NULL && gst_caps_get_size (self->sink_caps) > 0) {
    const GstStructure *up = gst_caps_get_structure (self->sink_caps, 0);

    for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
      const GValue *v = gst_structure_get_value (up, fields[i]);

      if (v != NULL && gst_value_is_fixed (v))
        gst_structure_set_value (s, fields[i], v);
    }
  }

  peer = gst_pad_peer_query_caps (GST_BASE_PARSE_SRC_PAD (self), caps);
  if (peer != NULL && !gst_caps_is_empty (peer) && !gst_caps_is_any (peer)) {
    const GstStructure *down = gst_caps_get_structure (peer, 0);

    for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
      const GValue *v = gst_structure_get_value (down, fields[i]);

      if (!gst_structure_has_field (s, fields[i]) && v != NULL
          && gst_value_is_fixed (v))
        gst_structure_set_value (s, fields[i], v);
    }
  }
  /* an empty answer (hartrefine of another model) leaves our caps as they
   * are: downstream's refusal then names both models (E63) */
  gst_clear_caps (&peer);

  if (!gst_structure_has_field (s, "framerate"))
    gst_structure_set (s, "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
  return caps;
}

static GstFlowReturn
gst_hart_parse_set_caps (GstHartParse * self, const gchar * fingerprint)
{
  GstCaps *caps = gst_hart_parse_make_caps (self, fingerprint);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gboolean ok;

  if (!gst_structure_get_fraction (s, "framerate", &self->fps_n,
          &self->fps_d) || self->fps_d <= 0 || self->fps_n < 0) {
    self->fps_n = 0;
    self->fps_d = 1;
  }
  GST_INFO_OBJECT (self, "caps %" GST_PTR_FORMAT, caps);
  ok = gst_pad_set_caps (GST_BASE_PARSE_SRC_PAD (self), caps);
  gst_caps_unref (caps);
  if (!ok)
    return GST_FLOW_NOT_NEGOTIATED;
  g_strlcpy (self->fingerprint, fingerprint, sizeof self->fingerprint);
  if (self->fps_n > 0)
    gst_base_parse_set_frame_rate (GST_BASE_PARSE (self), self->fps_n,
        self->fps_d, 0, 0);
  return GST_FLOW_OK;
}

/* Frame n: offset n, and PTS n / framerate when the framerate is known.
 * Here rather than in handle_frame: GstBaseParse makes the buffer it pushes
 * after handle_frame, and stamps it from upstream's timestamps. */
static GstFlowReturn
gst_hart_parse_pre_push_frame (GstBaseParse * parse, GstBaseParseFrame * frame)
{
  GstHartParse *self = GST_HART_PARSE (parse);
  GstBuffer *buffer = frame->out_buffer ? frame->out_buffer : frame->buffer;
  const guint64 n = self->n_pushed++;

  GST_BUFFER_OFFSET (buffer) = n;
  GST_BUFFER_OFFSET_END (buffer) = n + 1;
  if (self->fps_n > 0) {
    GstClockTime pts = gst_util_uint64_scale (n, self->fps_d * GST_SECOND,
        self->fps_n);
    GstClockTime next = gst_util_uint64_scale (n + 1,
        self->fps_d * GST_SECOND, self->fps_n);

    GST_BUFFER_PTS (buffer) = pts;
    GST_BUFFER_DTS (buffer) = pts;
    GST_BUFFER_DURATION (buffer) = next - pts;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_hart_parse_handle_frame (GstBaseParse * parse, GstBaseParseFrame * frame,
    gint * skipsize)
{
  GstHartParse *self = GST_HART_PARSE (parse);
  HartTokensHeader header;
  GError *error = NULL;
  GstMapInfo map;
  gchar *problem = NULL;
  guint64 max_frame_size;
  gsize available;
  GstFlowReturn ret;

  GST_OBJECT_LOCK (self);
  max_frame_size = self->max_frame_size;
  GST_OBJECT_UNLOCK (self);

  /* nothing is ever skipped: the frames follow each other without gaps */
  *skipsize = 0;
  if (!gst_buffer_map (frame->buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("could not map the input buffer"));
    return GST_FLOW_ERROR;
  }
  available = map.size;
  if (available < HART_TOKENS_HEADER_SIZE) {
    gst_buffer_unmap (frame->buffer, &map);
    /* less than a header and no more data coming */
    if (GST_BASE_PARSE_DRAINING (parse))
      goto truncated_header;
    gst_base_parse_set_min_frame_size (parse, HART_TOKENS_HEADER_SIZE);
    return GST_FLOW_OK;
  }
  if (!hart_tokens_read_header (map.data, available, &header, &error)) {
    gst_buffer_unmap (frame->buffer, &map);
    problem = g_strdup (error->message);
    g_error_free (error);
    goto bad_header;
  }
  gst_buffer_unmap (frame->buffer, &map);

  if (header.frame_size > max_frame_size)
    goto too_large;
  if (available < header.frame_size) {
    if (GST_BASE_PARSE_DRAINING (parse))
      goto truncated_frame;
    /* GstBaseParse collects the frame from what arrives: memory grows
     * with the data, never with what a header claims */
    gst_base_parse_set_min_frame_size (parse, (guint) header.frame_size);
    return GST_FLOW_OK;
  }

  if (strcmp (self->fingerprint, header.fingerprint) != 0) {
    if (self->fingerprint[0] != '\0')
      GST_INFO_OBJECT (self, "frame %" G_GUINT64_FORMAT " is of another "
          "model (%s, was %s): new caps", self->n_frames, header.fingerprint,
          self->fingerprint);
    ret = gst_hart_parse_set_caps (self, header.fingerprint);
    if (ret != GST_FLOW_OK)
      return ret;
  }

  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " at byte %"
      G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " bytes, draws frame %u",
      self->n_frames, self->offset, header.frame_size, header.frame);
  self->offset += header.frame_size;
  self->n_frames++;
  gst_base_parse_set_min_frame_size (parse, HART_TOKENS_HEADER_SIZE);
  return gst_base_parse_finish_frame (parse, frame, (gint) header.frame_size);

  /* the byte offsets are formatted apart: a G_GUINT64_FORMAT inside a
   * translatable string would cut it short for xgettext */
bad_header:
  {
    gchar *where = g_strdup_printf ("%" G_GUINT64_FORMAT, self->offset);

    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("Malformed token frame header at byte offset %s."), where),
        ("frame %" G_GUINT64_FORMAT " at byte offset %" G_GUINT64_FORMAT
            ": %s", self->n_frames, self->offset, problem));
    g_free (where);
    g_free (problem);
    return GST_FLOW_ERROR;
  }
too_large:
  {
    gchar *where = g_strdup_printf ("%" G_GUINT64_FORMAT, self->offset);

    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("The token frame at byte offset %s is larger than "
                "max-frame-size."), where),
        ("frame %" G_GUINT64_FORMAT " at byte offset %" G_GUINT64_FORMAT
            ": its header describes %" G_GUINT64_FORMAT " bytes (B %d, Cv %d, "
            "P %d, C %d, stage tokens %d); max-frame-size is %"
            G_GUINT64_FORMAT, self->n_frames, self->offset,
            header.frame_size, header.batch, header.latent_channels,
            header.side, header.embed_dim, header.stage_tokens,
            max_frame_size));
    g_free (where);
    return GST_FLOW_ERROR;
  }
truncated_header:
  {
    gchar *where = g_strdup_printf ("%" G_GUINT64_FORMAT, self->offset);

    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("The token stream ends inside a frame at byte offset %s."), where),
        ("frame %" G_GUINT64_FORMAT " at byte offset %" G_GUINT64_FORMAT
            ": %" G_GSIZE_FORMAT " bytes left, shorter than the %d-byte "
            "header", self->n_frames, self->offset, available,
            HART_TOKENS_HEADER_SIZE));
    g_free (where);
    return GST_FLOW_ERROR;
  }
truncated_frame:
  {
    gchar *where = g_strdup_printf ("%" G_GUINT64_FORMAT, self->offset);

    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("The token stream ends inside a frame at byte offset %s."), where),
        ("frame %" G_GUINT64_FORMAT " at byte offset %" G_GUINT64_FORMAT
            ": its header describes %" G_GUINT64_FORMAT " bytes, the stream "
            "ends after %" G_GSIZE_FORMAT, self->n_frames, self->offset,
            header.frame_size, available));
    g_free (where);
    return GST_FLOW_ERROR;
  }
}
