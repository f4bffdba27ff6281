/* gst-hart — hartrefine element tests
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "hart-check.h"
#include "tests/hart-test-bf16.h"

#include <math.h>
#include <string.h>

#define TOKENS_CAPS "video/x-hart-tokens"

/* Token frames 0 … N−1 of a hartsrc (seed-mode increment) and their caps. */
static GstBuffer **
token_frames (guint n, GstCaps ** caps)
{
  GstHarness *h = harness_hartsrc (n, TOKENS_CAPS);
  GstBuffer **frames = g_new0 (GstBuffer *, n);

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_play (h);
  for (guint i = 0; i < n; i++)
    frames[i] = pull_buffer (h);
  *caps = gst_pad_get_current_caps (h->sinkpad);
  gst_harness_teardown (h);
  return frames;
}

/* The same frames from hartsrc alone, raw RGB. */
static GstBuffer **
raw_frames (guint n)
{
  GstHarness *h = harness_hartsrc (n, "video/x-raw, format=RGB");
  GstBuffer **frames = g_new0 (GstBuffer *, n);

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_play (h);
  for (guint i = 0; i < n; i++)
    frames[i] = pull_buffer (h);
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

/* A hartrefine harness on the tiny model, fed CAPS, producing RGB. */
static GstHarness *
harness_hartrefine_in (const GstCaps * caps, const gchar * precision)
{
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  GstHarness *h;

  /* the harness starts an element with a sink pad right away: the model
   * path and precision must be set before */
  g_object_set (refine_el, "model-path", model_dir, NULL);
  gst_util_set_object_arg (G_OBJECT (refine_el), "precision", precision);
  h = gst_harness_new_with_element (refine_el, "sink", "src");
  gst_object_unref (refine_el);
  gst_harness_set_sink_caps_str (h, "video/x-raw, format=RGB");
  if (caps)
    gst_harness_set_src_caps (h, gst_caps_copy (caps));
  return h;
}

static GstHarness *
harness_hartrefine (const GstCaps * caps)
{
  return harness_hartrefine_in (caps, "fp32");
}

/* Refines BUFFER (a ref is taken) in H. */
static GstBuffer *
refine (GstHarness * h, GstBuffer * buffer)
{
  GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (buffer));

  fail_unless (out != NULL);
  return out;
}

GST_START_TEST (test_properties_round_trip)
{
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  gchar *model;
  gint device, device_id;
  guint64 seed;
  gboolean temporal_noise;

  fail_unless (refine_el != NULL);
  g_object_get (refine_el, "model-path", &model, "device", &device,
      "device-id", &device_id, "seed", &seed, "temporal-noise",
      &temporal_noise, NULL);
  fail_unless (model == NULL);
  fail_unless_equals_int (device, 0);
  fail_unless_equals_int (device_id, 0);
  fail_unless_equals_uint64 (seed, G_MAXUINT64);
  fail_unless (!temporal_noise);

  gst_util_set_object_arg (G_OBJECT (refine_el), "device", "cuda");
  g_object_set (refine_el, "model-path", "/a/model", "device-id", 2, "seed",
      (guint64) 42, "temporal-noise", TRUE, NULL);
  g_object_get (refine_el, "model-path", &model, "device", &device,
      "device-id", &device_id, "seed", &seed, "temporal-noise",
      &temporal_noise, NULL);
  fail_unless_equals_string (model, "/a/model");
  fail_unless_equals_int (device, 2);
  fail_unless_equals_int (device_id, 2);
  fail_unless_equals_uint64 (seed, 42);
  fail_unless (temporal_noise);
  g_free (model);
  gst_object_unref (refine_el);
}

GST_END_TEST;

/* hartsrc ! hartrefine gives the bytes of hartsrc alone, frame by frame,
 * and carries the frame's GstHartMeta (one: the input's, prompt included,
 * set again from the token frame's header). */
