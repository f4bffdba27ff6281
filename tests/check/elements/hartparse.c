/* gst-hart — token files: the typefinder, hartparse, hartrefine's caps query
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "hart-check.h"
#include <gst/base/gsttypefindhelper.h>
#include <glib/gstdio.h>

#define TOKENS_CAPS "video/x-hart-tokens"
#define HEADER 128

/* Token frames 0 … N−1 of a hartsrc (seed-mode increment), their
 * fingerprint (free with g_free) when FINGERPRINT is not NULL. */
static GstBuffer **
token_frames (guint n, gchar ** fingerprint)
{
  GstHarness *h = harness_hartsrc (n, TOKENS_CAPS);
  GstBuffer **frames = g_new0 (GstBuffer *, n);

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_play (h);
  for (guint i = 0; i < n; i++)
    frames[i] = pull_buffer (h);
  if (fingerprint) {
    GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);

    *fingerprint = g_strdup (gst_structure_get_string
        (gst_caps_get_structure (caps, 0), "fingerprint"));
    fail_unless (*fingerprint != NULL);
    gst_caps_unref (caps);
  }
  gst_harness_teardown (h);
  return frames;
}

static void
frames_free (GstBuffer ** frames, guint n)
{
  for (guint i = 0; i < n; i++)
    gst_buffer_unref (frames[i]);
  g_free (frames);
}

/* The frames back to back, as `hartsrc ! filesink` writes them. */
static GBytes *
concat (GstBuffer ** frames, guint n)
{
  GByteArray *all = g_byte_array_new ();

  for (guint i = 0; i < n; i++) {
    GstMapInfo map;

    fail_unless (gst_buffer_map (frames[i], &map, GST_MAP_READ));
    g_byte_array_append (all, map.data, map.size);
    gst_buffer_unmap (frames[i], &map);
  }
  return g_byte_array_free_to_bytes (all);
}

static void
put_u32 (guint8 * p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

/* A hartparse harness whose bus is BUS (may be NULL), upstream caps
 * SRC_CAPS and downstream caps SINK_CAPS (either may be NULL). */
static GstHarness *
harness_parse (GstBus * bus, const gchar * src_caps, const gchar * sink_caps)
{
  GstHarness *h = gst_harness_new ("hartparse");

  if (bus)
    gst_element_set_bus (h->element, bus);
  if (sink_caps)
    gst_harness_set_sink_caps_str (h, sink_caps);
  gst_harness_set_src_caps_str (h, src_caps ? src_caps : TOKENS_CAPS);
  gst_harness_play (h);
  return h;
}

/* Pushes DATA in pieces of the sizes CHUNK cycles through (a file source's
 * blocks do not follow frame boundaries), then EOS.  The last flow return
 * that was not OK, or OK. */
static GstFlowReturn
push_bytes (GstHarness * h, const guint8 * data, gsize size, guint chunk)
{
  GstFlowReturn ret = GST_FLOW_OK;
  gsize done = 0;

  while (done < size && ret == GST_FLOW_OK) {
    gsize n = MIN (chunk, size - done);

    ret = gst_harness_push (h, gst_buffer_new_memdup (data + done, n));
    done += n;
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  return ret;
}

/* The next ERROR of BUS (fails on none): its GError, debug text in
 * *DEBUG. */
static GError *
expect_error (GstBus * bus, gchar ** debug)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *error = NULL;

  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &error, debug);
  gst_message_unref (msg);
  return error;
}

/* ---- typefinder ---- */