GST_START_TEST (test_split_equals_whole)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (2, &caps);
  GstBuffer **whole = raw_frames (2);
  GstHarness *h = harness_hartrefine (caps);
  GstCaps *out_caps;
  gint width, height;

  gst_harness_play (h);
  for (guint i = 0; i < 2; i++) {
    GstBuffer *split = refine (h, tokens[i]);
    const GstStructure *s = hart_meta_checked (split, TRUE);

    fail_unless (buffers_equal (split, whole[i]), "frame %u differs", i);
    fail_unless (gst_structure_is_equal (s, hart_meta_checked (whole[i],
                TRUE)), "%s vs %s", gst_structure_to_string (s),
        gst_structure_to_string (hart_meta_checked (whole[i], TRUE)));
    gst_buffer_unref (split);
  }
  out_caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (out_caps, 0),
          "width", &width));
  fail_unless (gst_structure_get_int (gst_caps_get_structure (out_caps, 0),
          "height", &height));
  fail_unless_equals_int (width, TINY_SIZE);
  fail_unless_equals_int (height, TINY_SIZE);
  gst_caps_unref (out_caps);
  gst_harness_teardown (h);
  frames_free (tokens, 2);
  frames_free (whole, 2);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* Starts a hartrefine in PRECISION and expects the error a precision the
 * device lacks gives: LIBRARY/SETTINGS, and no start. */
static void
expect_precision_refused (const gchar * precision)
{
  GstElement *el = gst_element_factory_make ("hartrefine", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  gst_element_set_bus (el, bus);
  g_object_set (el, "model-path", model_dir, NULL);
  gst_util_set_object_arg (G_OBJECT (el), "precision", precision);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  hart_check_precision_refused (msg, precision);
  gst_element_set_state (el, GST_STATE_NULL);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
  gst_object_unref (el);
}

/* Precision: hartrefine's pictures carry its own precision in the meta and
 * keep the token maps' as tokens-precision when it differs; bf16
 * refinement is its own computation (docs/precision.md). */
GST_START_TEST (test_precision)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (1, &caps);
  GstBuffer **whole = raw_frames (1);
  GstHarness *h = harness_hartrefine (caps);
  GstBuffer *out;
  const GstStructure *s;

  /* fp32 tokens, fp32 refinement: no tokens-precision */
  gst_harness_play (h);
  out = refine (h, tokens[0]);
  s = hart_meta_checked (out, TRUE);
  fail_unless_equals_string (gst_structure_get_string (s, "precision"), "fp32");
  fail_if (gst_structure_has_field (s, "tokens-precision"));
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  /* bf16 where this build must have it (every CPU, with oneDNN), the
   * refusal where it must not (tests/hart-test-bf16.h) */
  if (hart_test_bf16 () == HART_TEST_BF16_YES) {
    h = harness_hartrefine_in (caps, "bf16");
    gst_harness_play (h);
    out = refine (h, tokens[0]);
    s = hart_meta_checked (out, TRUE);
    fail_unless_equals_string (gst_structure_get_string (s, "precision"),
        "bf16");
    fail_unless_equals_string (gst_structure_get_string (s,
            "tokens-precision"), "fp32");
    fail_if (buffers_equal (out, whole[0]), "bf16 refined as fp32 does");
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  } else {
    expect_precision_refused ("bf16");
  }
  frames_free (tokens, 1);
  frames_free (whole, 1);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* what hartrefine knows without an upstream meta */
static const gchar *const header_fields[] = {
  "seed", "frame", "cfg-scale", "model", "fingerprint"
};

/* A token frame that lost its meta (a file, the network) gets it back from
 * its header: seed, frame, cfg, fingerprint, and the loaded model's name;
 * no prompt (the header has none).  Progress messages name the frame by
 * the input buffer's offset and PTS. */
GST_START_TEST (test_meta_from_token_header)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (2, &caps);
  GstHarness *h = harness_hartrefine (caps);
  GstBus *bus = gst_bus_new ();

  /* the harness gives its element no bus: the progress messages go here */
  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  for (guint i = 0; i < 2; i++) {
    const GstStructure *upstream = hart_meta_checked (tokens[i], TRUE);
    GstMapInfo map;
    GstBuffer *bare, *out;
    const GstStructure *s;
    GstMessage *msg;
    guint n_progress = 0;

    fail_unless (gst_buffer_map (tokens[i], &map, GST_MAP_READ));
    bare = gst_buffer_new_memdup (map.data, map.size);
    gst_buffer_unmap (tokens[i], &map);
    GST_BUFFER_OFFSET (bare) = 40 + i;
    GST_BUFFER_PTS (bare) = (5 + i) * GST_SECOND;
    fail_unless (gst_buffer_get_custom_meta (bare, "GstHartMeta") == NULL);

    out = refine (h, bare);
    s = hart_meta_checked (out, FALSE);
    for (guint f = 0; f < G_N_ELEMENTS (header_fields); f++) {
      const gchar *field = header_fields[f];

      fail_unless (gst_value_compare (gst_structure_get_value (s, field),
              gst_structure_get_value (upstream, field)) == GST_VALUE_EQUAL,
          "%s: %s vs %s", field, gst_structure_to_string (s),
          gst_structure_to_string (upstream));
    }
    gst_buffer_unref (out);
    gst_buffer_unref (bare);

    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) != NULL) {
      guint64 frame;
      GstClockTime pts;
      gint stage, n_stages;

      progress_checked (msg, &frame, &pts, &stage, &n_stages);
      fail_unless_equals_uint64 (frame, 40 + i);
      fail_unless_equals_clocktime (pts, (5 + i) * GST_SECOND);
      gst_message_unref (msg);
      n_progress++;
    }
    fail_unless (n_progress > 0, "no progress messages");
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  frames_free (tokens, 2);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* Defect 6: GDP carries no metas; hartrefine after gdppay ! gdpdepay still
 * gives each picture its GstHartMeta, from the token frame's header. */
GST_START_TEST (test_meta_after_gdp)
{
  gchar *line;
  GstHarness *h;

  if (!gst_registry_check_feature_version (gst_registry_get (), "gdppay", 1,
          0, 0)) {
    /* gst-plugins-bad's gdp plugin (tests/meson.build links it) */
    g_printerr ("SKIP test_meta_after_gdp: no element gdppay\n");
    return;
  }
  line = g_strdup_printf ("hartsrc model-path=\"%s\" num-buffers=2 "
      "seed=5 cfg-scale=3.5 seed-mode=increment ! video/x-hart-tokens ! "
      "gdppay ! gdpdepay ! "
      "hartrefine model-path=\"%s\" ! "
      "capsfilter caps=video/x-raw,format=RGB", model_dir, model_dir);
  h = gst_harness_new_parse (line);
  gst_harness_play (h);
  for (guint i = 0; i < 2; i++) {
    GstBuffer *out = pull_buffer (h);
    const GstStructure *s = hart_meta_checked (out, FALSE);
    guint64 seed;
    guint frame;
    gdouble cfg;

    fail_unless (gst_structure_get_uint64 (s, "seed", &seed));
    fail_unless_equals_uint64 (seed, 5);
    fail_unless (gst_structure_get_uint (s, "frame", &frame));
    fail_unless_equals_int (frame, i);
    /* the header stores the guidance in single precision: 3.5 is exact */
    fail_unless (gst_structure_get_double (s, "cfg-scale", &cfg));
    fail_unless_equals_float (cfg, 3.5);
    fail_unless_equals_string (gst_structure_get_string (s, "model"),
        "hart-0.7b-1024px");
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_free (line);
}

GST_END_TEST;

/* The same through one pipeline with a queue, as users write it. */
GST_START_TEST (test_split_pipeline)
{
  gchar *line = g_strdup_printf ("hartsrc model-path=\"%s\" num-buffers=1 "
      "seed=3 ! queue ! hartrefine model-path=\"%s\" ! "
      "capsfilter caps=video/x-raw,format=RGB", model_dir, model_dir);
  GstHarness *split = gst_harness_new_parse (line);
  GstBuffer *a, *b;

  gst_harness_play (split);
  a = pull_buffer (split);
  b = first_frame ("seed", (guint64) 3, NULL);
  fail_unless (buffers_equal (a, b));
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_harness_teardown (split);
  g_free (line);
}

GST_END_TEST;

/* seed and temporal-noise change the residual diffusion noise only. */
GST_START_TEST (test_seed_and_temporal_noise)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (2, &caps);
  GstHarness *h = harness_hartrefine (caps);
  GstBuffer *base0, *base1, *noise0, *noise1, *reseeded, *same_seed;

  gst_harness_play (h);
  base0 = refine (h, tokens[0]);
  base1 = refine (h, tokens[1]);
  g_object_set (h->element, "temporal-noise", TRUE, NULL);
  noise0 = refine (h, tokens[0]);
  noise1 = refine (h, tokens[1]);
  g_object_set (h->element, "temporal-noise", FALSE, "seed", (guint64) 1234,
      NULL);
  reseeded = refine (h, tokens[0]);
  /* hartsrc's default seed, given explicitly */
  g_object_set (h->element, "seed", (guint64) 1, NULL);
  same_seed = refine (h, tokens[0]);

  /* frame 0 draws as frame 0 anyway */
  fail_unless (buffers_equal (base0, noise0));
  /* frame 1 takes frame 0's noise instead of its own */
  fail_if (buffers_equal (base1, noise1));
  fail_if (buffers_equal (base0, reseeded));
  fail_unless (buffers_equal (base0, same_seed));

  gst_buffer_unref (base0);
  gst_buffer_unref (base1);
  gst_buffer_unref (noise0);
  gst_buffer_unref (noise1);
  gst_buffer_unref (reseeded);
  gst_buffer_unref (same_seed);
  gst_harness_teardown (h);
  frames_free (tokens, 2);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* Caps of another model are refused at negotiation with a clear error. */
GST_START_TEST (test_refuse_other_model)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (1, &caps);
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  gst_structure_set (gst_caps_get_structure (caps, 0), "fingerprint",
      G_TYPE_STRING, "00000000000000000000000000000000"
      "00000000000000000000000000000000", NULL);
  /* the bus first: the caps are refused once, when they arrive */
  h = harness_hartrefine (NULL);
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (tokens[0])),
      GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION), "%s", error->message);
  fail_unless (strstr (debug, "fingerprint") != NULL, "%s", debug);
  /* both models: the frames' by fingerprint, the loaded one by name */
  fail_unless (strstr (error->message, "(fingerprint 000000000000)") != NULL,
      "%s", error->message);
  fail_unless (strstr (error->message, "\"hart-0.7b-1024px\"") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  /* the same caps again (upstream retrying): no second error */
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (tokens[0])),
      GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (count_more_errors (bus, h->element), 0);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);

  /* and raw video is not a token frame */
  h = harness_hartrefine (NULL);
  {
    GstCaps *raw = gst_caps_from_string ("video/x-raw, format=RGB, "
        "width=128, height=128, framerate=1/1");

    fail_if (gst_pad_peer_query_accept_caps (h->srcpad, raw));
    gst_caps_unref (raw);
  }
  gst_harness_teardown (h);

  gst_object_unref (bus);
  frames_free (tokens, 1);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* The tiny model's frames into hartrefine with the bundled model (no
 * model-path): one error naming both models, the loaded one by its name
 * (its model-path is NULL: the message said "(null)"). */