GST_START_TEST (test_typefind)
{
  gchar *fingerprint;
  GstBuffer **frames = token_frames (1, &fingerprint);
  GstTypeFindProbability prob = GST_TYPE_FIND_NONE;
  GstMapInfo map;
  GstCaps *caps;
  guint8 *copy;

  fail_unless (gst_buffer_map (frames[0], &map, GST_MAP_READ));
  caps = gst_type_find_helper_for_data (NULL, map.data, map.size, &prob);
  fail_unless (caps != NULL, "token frame not recognised");
  fail_unless_equals_int (prob, GST_TYPE_FIND_MAXIMUM);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          TOKENS_CAPS));
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "fingerprint"), fingerprint);
  gst_caps_unref (caps);

  /* the header alone is enough: nothing past it is read */
  caps = gst_type_find_helper_for_data (NULL, map.data, HEADER, &prob);
  fail_unless (caps != NULL);
  fail_unless_equals_int (prob, GST_TYPE_FIND_MAXIMUM);
  gst_caps_unref (caps);

  /* the magic and another version: token frames still, no fingerprint
   * (hartparse says what is wrong) */
  copy = g_memdup2 (map.data, HEADER);
  put_u32 (copy + 8, 2);
  caps = gst_type_find_helper_for_data (NULL, copy, HEADER, &prob);
  fail_unless (caps != NULL);
  fail_unless_equals_int (prob, GST_TYPE_FIND_LIKELY);
  fail_if (gst_structure_has_field (gst_caps_get_structure (caps, 0),
          "fingerprint"));
  gst_caps_unref (caps);

  /* one byte of the magic changed: not ours (and nothing else's) */
  memcpy (copy, map.data, HEADER);
  copy[3] ^= 0x20;
  caps = gst_type_find_helper_for_data (NULL, copy, HEADER, &prob);
  fail_unless (caps == NULL || !gst_structure_has_name
      (gst_caps_get_structure (caps, 0), TOKENS_CAPS));
  gst_clear_caps (&caps);
  g_free (copy);

  gst_buffer_unmap (frames[0], &map);
  frames_free (frames, 1);
  g_free (fingerprint);
}

GST_END_TEST;

/* ---- hartparse ---- */

/* Three frames back to back, in pieces that do not follow the frames:
 * three buffers, each byte for byte one frame, caps with the fingerprint,
 * offsets the frame numbers.  Also in one piece, and frame by frame. */
GST_START_TEST (test_parse_frames)
{
  gchar *fingerprint;
  GstBuffer **frames = token_frames (3, &fingerprint);
  GBytes *all = concat (frames, 3);
  gsize size;
  const guint8 *data = g_bytes_get_data (all, &size);
  const guint chunks[] = { 1000, 4093, (guint) size,
    (guint) gst_buffer_get_size (frames[0])
  };

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++) {
    GstHarness *h = harness_parse (NULL, NULL, NULL);
    GstCaps *caps;
    const GstStructure *s;
    gint fps_n = -1, fps_d = -1;

    fail_unless_equals_int (push_bytes (h, data, size, chunks[c]), GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_received (h), 3);
    for (guint i = 0; i < 3; i++) {
      GstBuffer *out = gst_harness_pull (h);

      fail_unless (buffers_equal (out, frames[i]), "frame %u differs "
          "(pieces of %u bytes)", i, chunks[c]);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), i);
      gst_buffer_unref (out);
    }
    caps = gst_pad_get_current_caps (h->sinkpad);
    s = gst_caps_get_structure (caps, 0);
    fail_unless (gst_structure_has_name (s, TOKENS_CAPS));
    fail_unless_equals_string (gst_structure_get_string (s, "fingerprint"),
        fingerprint);
    /* no framerate anywhere: 0/1, unknown */
    fail_unless (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d));
    fail_unless_equals_int (fps_n, 0);
    fail_if (gst_structure_has_field (s, "width"));
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }

  g_bytes_unref (all);
  frames_free (frames, 3);
  g_free (fingerprint);
}

GST_END_TEST;

/* A framerate from upstream's caps or from downstream stamps frame n with
 * n / framerate; downstream's size reaches the caps. */