GST_START_TEST (test_refuse_other_model_bundled)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (1, &caps);
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;
  gchar *theirs = NULL;
  const gchar *fingerprint;

  fingerprint = gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "fingerprint");
  fail_unless (fingerprint != NULL);
  theirs = g_strdup_printf ("(fingerprint %.12s)", fingerprint);
  g_object_set (refine_el, "model-path", NULL, NULL);
  h = gst_harness_new_with_element (refine_el, "sink", "src");
  gst_object_unref (refine_el);
  gst_harness_set_sink_caps_str (h, "video/x-raw, format=RGB");
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps (h, gst_caps_ref (caps));
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (tokens[0])),
      GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION), "%s", error->message);
  fail_if (strstr (error->message, "(null)") != NULL, "%s", error->message);
  fail_unless (strstr (error->message, "\"shapes-64px\"") != NULL, "%s",
      error->message);
  fail_unless (strstr (error->message, theirs) != NULL, "%s", error->message);
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  fail_unless_equals_int (count_more_errors (bus, h->element), 0);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);

  g_free (theirs);
  gst_object_unref (bus);
  frames_free (tokens, 1);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* A malformed token buffer is a stream error, not a crash. */
static void
expect_decode_error (GstCaps * caps, GstBuffer * bad)
{
  GstHarness *h = harness_hartrefine (caps);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, bad), GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE), "%s", error->message);
  /* GStreamer drops debug text that is not UTF-8 */
  fail_unless (debug != NULL && strstr (debug, "token frame") != NULL,
      "debug text %s", GST_STR_NULL (debug));
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  fail_unless_equals_int (count_more_errors (bus, h->element), 0);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

GST_START_TEST (test_corrupted_token_frame)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (1, &caps);
  const gsize size = gst_buffer_get_size (tokens[0]);
  GstBuffer *bad;
  GstMapInfo map;

  /* truncated */
  bad = gst_buffer_copy_region (tokens[0], GST_BUFFER_COPY_ALL, 0, size - 4);
  expect_decode_error (caps, bad);
  /* wrong magic */
  bad = gst_buffer_copy_deep (tokens[0]);
  gst_buffer_map (bad, &map, GST_MAP_WRITE);
  map.data[0] = 'X';
  gst_buffer_unmap (bad, &map);
  expect_decode_error (caps, bad);
  /* an absurd dimension */
  bad = gst_buffer_copy_deep (tokens[0]);
  gst_buffer_map (bad, &map, GST_MAP_WRITE);
  map.data[88] = 0xff, map.data[89] = 0xff, map.data[90] = 0xff;
  gst_buffer_unmap (bad, &map);
  expect_decode_error (caps, bad);
  /* a fingerprint that is not ASCII hex, nor even UTF-8 */
  bad = gst_buffer_copy_deep (tokens[0]);
  gst_buffer_map (bad, &map, GST_MAP_WRITE);
  map.data[16] = 0xff, map.data[17] = 0xc3;
  gst_buffer_unmap (bad, &map);
  expect_decode_error (caps, bad);
  /* a few bytes */
  bad = gst_buffer_new_allocate (NULL, 7, NULL);
  gst_buffer_memset (bad, 0, 0, 7);
  expect_decode_error (caps, bad);

  frames_free (tokens, 1);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* A token frame holding NaN or Inf posts exactly one STREAM/DECODE error
 * whose debug text names the field, value and element. */
static void
expect_one_decode_error (GstCaps * caps, GstBuffer * bad, const gchar * debug)
{
  GstHarness *h = harness_hartrefine (caps);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *dbg = NULL;

  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, bad), GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &dbg);
  fail_unless (g_error_matches (error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE), "%s", error->message);
  fail_unless (dbg != NULL && strstr (dbg, debug) != NULL, "%s", dbg);
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  g_clear_error (&error);
  g_free (dbg);
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static GstBuffer *
with_float (GstBuffer * frame, gsize offset, gfloat value)
{
  GstBuffer *bad = gst_buffer_copy_deep (frame);
  guint32 bits;

  memcpy (&bits, &value, 4);
  bits = GUINT32_TO_LE (bits);
  gst_buffer_fill (bad, offset, &bits, 4);
  return bad;
}