GST_START_TEST (test_parse_timestamps)
{
  GstBuffer **frames = token_frames (3, NULL);
  GBytes *all = concat (frames, 3);
  gsize size;
  const guint8 *data = g_bytes_get_data (all, &size);
  const gchar *const up[] = { TOKENS_CAPS ", framerate=(fraction)25/1", NULL };
  const gchar *const down[] = { NULL, TOKENS_CAPS ", width=(int)128, "
        "height=(int)128, framerate=(fraction)25/1"
  };

  for (guint c = 0; c < 2; c++) {
    GstHarness *h = harness_parse (NULL, up[c], down[c]);
    GstCaps *caps;

    fail_unless_equals_int (push_bytes (h, data, size, 5000), GST_FLOW_OK);
    for (guint i = 0; i < 3; i++) {
      GstBuffer *out = gst_harness_pull (h);

      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 25);
      fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 25);
      gst_buffer_unref (out);
    }
    caps = gst_pad_get_current_caps (h->sinkpad);
    if (down[c]) {
      gint width = 0;

      fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
              "width", &width));
      fail_unless_equals_int (width, 128);
    }
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
  g_bytes_unref (all);
  frames_free (frames, 3);
}

GST_END_TEST;

/* A stream that ends inside a frame (or inside a header): the frames
 * before it, then one STREAM DECODE error naming the frame's offset. */
GST_START_TEST (test_parse_truncated)
{
  GstBuffer **frames = token_frames (2, NULL);
  GBytes *all = concat (frames, 2);
  gsize size, frame_size = gst_buffer_get_size (frames[0]);
  const guint8 *data = g_bytes_get_data (all, &size);
  const gsize cuts[] = { frame_size + HEADER / 2, frame_size + HEADER,
    size - 1
  };
  gchar *offset = g_strdup_printf ("byte offset %" G_GSIZE_FORMAT,
      frame_size);

  for (guint c = 0; c < G_N_ELEMENTS (cuts); c++) {
    GstBus *bus = gst_bus_new ();
    GstHarness *h = harness_parse (bus, NULL, NULL);
    GError *error;
    gchar *debug = NULL;
    GstBuffer *out;

    push_bytes (h, data, cuts[c], 3000);
    fail_unless_equals_int (gst_harness_buffers_received (h), 1);
    out = gst_harness_pull (h);
    fail_unless (buffers_equal (out, frames[0]));
    gst_buffer_unref (out);
    error = expect_error (bus, &debug);
    fail_unless (g_error_matches (error, GST_STREAM_ERROR,
            GST_STREAM_ERROR_DECODE), "%s", error->message);
    fail_unless (strstr (error->message, offset) != NULL, "%s", error->message);
    fail_unless (strstr (error->message, "ends inside a frame") != NULL,
        "%s", error->message);
    fail_unless (strstr (debug, "frame 1") != NULL, "%s", debug);
    g_clear_error (&error);
    g_free (debug);
    fail_unless_equals_int (count_more_errors (bus, h->element), 0);
    gst_element_set_bus (h->element, NULL);
    gst_harness_teardown (h);
    gst_object_unref (bus);
  }
  g_free (offset);
  g_bytes_unref (all);
  frames_free (frames, 2);
}

GST_END_TEST;

/* The second frame's header damaged in one field at a time: the first
 * frame, then one STREAM DECODE error naming offset and field; nothing is
 * allocated for the size a header claims. */