GST_START_TEST (test_non_finite_token_frame)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (1, &caps);

  /* cfg scale at byte 104; f_hat[2] at 128 + 2·4 (docs/token-frames.md) */
  expect_one_decode_error (caps, with_float (tokens[0], 104, NAN),
      "token frame: cfg scale is NaN");
  expect_one_decode_error (caps, with_float (tokens[0], 136, INFINITY),
      "token frame: f_hat holds +Inf at element 2");

  frames_free (tokens, 1);
  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;

  gst_element_set_bus (refine_el, bus);
  g_object_set (refine_el, "model-path", "/nonexistent/hart-0.7b-1024px", NULL);
  fail_unless_equals_int (gst_element_set_state (refine_el,
          GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", error->message);
  g_clear_error (&error);
  gst_message_unref (msg);

  /* no model-path and no bundled model where it is looked up */
  g_object_set (refine_el, "model-path", NULL, NULL);
  g_setenv ("HART_BUNDLED_MODEL_DIR", "/nonexistent", TRUE);
  fail_unless_equals_int (gst_element_set_state (refine_el,
          GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  g_unsetenv ("HART_BUNDLED_MODEL_DIR");
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", error->message);
  fail_unless (strstr (error->message, "bundled") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  gst_message_unref (msg);

  gst_element_set_state (refine_el, GST_STATE_NULL);
  gst_element_set_bus (refine_el, NULL);
  gst_object_unref (refine_el);
  gst_object_unref (bus);
}

GST_END_TEST;

/* hartsrc and hartrefine of one model share it. */
GST_START_TEST (test_shared_model)
{
  CacheCountFunc cache_count = lookup_cache_count ();
  GstElement *src = make_hartsrc (1);
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  guint users;

  g_object_set (refine_el, "model-path", model_dir, NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  /* basesrc starts in READY → PAUSED; basetransform too */
  fail_unless (gst_element_set_state (src, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_set_state (refine_el, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (cache_count ("model", &users), 1);
  fail_unless_equals_int (users, 2);
  fail_unless_equals_int (cache_count ("engine", &users), 1);
  fail_unless_equals_int (users, 2);

  gst_element_set_state (src, GST_STATE_NULL);
  fail_unless_equals_int (cache_count ("model", &users), 1);
  fail_unless_equals_int (users, 1);
  gst_element_set_state (refine_el, GST_STATE_NULL);
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  gst_object_unref (src);
  gst_object_unref (refine_el);
}

GST_END_TEST;

/* batch-size=3: token frames wait until three are there, are refined in
 * one call and come out in order with their timestamps and meta; EOS
 * refines the last, incomplete batch.  The pictures are hartsrc's alone,
 * byte for byte (docs/video.md, "Batches of frames"). */
#define BATCH_FRAMES 7

GST_START_TEST (test_batch_size)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (BATCH_FRAMES, &caps);
  GstBuffer **whole = raw_frames (BATCH_FRAMES);
  GstHarness *h = harness_hartrefine (caps);
  guint n_out = 0;

  g_object_set (h->element, "batch-size", 3, NULL);
  gst_harness_play (h);
  for (guint i = 0; i < BATCH_FRAMES; i++) {
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (tokens[i])),
        GST_FLOW_OK);
    /* nothing before a batch is complete, then the whole batch */
    fail_unless_equals_int (gst_harness_buffers_in_queue (h),
        (i + 1) / 3 * 3 - n_out);
    while (gst_harness_buffers_in_queue (h) > 0) {
      GstBuffer *out = gst_harness_pull (h);
      const GstStructure *s = hart_meta_checked (out, TRUE);

      fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
          GST_BUFFER_PTS (tokens[n_out]));
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), n_out);
      fail_unless (gst_structure_is_equal (s, hart_meta_checked (whole[n_out],
                  TRUE)), "%s vs %s", gst_structure_to_string (s),
          gst_structure_to_string (hart_meta_checked (whole[n_out], TRUE)));
      fail_unless (buffers_equal (out, whole[n_out]),
          "frame %u: %u levels from hartsrc alone", n_out,
          max_byte_difference (out, whole[n_out]));
      gst_buffer_unref (out);
      n_out++;
    }
  }
  fail_unless_equals_int (n_out, 6);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  {
    GstBuffer *last = gst_harness_pull (h);

    fail_unless (buffers_equal (last, whole[6]));
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (last), 6);
    gst_buffer_unref (last);
  }
  gst_harness_teardown (h);
  frames_free (tokens, BATCH_FRAMES);
  frames_free (whole, BATCH_FRAMES);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* batch-size=3: DISCONT is on the picture of the frame that had it, and
 * only there, also when that frame is drained at an event (tags, before
 * its batch is complete): GstBaseTransform, left to itself, would mark the
 * next batch's first picture too.  The POSITION query follows the pictures
 * pushed. */
GST_START_TEST (test_batch_discont)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (6, &caps);
  GstHarness *h = harness_hartrefine (caps);

  g_object_set (h->element, "batch-size", 3, NULL);
  gst_harness_play (h);
  for (guint i = 0; i < 6; i++) {
    GstBuffer *in = gst_buffer_copy (tokens[i]);

    if (i == 0 || i == 4)
      GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
    else
      GST_BUFFER_FLAG_UNSET (in, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    if (i == 1)
      fail_unless (gst_harness_push_event (h,
              gst_event_new_tag (gst_tag_list_new (GST_TAG_TITLE, "x", NULL))));
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 5);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 6);
  /* the position of the last picture pushed, as GstBaseTransform keeps
   * it for the buffers it pushes itself */
  {
    gint64 position = -1;

    fail_unless (gst_element_query_position (h->element, GST_FORMAT_TIME,
            &position));
    fail_unless_equals_int64 (position, GST_BUFFER_PTS (tokens[5])
        + GST_BUFFER_DURATION (tokens[5]));
  }
  for (guint i = 0; i < 6; i++) {
    GstBuffer *out = gst_harness_pull (h);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), i);
    fail_unless (GST_BUFFER_IS_DISCONT (out) == (i == 0 || i == 4),
        "picture %u: DISCONT %d", i, GST_BUFFER_IS_DISCONT (out));
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  frames_free (tokens, 6);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* A frame dropped by QoS while batching makes the next picture DISCONT;
 * and after batch-size changes from 1 to 3 mid-stream, the POSITION query
 * follows the batched pictures, not the last one GstBaseTransform pushed. */
GST_START_TEST (test_batch_qos_and_switch)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (6, &caps);
  GstHarness *h = harness_hartrefine (caps);
  const guint want[] = { 0, 2, 3, 4, 5 };
  gint64 position = -1;

  g_object_set (h->element, "qos", TRUE, NULL);
  gst_harness_play (h);
  /* frame 0 on GstBaseTransform's path */
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (tokens[0])),
      GST_FLOW_OK);
  g_object_set (h->element, "batch-size", 3, NULL);
  /* frame 1 late: the sink saw nothing before its start */
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 1.0, 0,
              GST_BUFFER_PTS (tokens[1]))));
  for (guint i = 1; i < 6; i++) {
    GstBuffer *in = gst_buffer_copy (tokens[i]);

    GST_BUFFER_FLAG_UNSET (in, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  }
  /* frames 2, 3, 4 as one batch; 5 waits for two more */
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 4);
  fail_unless (gst_element_query_position (h->element, GST_FORMAT_TIME,
          &position));
  fail_unless_equals_int64 (position, GST_BUFFER_PTS (tokens[4])
      + GST_BUFFER_DURATION (tokens[4]));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
    GstBuffer *out = gst_harness_pull (h);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), want[i]);
    if (i > 0)
      fail_unless (GST_BUFFER_IS_DISCONT (out) == (want[i] == 2),
          "picture %u: DISCONT %d", want[i], GST_BUFFER_IS_DISCONT (out));
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  frames_free (tokens, 6);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* batch-size adds N − 1 frame periods to the latency hartrefine answers
 * (10/1: 200 ms for N = 3). */