GST_START_TEST (test_parse_corrupt_header)
{
  GstBuffer **frames = token_frames (2, NULL);
  GBytes *all = concat (frames, 2);
  gsize size, frame_size = gst_buffer_get_size (frames[0]);
  const guint8 *data = g_bytes_get_data (all, &size);
  struct
  {
    guint field;                /* byte offset in the header */
    guint32 value;
    const gchar *debug;
  } cases[] = {
    {0, 0x54524148 ^ 0x20, "expected the magic \"HARTTOKF\", found"},
    {8, 2, "version 2, header size 128, dtype 0; expected version 1"},
    {12, 256, "header size 256"},
    {120, 1, "dtype 1"},
    {88, 1025, "implausible dimensions"},       /* side */
    {92, 0, "implausible dimensions"},  /* embed dim */
    {80, 65, "implausible dimensions"}, /* batch */
    {100, G_MAXUINT32, "implausible dimensions"},       /* stage tokens */
    {16, 0x7a7a7a7a, "the fingerprint is not ASCII hex (byte 0 is 0x7a)"},
    /* within the bounds, but 2 × 64 × 1024² × 65536 floats: refused from
     * the header by max-frame-size, not collected */
    {92, 65536, "max-frame-size is 1073741824"},
  };
  gchar *offset = g_strdup_printf ("byte offset %" G_GSIZE_FORMAT,
      frame_size);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    guint8 *copy = g_memdup2 (data, size);
    GstBus *bus = gst_bus_new ();
    GstHarness *h = harness_parse (bus, NULL, NULL);
    GError *error;
    gchar *debug = NULL;

    put_u32 (copy + frame_size + cases[c].field, cases[c].value);
    if (cases[c].field == 92 && cases[c].value == 65536) {
      put_u32 (copy + frame_size + 80, 64);     /* batch */
      put_u32 (copy + frame_size + 88, 1024);   /* side */
    }
    fail_unless_equals_int (push_bytes (h, copy, size, 7000), GST_FLOW_ERROR);
    fail_unless_equals_int (gst_harness_buffers_received (h), 1);
    error = expect_error (bus, &debug);
    fail_unless (g_error_matches (error, GST_STREAM_ERROR,
            GST_STREAM_ERROR_DECODE), "%s", error->message);
    fail_unless (strstr (error->message, offset) != NULL, "case %u: %s", c,
        error->message);
    fail_unless (strstr (debug, cases[c].debug) != NULL, "case %u: %s", c,
        debug);
    g_clear_error (&error);
    g_free (debug);
    fail_unless_equals_int (count_more_errors (bus, h->element), 0);
    gst_element_set_bus (h->element, NULL);
    gst_harness_teardown (h);
    gst_object_unref (bus);
    g_free (copy);
  }

  /* a smaller max-frame-size refuses the real frames */
  {
    GstBus *bus = gst_bus_new ();
    GstHarness *h = gst_harness_new ("hartparse");
    GError *error;
    gchar *debug = NULL;

    g_object_set (h->element, "max-frame-size", (guint64) frame_size - 1, NULL);
    gst_element_set_bus (h->element, bus);
    gst_harness_set_src_caps_str (h, TOKENS_CAPS);
    gst_harness_play (h);
    fail_unless_equals_int (push_bytes (h, data, size, 7000), GST_FLOW_ERROR);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    error = expect_error (bus, &debug);
    fail_unless (strstr (error->message, "byte offset 0") != NULL, "%s",
        error->message);
    fail_unless (strstr (error->message, "max-frame-size") != NULL, "%s",
        error->message);
    g_clear_error (&error);
    g_free (debug);
    gst_element_set_bus (h->element, NULL);
    gst_harness_teardown (h);
    gst_object_unref (bus);
  }
  g_free (offset);
  g_bytes_unref (all);
  frames_free (frames, 2);
}

GST_END_TEST;

/* Random bytes, and a good stream with random damage (a byte of a header
 * changed, a cut anywhere), in pieces of random sizes: every run ends
 * (EOS or an error, in bounded time), and whatever comes out is whole
 * frames of the input, in order. */