GST_START_TEST (test_batch_latency)
{
  GstCaps *caps;
  GstBuffer **tokens = token_frames (1, &caps);
  GstCaps *with_rate = gst_caps_copy (caps);
  GstHarness *h;
  GstClockTime min_1 = 0, min_3 = 0;
  gboolean live;

  gst_caps_set_simple (with_rate, "framerate", GST_TYPE_FRACTION, 10, 1, NULL);
  h = harness_hartrefine (with_rate);
  gst_harness_play (h);
  gst_buffer_unref (refine (h, tokens[0]));
  for (guint n = 1; n <= 3; n += 2) {
    GstQuery *query = gst_query_new_latency ();

    g_object_set (h->element, "batch-size", n, NULL);
    fail_unless (gst_pad_peer_query (h->sinkpad, query));
    gst_query_parse_latency (query, &live, n == 1 ? &min_1 : &min_3, NULL);
    gst_query_unref (query);
  }
  fail_unless_equals_uint64 (min_3 - min_1, 200 * GST_MSECOND);
  gst_harness_teardown (h);
  gst_caps_unref (with_rate);
  gst_caps_unref (caps);
  frames_free (tokens, 1);
}

GST_END_TEST;

/* The same through one pipeline: hartsrc batch-size=4 ! hartrefine
 * batch-size=3, seven frames, the last batch drained at EOS. */