GST_START_TEST (test_parse_fuzz)
{
  GstBuffer **frames = token_frames (2, NULL);
  GBytes *all = concat (frames, 2);
  gsize size, frame_size = gst_buffer_get_size (frames[0]);
  const guint8 *data = g_bytes_get_data (all, &size);
  GRand *rand = g_rand_new_with_seed (20260518);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  for (guint run = 0; run < 300 && g_get_monotonic_time () < deadline; run++) {
    GstBus *bus = gst_bus_new ();
    GstHarness *h = harness_parse (bus, NULL, NULL);
    gsize n = size;
    guint8 *input;
    GstBuffer *out;
    guint received;
    gboolean damaged = FALSE;

    if (run % 3 == 0) {
      /* garbage, sometimes starting with the magic */
      n = g_rand_int_range (rand, 0, 4096);
      input = g_malloc (MAX (n, 8));
      for (gsize i = 0; i < n; i++)
        input[i] = g_rand_int_range (rand, 0, 256);
      if (run % 2 == 0 && n >= 8)
        memcpy (input, "HARTTOKF", 8);
      damaged = TRUE;
    } else {
      input = g_memdup2 (data, size);
      if (g_rand_boolean (rand)) {
        gsize frame = g_rand_int_range (rand, 0, 2) * frame_size;

        input[frame + g_rand_int_range (rand, 0, HEADER)] =
            g_rand_int_range (rand, 0, 256);
        damaged = TRUE;
      }
      if (g_rand_boolean (rand)) {
        n = g_rand_int_range (rand, 0, size);
        damaged = TRUE;
      }
    }
    push_bytes (h, input, n, g_rand_int_range (rand, 64, 20000));

    /* whole frames, in order, or an error */
    received = gst_harness_buffers_received (h);
    fail_unless (received <= 2);
    for (guint i = 0; i < received; i++) {
      GstMapInfo map;

      out = gst_harness_pull (h);
      fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
      fail_unless (map.size >= HEADER);
      fail_unless (memcmp (map.data, input + i * frame_size,
              map.size) == 0, "run %u: frame %u is not the input's", run, i);
      gst_buffer_unmap (out, &map);
      gst_buffer_unref (out);
    }
    if (!damaged)
      fail_unless_equals_int (received, 2);
    if (received < 2 && n > 0) {
      GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

      /* a damaged byte may be one no check reads (the seed, the cfg
       * scale): the frames then pass, for hartrefine to judge */
      fail_unless (msg != NULL, "run %u: %u frames of %" G_GSIZE_FORMAT
          " bytes and no error", run, received, n);
      gst_message_unref (msg);
    }
    gst_element_set_bus (h->element, NULL);
    gst_harness_teardown (h);
    gst_object_unref (bus);
    g_free (input);
  }
  g_rand_free (rand);
  g_bytes_unref (all);
  frames_free (frames, 2);
}

GST_END_TEST;

/* ---- hartrefine's caps query ---- */

GST_START_TEST (test_refine_caps_query)
{
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  GstPad *sink;
  GstCaps *caps, *other;
  const GstStructure *s;
  const gchar *fingerprint;
  gint width = 0, height = 0;
  GstHarness *h;

  /* before start: the template, any size, any model */
  sink = gst_element_get_static_pad (refine_el, "sink");
  caps = gst_pad_query_caps (sink, NULL);
  s = gst_caps_get_structure (caps, 0);
  fail_if (gst_structure_has_field (s, "fingerprint"));
  fail_if (gst_structure_get_int (s, "width", &width));
  gst_caps_unref (caps);
  gst_object_unref (sink);

  /* started: its model's size and fingerprint */
  g_object_set (refine_el, "model-path", model_dir, NULL);
  h = gst_harness_new_with_element (refine_el, "sink", "src");
  gst_object_unref (refine_el);
  gst_harness_set_sink_caps_str (h, "video/x-raw, format=RGB");
  gst_harness_play (h);
  sink = gst_element_get_static_pad (h->element, "sink");
  caps = gst_pad_query_caps (sink, NULL);
  fail_unless_equals_int (gst_caps_get_size (caps), 1);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, TOKENS_CAPS));
  fail_unless (gst_structure_get_int (s, "width", &width));
  fail_unless (gst_structure_get_int (s, "height", &height));
  fail_unless_equals_int (width, TINY_SIZE);
  fail_unless_equals_int (height, TINY_SIZE);
  fingerprint = gst_structure_get_string (s, "fingerprint");
  fail_unless (fingerprint != NULL && strlen (fingerprint) == 64);

  /* an offer of another model is not answered empty: the caps then reach
   * set_caps, whose error names both models (E63) */
  other = gst_caps_from_string (TOKENS_CAPS ", width=(int)128, "
      "height=(int)128, fingerprint=(string)"
      "0000000000000000000000000000000000000000000000000000000000000000");
  gst_caps_unref (caps);
  caps = gst_pad_query_caps (sink, other);
  fail_if (gst_caps_is_empty (caps));
  gst_caps_unref (caps);
  gst_caps_unref (other);
  gst_object_unref (sink);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* N token frames of the fixture model back to back in x.tok, in a folder
 * of its own (token_file_remove takes both away). */
static gchar *
token_file (guint n)
{
  GstBuffer **frames = token_frames (n, NULL);
  GBytes *all = concat (frames, n);
  gchar *dir = g_dir_make_tmp ("hartparse-XXXXXX", NULL);
  gchar *file;

  fail_unless (dir != NULL);
  file = g_build_filename (dir, "x.tok", NULL);
  fail_unless (g_file_set_contents (file, g_bytes_get_data (all, NULL),
          g_bytes_get_size (all), NULL));
  g_free (dir);
  g_bytes_unref (all);
  frames_free (frames, n);
  return file;
}

static void
token_file_remove (gchar * file)
{
  gchar *dir = g_path_get_dirname (file);

  g_unlink (file);
  g_rmdir (dir);
  g_free (dir);
  g_free (file);
}

/* `hartsrc ! filesink`, then `filesrc ! hartparse ! hartrefine`, and with
 * typefind in front: the pictures of `hartsrc ! hartrefine`. */
GST_START_TEST (test_file_round_trip)
{
  gchar *file = token_file (3);
  GstBuffer *whole[3];
  const gchar *const heads[] = { "", "typefind ! " };

  /* the reference: each frame through hartrefine, as hartsrc ! hartrefine */
  {
    gchar *line = g_strdup_printf ("hartsrc model-path=\"%s\" num-buffers=3 "
        "seed-mode=increment ! hartrefine model-path=\"%s\" ! "
        "capsfilter caps=video/x-raw,format=RGB", model_dir, model_dir);
    GstHarness *h = gst_harness_new_parse (line);

    gst_harness_play (h);
    for (guint i = 0; i < 3; i++)
      whole[i] = pull_buffer (h);
    gst_harness_teardown (h);
    g_free (line);
  }
  for (guint k = 0; k < G_N_ELEMENTS (heads); k++) {
    gchar *line = g_strdup_printf ("filesrc location=\"%s\" ! %shartparse ! "
        "hartrefine model-path=\"%s\" ! capsfilter caps=video/x-raw,format=RGB",
        file, heads[k], model_dir);
    GstHarness *h = gst_harness_new_parse (line);

    gst_harness_play (h);
    for (guint i = 0; i < 3; i++) {
      GstBuffer *out = pull_buffer (h);

      fail_unless (buffers_equal (out, whole[i]), "%s: frame %u differs",
          line, i);
      gst_buffer_unref (out);
    }
    gst_harness_teardown (h);
    g_free (line);
  }
  for (guint i = 0; i < 3; i++)
    gst_buffer_unref (whole[i]);
  token_file_remove (file);
}

GST_END_TEST;

/* A capsfilter between filesrc and the parser gives the framerate and size
 * the file does not hold, whether the parser pulls (filesrc ! capsfilter
 * ! hartparse: no caps event comes) or is pushed to (a queue between):
 * frame n stamped n / framerate, caps with the size. */
GST_START_TEST (test_file_upstream_caps)
{
  gchar *file = token_file (3);
  const gchar *const between[] = { "", "queue ! " };

  for (guint k = 0; k < G_N_ELEMENTS (between); k++) {
    gchar *line = g_strdup_printf ("filesrc location=\"%s\" ! "
        "capsfilter caps=\"video/x-hart-tokens, framerate=(fraction)10/1, "
        "width=(int)128, height=(int)128\" ! %shartparse", file, between[k]);
    GstHarness *h = gst_harness_new_parse (line);
    GstCaps *caps;
    const GstStructure *s;
    gint fps_n = 0, fps_d = 0, width = 0;

    gst_harness_play (h);
    for (guint i = 0; i < 3; i++) {
      GstBuffer *out = pull_buffer (h);

      fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
          gst_util_uint64_scale (i, GST_SECOND, 10));
      gst_buffer_unref (out);
    }
    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (caps != NULL, "%s: no caps", line);
    s = gst_caps_get_structure (caps, 0);
    fail_unless (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d));
    fail_unless (fps_n == 10 && fps_d == 1, "%s: %" GST_PTR_FORMAT, line, caps);
    fail_unless (gst_structure_get_int (s, "width", &width) && width == 128,
        "%s: %" GST_PTR_FORMAT, line, caps);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
    g_free (line);
  }
  token_file_remove (file);
}