GST_START_TEST (test_batch_size_pipeline)
{
  gchar *line = g_strdup_printf ("hartsrc model-path=\"%s\" num-buffers=%d "
      "seed-mode=increment batch-size=4 ! queue ! hartrefine model-path=\"%s\" "
      "batch-size=3 ! capsfilter caps=video/x-raw,format=RGB", model_dir,
      BATCH_FRAMES, model_dir);
  GstHarness *split = gst_harness_new_parse (line);
  GstBuffer **whole = raw_frames (BATCH_FRAMES);

  gst_harness_play (split);
  for (guint i = 0; i < BATCH_FRAMES; i++) {
    GstBuffer *out = pull_buffer (split);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), i);
    fail_unless (buffers_equal (out, whole[i]));
    gst_buffer_unref (out);
  }
  gst_harness_teardown (split);
  frames_free (whole, BATCH_FRAMES);
  g_free (line);
}

GST_END_TEST;

/* GstPreset: the shipped video preset turns temporal-noise on; a preset
 * holds only the refinement settings. */
GST_START_TEST (test_presets)
{
  GstElement *refine_el = gst_element_factory_make ("hartrefine", NULL);
  gchar **properties = gst_preset_get_property_names (GST_PRESET (refine_el));
  gboolean temporal_noise = FALSE;

  fail_unless (g_strv_contains ((const gchar * const *) properties,
          "temporal-noise"));
  fail_if (g_strv_contains ((const gchar * const *) properties, "qos"));
  fail_unless (gst_preset_load_preset (GST_PRESET (refine_el), "video"));
  g_object_get (refine_el, "temporal-noise", &temporal_noise, NULL);
  fail_unless (temporal_noise);
  g_strfreev (properties);
  gst_object_unref (refine_el);
}

GST_END_TEST;

static Suite *
hartrefine_suite (void)
{
  Suite *s = suite_create ("hartrefine");
  TCase *tc = tcase_create ("general");
  TCase *tc_load = tcase_create ("loading");

  hart_check_setup_fixtures ();
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, hart_check_keep_loaded,
      hart_check_release_loaded);
  tcase_add_test (tc, test_split_equals_whole);
  tcase_add_test (tc, test_precision);
  tcase_add_test (tc, test_split_pipeline);
  tcase_add_test (tc, test_batch_size);
  tcase_add_test (tc, test_batch_size_pipeline);
  tcase_add_test (tc, test_batch_latency);
  tcase_add_test (tc, test_batch_discont);
  tcase_add_test (tc, test_batch_qos_and_switch);
  tcase_add_test (tc, test_presets);
  tcase_add_test (tc, test_meta_from_token_header);
  tcase_add_test (tc, test_meta_after_gdp);
  tcase_add_test (tc, test_seed_and_temporal_noise);
  tcase_add_test (tc, test_refuse_other_model);
  tcase_add_test (tc, test_refuse_other_model_bundled);
  tcase_add_test (tc, test_corrupted_token_frame);
  tcase_add_test (tc, test_non_finite_token_frame);

  /* without the keeper: these count and load themselves */
  suite_add_tcase (s, tc_load);
  tcase_add_test (tc_load, test_properties_round_trip);
  tcase_add_test (tc_load, test_missing_model);
  tcase_add_test (tc_load, test_shared_model);
  return s;
}

GST_CHECK_MAIN (hartrefine);