GST_END_TEST;

static GstPadProbeReturn
keep_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_ptr_array_add (user_data, gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER
          (info)));
  return GST_PAD_PROBE_OK;
}

/* Runs PIPELINE_LINE to EOS (fails on an error or after 60 s); returns
 * the buffers that reached the element named "sink", if any. */
static GPtrArray *
run_to_eos (const gchar * pipeline_line)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (pipeline_line, &error);
  GstElement *sink;
  GPtrArray *buffers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (pipeline != NULL && error == NULL, "%s: %s", pipeline_line,
      error ? error->message : "?");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (sink != NULL) {
    GstPad *pad = gst_element_get_static_pad (sink, "sink");

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, keep_buffer, buffers,
        NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
  }
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *debug = NULL;

    gst_message_parse_error (msg, &error, &debug);
    fail ("%s: %s (%s)", pipeline_line, error->message, debug);
  }
  fail_unless (msg != NULL, "%s: no EOS", pipeline_line);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return buffers;
}

/* decodebin plugs the typefinder, hartparse and hartrefine (a decoder of
 * token frames, rank marginal): a token file of the bundled model decodes
 * to the pictures of `hartsrc ! hartrefine` with no HART element named
 * after filesrc. */
GST_START_TEST (test_decodebin)
{
  gchar *dir = g_dir_make_tmp ("hartparse-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "bundled.tok", NULL);
  gchar *line = g_strdup_printf ("hartsrc num-buffers=2 seed-mode=increment "
      "! video/x-hart-tokens ! filesink location=\"%s\"", file);
  gchar *decode_line = g_strdup_printf ("filesrc location=\"%s\" ! decodebin "
      "! capsfilter caps=video/x-raw,format=RGB ! fakesink name=sink", file);
  GPtrArray *none, *want, *got;

  none = run_to_eos (line);
  want = run_to_eos ("hartsrc num-buffers=2 seed-mode=increment ! "
      "hartrefine ! capsfilter caps=video/x-raw,format=RGB ! "
      "fakesink name=sink");
  got = run_to_eos (decode_line);
  fail_unless_equals_int (want->len, 2);
  fail_unless_equals_int (got->len, 2);
  for (guint i = 0; i < 2; i++)
    fail_unless (buffers_equal (g_ptr_array_index (got, i),
            g_ptr_array_index (want, i)), "frame %u differs", i);
  g_ptr_array_unref (none);
  g_ptr_array_unref (want);
  g_ptr_array_unref (got);
  token_file_remove (file);
  g_free (decode_line);
  g_free (line);
  g_free (dir);
}

GST_END_TEST;

static Suite *
hartparse_suite (void)
{
  Suite *s = suite_create ("hartparse");
  TCase *tc = tcase_create ("general");

  hart_check_setup_fixtures ();
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, hart_check_keep_loaded,
      hart_check_release_loaded);
  tcase_add_test (tc, test_typefind);
  tcase_add_test (tc, test_parse_frames);
  tcase_add_test (tc, test_parse_timestamps);
  tcase_add_test (tc, test_parse_truncated);
  tcase_add_test (tc, test_parse_corrupt_header);
  tcase_add_test (tc, test_parse_fuzz);
  tcase_add_test (tc, test_refine_caps_query);
  tcase_add_test (tc, test_file_round_trip);
  tcase_add_test (tc, test_file_upstream_caps);
  tcase_add_test (tc, test_decodebin);
  return s;
}

GST_CHECK_MAIN (hartparse);
