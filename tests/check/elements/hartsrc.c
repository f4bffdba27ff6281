/* gst-hart — hartsrc element tests
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "hart-check.h"
#include "tests/hart-test-bf16.h"

#include <math.h>

#include <glib/gstdio.h>
#include <gst/base/gstbasesrc.h>
#include <gst/video/video.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- properties ---- */

GST_START_TEST (test_properties_round_trip)
{
  GstElement *src = gst_element_factory_make ("hartsrc", NULL);
  gchar *prompt, *model, *text_encoder;
  guint64 seed;
  gint seed_mode, device, device_id, top_k, keep_scales, transition_frames;
  gdouble cfg, top_p;
  gboolean smooth, is_live;

  fail_unless (src != NULL);

  /* defaults */
  g_object_get (src, "prompt", &prompt, "seed", &seed, "cfg-scale", &cfg,
      "top-k", &top_k, "top-p", &top_p, "smooth", &smooth, "model-path",
      &model, "text-encoder-path", &text_encoder, "device", &device,
      "device-id", &device_id, "is-live", &is_live, "keep-scales",
      &keep_scales, "transition-frames", &transition_frames, "seed-mode",
      &seed_mode, NULL);
  fail_unless (prompt != NULL && prompt[0] != '\0');
  fail_unless_equals_uint64 (seed, 1);
  fail_unless_equals_float (cfg, 4.5);
  fail_unless_equals_int (top_k, 0);
  fail_unless_equals_float (top_p, 0.0);
  fail_unless (smooth);
  fail_unless (model == NULL);
  fail_unless (text_encoder == NULL);
  fail_unless_equals_int (device, 0);
  fail_unless_equals_int (device_id, 0);
  fail_unless (!is_live);
  fail_unless_equals_int (keep_scales, 0);
  fail_unless_equals_int (transition_frames, 0);
  fail_unless_equals_int (seed_mode, 0);
  g_free (prompt);

  /* every property reads back what was set */
  gst_util_set_object_arg (G_OBJECT (src), "seed-mode", "increment");
  gst_util_set_object_arg (G_OBJECT (src), "device", "cpu");
  g_object_set (src, "prompt", "a blue bird", "seed", G_GUINT64_CONSTANT
      (12345678901234), "cfg-scale", 7.25, "top-k", 20, "top-p", 0.75,
      "smooth", FALSE, "model-path", "/some/model", "text-encoder-path",
      "/some/qwen", "device-id", 3, "is-live", TRUE, "keep-scales", 4,
      "transition-frames", 6, NULL);
  g_object_get (src, "prompt", &prompt, "seed", &seed, "cfg-scale", &cfg,
      "top-k", &top_k, "top-p", &top_p, "smooth", &smooth, "model-path",
      &model, "text-encoder-path", &text_encoder, "device", &device,
      "device-id", &device_id, "is-live", &is_live, "keep-scales",
      &keep_scales, "transition-frames", &transition_frames, "seed-mode",
      &seed_mode, NULL);
  fail_unless_equals_string (prompt, "a blue bird");
  fail_unless_equals_uint64 (seed, G_GUINT64_CONSTANT (12345678901234));
  fail_unless_equals_float (cfg, 7.25);
  fail_unless_equals_int (top_k, 20);
  fail_unless_equals_float (top_p, 0.75);
  fail_unless (!smooth);
  fail_unless_equals_string (model, "/some/model");
  fail_unless_equals_string (text_encoder, "/some/qwen");
  fail_unless_equals_int (device, 1);
  fail_unless_equals_int (device_id, 3);
  fail_unless (is_live);
  fail_unless_equals_int (keep_scales, 4);
  fail_unless_equals_int (transition_frames, 6);
  fail_unless_equals_int (seed_mode, 1);
  g_free (prompt);
  g_free (model);
  g_free (text_encoder);

  /* mutable while playing: prompt, seed, cfg-scale (docs/elements.md, "hartsrc" properties) */
  {
    const gchar *mutable[] = { "prompt", "seed", "cfg-scale", "seed-mode" };
    const gchar *fixed[] = { "model-path", "text-encoder-path", "device" };

    for (guint i = 0; i < G_N_ELEMENTS (mutable); i++)
      fail_unless (g_object_class_find_property (G_OBJECT_GET_CLASS (src),
              mutable[i])->flags & GST_PARAM_MUTABLE_PLAYING, "%s", mutable[i]);
    for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
      fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (src),
              fixed[i])->flags & GST_PARAM_MUTABLE_PLAYING, "%s", fixed[i]);
  }
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- negotiation ---- */

/* Each format gives the same picture, its bytes shuffled. */
GST_START_TEST (test_negotiate_formats)
{
  const gchar *formats[] = { "RGBA", "RGBx", "BGRx", "BGRA" };
  GstBuffer *rgb = first_frame (NULL);
  GstMapInfo rgb_map;

  fail_unless_equals_int (gst_buffer_get_size (rgb), TINY_SIZE * TINY_SIZE * 3);
  fail_unless (gst_buffer_map (rgb, &rgb_map, GST_MAP_READ));

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *caps_str = g_strdup_printf ("video/x-raw, format=%s", formats[f]);
    GstHarness *h = harness_hartsrc (1, caps_str);
    const gboolean bgr = formats[f][0] == 'B';
    GstBuffer *buffer;
    GstCaps *caps;
    GstStructure *s;
    GstMapInfo map;
    gint width, height;

    gst_harness_play (h);
    buffer = pull_buffer (h);
    caps = gst_pad_get_current_caps (h->sinkpad);
    s = gst_caps_get_structure (caps, 0);
    fail_unless_equals_string (gst_structure_get_string (s, "format"),
        formats[f]);
    fail_unless (gst_structure_get_int (s, "width", &width));
    fail_unless (gst_structure_get_int (s, "height", &height));
    fail_unless_equals_int (width, TINY_SIZE);
    fail_unless_equals_int (height, TINY_SIZE);

    fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, TINY_SIZE * TINY_SIZE * 4);
    for (gsize p = 0; p < TINY_SIZE * TINY_SIZE; p++) {
      const guint8 *px = map.data + 4 * p, *ref = rgb_map.data + 3 * p;

      fail_unless_equals_int (px[bgr ? 2 : 0], ref[0]);
      fail_unless_equals_int (px[1], ref[1]);
      fail_unless_equals_int (px[bgr ? 0 : 2], ref[2]);
      fail_unless_equals_int (px[3], 255);
    }
    gst_buffer_unmap (buffer, &map);
    gst_buffer_unref (buffer);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
    g_free (caps_str);
  }
  gst_buffer_unmap (rgb, &rgb_map);
  gst_buffer_unref (rgb);
}

GST_END_TEST;

/* Downstream that only takes token frames gets token frames carrying the
 * model's fingerprint. */
GST_START_TEST (test_negotiate_tokens)
{
  GstHarness *h = harness_hartsrc (1, "video/x-hart-tokens");
  GstBuffer *buffer;
  GstCaps *caps;
  GstStructure *s;
  GstMapInfo map;
  const gchar *fingerprint;

  gst_harness_play (h);
  buffer = pull_buffer (h);
  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, "video/x-hart-tokens"));
  fingerprint = gst_structure_get_string (s, "fingerprint");
  fail_unless (fingerprint != NULL && strlen (fingerprint) == 64);

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  fail_unless (map.size > 128);
  fail_unless (memcmp (map.data, "HARTTOKF", 8) == 0);
  fail_unless (memcmp (map.data + 16, fingerprint, 64) == 0);
  gst_buffer_unmap (buffer, &map);

  gst_buffer_unref (buffer);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Runs "hartsrc ! capsfilter caps=CAPS ! fakesink" and expects a
 * not-negotiated stream error. */
static void
expect_not_negotiated (const gchar * caps_str)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (1);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  fail_unless (gst_element_link (filter, sink));
  /* a format the template lacks is refused at link time already; link
   * regardless: negotiation must fail when the stream starts */
  fail_unless (gst_element_link_pads_full (src, "src", filter, "sink",
          GST_PAD_LINK_CHECK_NOTHING));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = pop_error (bus);
  fail_unless (msg != NULL, "no error for %s", caps_str);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (error->domain == GST_STREAM_ERROR, "%s", error->message);
  fail_unless (strstr (debug, "not-negotiated") != NULL, "%s", debug);
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_refuse_unsupported_caps)
{
  expect_not_negotiated ("video/x-raw, format=I420");
  /* square, progressive pictures only */
  expect_not_negotiated ("video/x-raw, pixel-aspect-ratio=(fraction)2/1");
  expect_not_negotiated ("video/x-raw, interlace-mode=interleaved");
  /* a size the model does not draw has an error of its own:
   * test_size_refused */
  expect_not_negotiated ("audio/x-raw");
  expect_not_negotiated ("video/x-hart-tokens, fingerprint=(string)0000");
}

GST_END_TEST;

/* ---- buffers, EOS, timestamps ---- */

/* Waits for EOS, counting the buffers before it. */
static guint
count_until_eos (GstHarness * h)
{
  guint n_buffers = 0;

  for (;;) {
    GstEvent *event;
    GstBuffer *buffer;

    while ((buffer = gst_harness_try_pull (h)) != NULL) {
      n_buffers++;
      gst_buffer_unref (buffer);
    }
    event = gst_harness_pull_event (h);
    fail_unless (event != NULL, "no EOS");
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
      gst_event_unref (event);
      break;
    }
    gst_event_unref (event);
  }
  /* buffers pushed before EOS are all in the queue by now */
  while (gst_harness_buffers_in_queue (h) > 0) {
    gst_buffer_unref (gst_harness_pull (h));
    n_buffers++;
  }
  return n_buffers;
}

GST_START_TEST (test_num_buffers_then_eos)
{
  GstHarness *h = harness_hartsrc (3, "video/x-raw, format=RGB");

  gst_harness_play (h);
  fail_unless_equals_int (count_until_eos (h), 3);
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamps)
{
  GstHarness *h = harness_hartsrc (3,
      "video/x-raw, format=RGB, framerate=(fraction)3/1");

  gst_harness_play (h);
  for (guint64 i = 0; i < 3; i++) {
    GstBuffer *buffer = pull_buffer (h);
    const GstClockTime start = gst_util_uint64_scale (i, GST_SECOND, 3);
    const GstClockTime end = gst_util_uint64_scale (i + 1, GST_SECOND, 3);

    fail_unless_equals_clocktime (GST_BUFFER_PTS (buffer), start);
    fail_unless_equals_clocktime (GST_BUFFER_DURATION (buffer), end - start);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buffer), i);
    gst_buffer_unref (buffer);
  }
  gst_harness_teardown (h);

  /* framerate 0/1: one still image without a duration, then EOS */
  h = harness_hartsrc (-1, "video/x-raw, format=RGB, framerate=(fraction)0/1");
  gst_harness_play (h);
  {
    GstBuffer *buffer = pull_buffer (h);

    fail_unless_equals_clocktime (GST_BUFFER_PTS (buffer), 0);
    fail_unless (!GST_CLOCK_TIME_IS_VALID (GST_BUFFER_DURATION (buffer)));
    gst_buffer_unref (buffer);
  }
  fail_unless_equals_int (count_until_eos (h), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- precision (docs/precision.md) ---- */

/* The first frame of a hartsrc in PRECISION, its meta and tag checked. */
static GstBuffer *
frame_in_precision (const gchar * precision)
{
  GstHarness *h = harness_hartsrc (1, "video/x-raw, format=RGB");
  GstBuffer *buffer;
  GstEvent *event;
  gboolean tagged = FALSE;

  gst_util_set_object_arg (G_OBJECT (h->element), "precision", precision);
  g_object_set (h->element, "seed", (guint64) 7, NULL);
  gst_harness_play (h);
  buffer = pull_buffer (h);
  fail_unless_equals_string (gst_structure_get_string (hart_meta_checked
          (buffer, TRUE), "precision"), precision);
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
      GstTagList *tags;
      gchar *comment = NULL, *want = g_strdup_printf ("precision %s",
          precision);

      gst_event_parse_tag (event, &tags);
      fail_unless (gst_tag_list_get_string (tags, GST_TAG_COMMENT, &comment));
      fail_unless (strstr (comment, want) != NULL, "%s", comment);
      g_free (comment);
      g_free (want);
      tagged = TRUE;
    }
    gst_event_unref (event);
  }
  fail_unless (tagged, "no tag event");
  gst_harness_teardown (h);
  return buffer;
}

/* Starts a hartsrc in PRECISION and expects the error a precision the
 * device lacks gives: LIBRARY/SETTINGS, before any frame. */
static void
expect_precision_refused (const gchar * precision)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (1);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_util_set_object_arg (G_OBJECT (src), "precision", precision);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = pop_error (bus);
  hart_check_precision_refused (msg, precision);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_precision)
{
  GstBuffer *fp32 = frame_in_precision ("fp32");

  /* bf16 where this build must have it (every CPU, with oneDNN), the
   * refusal where it must not (tests/hart-test-bf16.h) */
  if (hart_test_bf16 () == HART_TEST_BF16_YES) {
    GstBuffer *bf16 = frame_in_precision ("bf16");
    GstBuffer *again = frame_in_precision ("bf16");

    /* bf16 is its own computation, and deterministic */
    fail_if (buffers_equal (fp32, bf16), "bf16 gave the fp32 picture");
    fail_unless (buffers_equal (bf16, again), "bf16 twice, two pictures");
    gst_buffer_unref (bf16);
    gst_buffer_unref (again);
  } else {
    expect_precision_refused ("bf16");
  }
  /* no backend has fp16 yet */
  expect_precision_refused ("fp16");
  gst_buffer_unref (fp32);
}

GST_END_TEST;

/* ---- determinism and video ---- */

GST_START_TEST (test_deterministic_by_seed)
{
  GstBuffer *a = first_frame ("seed", (guint64) 7, NULL);
  GstBuffer *b = first_frame ("seed", (guint64) 7, NULL);
  GstBuffer *c = first_frame ("seed", (guint64) 8, NULL);
  GstBuffer *d = first_frame ("seed", (guint64) 7, "cfg-scale", 1.0, NULL);

  fail_unless (buffers_equal (a, b), "same seed, different pictures");
  fail_if (buffers_equal (a, c), "another seed, same picture");
  fail_if (buffers_equal (a, d), "another cfg-scale, same picture");
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
  gst_buffer_unref (d);
}

GST_END_TEST;

/* The first N frames of a hartsrc with the given seed-mode and keep-scales. */
static GstBuffer **
frames_of (guint n, const gchar * seed_mode, gint keep_scales)
{
  GstHarness *h = harness_hartsrc (n, "video/x-raw, format=RGB");
  GstBuffer **frames = g_new0 (GstBuffer *, n);

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", seed_mode);
  g_object_set (h->element, "keep-scales", keep_scales, NULL);
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

GST_START_TEST (test_seed_mode)
{
  GstBuffer **fixed = frames_of (2, "fixed", 0);
  GstBuffer **increment = frames_of (2, "increment", 0);

  /* fixed: the same draws every frame; increment: a new sample per frame,
   * whose frame 0 is the fixed one */
  fail_unless (buffers_equal (fixed[0], fixed[1]));
  fail_if (buffers_equal (increment[0], increment[1]));
  fail_unless (buffers_equal (fixed[0], increment[0]));
  frames_free (fixed, 2);
  frames_free (increment, 2);
}

GST_END_TEST;

/* keep-scales: frame 1 keeps the composition of frame 0 (the first scales'
 * tokens), so it is closer to frame 0 than an independent frame 1; the
 * result is deterministic. */
GST_START_TEST (test_keep_scales)
{
  GstBuffer **free_run = frames_of (2, "increment", 0);
  /* beyond the number of scales: clamped to all but the last */
  GstBuffer **kept = frames_of (2, "increment", 1000);
  GstBuffer **kept_again = frames_of (2, "increment", 1000);
  GstBuffer **some = frames_of (2, "increment", 3);
  guint64 d_free, d_kept;

  fail_unless (buffers_equal (free_run[0], kept[0]));
  d_free = buffers_distance (free_run[0], free_run[1]);
  d_kept = buffers_distance (kept[0], kept[1]);
  GST_INFO ("distance frame 0 → 1: %" G_GUINT64_FORMAT " independent, %"
      G_GUINT64_FORMAT " with all but the last scale kept", d_free, d_kept);
  fail_unless (d_kept < d_free);
  fail_unless (buffers_equal (kept[1], kept_again[1]));
  fail_if (buffers_equal (some[1], free_run[1]));
  frames_free (free_run, 2);
  frames_free (kept, 2);
  frames_free (kept_again, 2);
  frames_free (some, 2);
}

GST_END_TEST;

#define PROMPT_A "a red apple on a wooden table"
#define PROMPT_B "a lighthouse in a storm at night"


static const gchar *
meta_prompt (GstBuffer * buffer)
{
  return gst_structure_get_string (hart_meta_checked (buffer, TRUE), "prompt");
}

/* A prompt change applies from a frame boundary: frames before it are
 * picture A, frames after it picture B (fixed seed), never a mix; with
 * transition-frames=2 exactly one blended frame comes between. */
static void
check_prompt_change (gint transition_frames)
{
  GstBuffer *a = first_frame ("prompt", PROMPT_A, NULL);
  GstBuffer *b = first_frame ("prompt", PROMPT_B, NULL);
  GstHarness *h = harness_hartsrc (6, "video/x-raw, format=RGB");
  guint n_a = 0, n_mixed = 0, n_b = 0;

  fail_if (buffers_equal (a, b), "the two prompts give one picture");
  g_object_set (h->element, "prompt", PROMPT_A, "transition-frames",
      transition_frames, NULL);
  gst_harness_play (h);
  for (guint i = 0; i < 6; i++) {
    GstBuffer *frame = pull_buffer (h);

    if (i == 0)
      g_object_set (h->element, "prompt", PROMPT_B, NULL);
    if (buffers_equal (frame, a)) {
      fail_unless (n_mixed == 0 && n_b == 0, "frame %u: A after B", i);
      fail_unless_equals_string (meta_prompt (frame), PROMPT_A);
      n_a++;
    } else if (buffers_equal (frame, b)) {
      fail_unless_equals_string (meta_prompt (frame), PROMPT_B);
      n_b++;
    } else {
      fail_unless (n_b == 0, "frame %u: a blend after B", i);
      fail_unless_equals_string (meta_prompt (frame), PROMPT_B);
      n_mixed++;
    }
    gst_buffer_unref (frame);
  }
  GST_INFO ("transition %d: %u A, %u blended, %u B", transition_frames, n_a,
      n_mixed, n_b);
  fail_unless (n_a >= 1);
  fail_unless (n_b >= 1, "the prompt change never took effect");
  fail_unless_equals_int (n_mixed, MAX (transition_frames - 1, 0));
  gst_harness_teardown (h);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
}

GST_START_TEST (test_prompt_change)
{
  check_prompt_change (0);
}

GST_END_TEST;

/* keep-scales across a prompt change (docs/video.md): the new prompt lays
 * out its own picture.  The first frame of prompt B (frame k: the source
 * may have started frame 1 before the change) is what an element with
 * prompt B alone gives as its frame k, nothing held; the frame after it
 * holds its layout (closer to it than two free frames are). */
#define KEEP_CHANGE_FRAMES 4
GST_START_TEST (test_keep_scales_prompt_change)
{
  GstHarness *h = harness_hartsrc (KEEP_CHANGE_FRAMES,
      "video/x-raw, format=RGB");
  GstHarness *fresh = harness_hartsrc (KEEP_CHANGE_FRAMES,
      "video/x-raw, format=RGB");
  GstBuffer *frames[KEEP_CHANGE_FRAMES], *fresh_frames[KEEP_CHANGE_FRAMES];
  guint k;

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  g_object_set (h->element, "keep-scales", 1000, "prompt", PROMPT_A, NULL);
  gst_harness_play (h);
  for (guint i = 0; i < KEEP_CHANGE_FRAMES; i++) {
    frames[i] = pull_buffer (h);
    if (i == 0)
      g_object_set (h->element, "prompt", PROMPT_B, NULL);
  }
  gst_harness_teardown (h);

  gst_util_set_object_arg (G_OBJECT (fresh->element), "seed-mode", "increment");
  g_object_set (fresh->element, "keep-scales", 0, "prompt", PROMPT_B, NULL);
  gst_harness_play (fresh);
  for (guint i = 0; i < KEEP_CHANGE_FRAMES; i++)
    fresh_frames[i] = pull_buffer (fresh);
  gst_harness_teardown (fresh);

  for (k = 1; k < KEEP_CHANGE_FRAMES; k++)
    if (g_strcmp0 (meta_prompt (frames[k]), PROMPT_B) == 0)
      break;
  fail_unless (k < KEEP_CHANGE_FRAMES - 1, "prompt B came at frame %u", k);
  fail_unless (buffers_equal (frames[k], fresh_frames[k]),
      "frame %u, the first of the new prompt, kept the old prompt's scales", k);
  fail_unless (buffers_distance (frames[k], frames[k + 1]) <
      buffers_distance (fresh_frames[k], fresh_frames[k + 1]),
      "frame %u does not hold the layout of frame %u", k + 1, k);
  for (guint i = 0; i < KEEP_CHANGE_FRAMES; i++) {
    gst_buffer_unref (frames[i]);
    gst_buffer_unref (fresh_frames[i]);
  }
}

GST_END_TEST;

GST_START_TEST (test_transition_frames)
{
  check_prompt_change (2);
}

GST_END_TEST;

/* ---- metadata, tags, progress ---- */

GST_START_TEST (test_meta_and_tags)
{
  GstHarness *h = harness_hartsrc (1, "video/x-raw, format=RGB");
  const GstStructure *s;
  GstBuffer *buffer;
  GstHartMetaFields fields;
  guint64 seed;
  guint frame;
  gdouble cfg;
  GstEvent *event;
  gboolean tagged = FALSE;

  g_object_set (h->element, "prompt", PROMPT_B, "seed", (guint64) 99,
      "cfg-scale", 3.0, NULL);
  gst_harness_play (h);
  buffer = pull_buffer (h);
  s = hart_meta_checked (buffer, TRUE);
  fail_unless_equals_string (gst_structure_get_string (s, "prompt"), PROMPT_B);
  fail_unless (gst_structure_get_uint64 (s, "seed", &seed));
  fail_unless_equals_uint64 (seed, 99);
  fail_unless (gst_structure_get_uint (s, "frame", &frame));
  fail_unless_equals_int (frame, 0);
  fail_unless (gst_structure_get_double (s, "cfg-scale", &cfg));
  fail_unless_equals_float (cfg, 3.0);
  fail_unless_equals_string (gst_structure_get_string (s, "model"),
      "hart-0.7b-1024px");

  /* the C helper of the public header reads the same */
  fail_unless (gst_hart_meta_read (buffer, &fields));
  fail_unless_equals_string (fields.prompt, PROMPT_B);
  fail_unless_equals_uint64 (fields.seed, 99);
  fail_unless_equals_int (fields.frame, 0);
  fail_unless_equals_float (fields.cfg_scale, 3.0);
  fail_unless_equals_string (fields.model, "hart-0.7b-1024px");
  fail_unless_equals_string (fields.fingerprint,
      gst_structure_get_string (s, "fingerprint"));
  gst_buffer_unref (buffer);

  /* stream-start, caps, segment, then the tags of the prompt */
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
      GstTagList *tags;
      gchar *title = NULL, *comment = NULL;

      gst_event_parse_tag (event, &tags);
      fail_unless (gst_tag_list_get_string (tags, GST_TAG_TITLE, &title));
      fail_unless_equals_string (title, PROMPT_B);
      fail_unless (gst_tag_list_get_string (tags, GST_TAG_COMMENT, &comment));
      fail_unless (strstr (comment, "hart-0.7b-1024px") != NULL);
      g_free (title);
      g_free (comment);
      tagged = TRUE;
    }
    gst_event_unref (event);
  }
  fail_unless (tagged, "no tag event");
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Token frames carry the meta too: the frame index keys the draws in
 * seed-mode increment, the fingerprint is the one of the token caps. */
GST_START_TEST (test_meta_on_tokens)
{
  GstHarness *h = harness_hartsrc (2, "video/x-hart-tokens");
  GstCaps *caps = NULL;
  const gchar *caps_fingerprint = NULL;

  g_object_set (h->element, "prompt", PROMPT_A, "seed", (guint64) 12,
      "cfg-scale", 2.5, NULL);
  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_play (h);
  for (guint i = 0; i < 2; i++) {
    GstBuffer *buffer = pull_buffer (h);
    const GstStructure *s = hart_meta_checked (buffer, TRUE);
    guint64 seed;
    guint frame;
    gdouble cfg;

    if (i == 0) {
      caps = gst_pad_get_current_caps (h->sinkpad);
      caps_fingerprint = gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "fingerprint");
      fail_unless (caps_fingerprint != NULL);
    }
    fail_unless_equals_string (gst_structure_get_string (s, "prompt"),
        PROMPT_A);
    fail_unless (gst_structure_get_uint64 (s, "seed", &seed));
    fail_unless_equals_uint64 (seed, 12);
    fail_unless (gst_structure_get_uint (s, "frame", &frame));
    fail_unless_equals_int (frame, i);
    fail_unless (gst_structure_get_double (s, "cfg-scale", &cfg));
    fail_unless_equals_float (cfg, 2.5);
    fail_unless_equals_string (gst_structure_get_string (s, "model"),
        "hart-0.7b-1024px");
    fail_unless_equals_string (gst_structure_get_string (s, "fingerprint"),
        caps_fingerprint);
    gst_buffer_unref (buffer);
  }
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The meta describes the picture's origin: copies (whole or a region) and
 * transforms that are not copies (a scale) keep it, unchanged; a custom
 * meta's default would drop it on a scale. */
GST_START_TEST (test_meta_survives_copies)
{
  GstBuffer *frame = first_frame ("prompt", PROMPT_A, NULL);
  const GstStructure *s = hart_meta_checked (frame, TRUE);
  GstCustomMeta *meta = gst_buffer_get_custom_meta (frame, "GstHartMeta");
  GstVideoMetaTransform scale = { NULL, NULL };
  GstBuffer *copy, *region, *scaled;

  copy = gst_buffer_copy (frame);
  fail_unless (gst_structure_is_equal (hart_meta_checked (copy, TRUE), s));

  region = gst_buffer_copy_region (frame, GST_BUFFER_COPY_ALL, 0, 64);
  fail_unless (gst_structure_is_equal (hart_meta_checked (region, TRUE), s));

  /* what a scaling element does with the metas of its input */
  scaled = gst_buffer_new ();
  fail_unless (meta->meta.info->transform_func (scaled, &meta->meta, frame,
          gst_video_meta_transform_scale_get_quark (), &scale));
  fail_unless (gst_structure_is_equal (hart_meta_checked (scaled, TRUE), s));

  /* a copy owns its structure: the original is not changed through it */
  gst_structure_set (gst_custom_meta_get_structure (gst_buffer_get_custom_meta
          (copy, "GstHartMeta")), "prompt", G_TYPE_STRING, PROMPT_B, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "prompt"), PROMPT_A);

  gst_buffer_unref (scaled);
  gst_buffer_unref (region);
  gst_buffer_unref (copy);
  gst_buffer_unref (frame);
}

GST_END_TEST;

/* Every progress message names the frame it is about, by number and PTS:
 * frame 0's stages, then frame 1's, each ending with stage n-stages. */
GST_START_TEST (test_progress_frame_and_pts)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (2);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstCaps *caps = gst_caps_from_string ("video/x-raw, format=RGB, "
      "framerate=(fraction)3/1");
  GList *progress, *l;
  guint64 expected_frame = 0;
  gboolean frame_done = FALSE;
  guint n_done = 0;

  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  fail_unless (gst_element_link_many (src, filter, sink, NULL));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  progress = progress_until_eos (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  fail_unless (progress != NULL, "no progress messages");
  for (l = progress; l != NULL; l = l->next) {
    guint64 frame;
    GstClockTime pts;
    gint stage, n_stages;

    fail_unless (GST_MESSAGE_SRC (l->data) == GST_OBJECT (src));
    progress_checked (l->data, &frame, &pts, &stage, &n_stages);
    if (frame_done) {
      expected_frame++;
      frame_done = FALSE;
    }
    fail_unless_equals_uint64 (frame, expected_frame);
    fail_unless_equals_clocktime (pts, gst_util_uint64_scale (frame,
            GST_SECOND, 3));
    if (stage == n_stages) {
      frame_done = TRUE;
      n_done++;
    }
  }
  fail_unless_equals_int (n_done, 2);
  fail_unless_equals_uint64 (expected_frame, 1);

  g_list_free_full (progress, (GDestroyNotify) gst_message_unref);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ---- errors and state changes ---- */

static void
expect_start_error (const gchar * model_path, GQuark domain, gint code)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (1);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *error = NULL;

  g_object_set (src, "model-path", model_path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = pop_error (bus);
  fail_unless (msg != NULL);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (src));
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, domain, code), "%s (%d)",
      error->message, error->code);
  g_clear_error (&error);
  gst_message_unref (msg);
  /* not followed by GstBaseSrc's "Failed to start" */
  fail_unless_equals_int (count_more_errors (bus, src), 0);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_errors_for_missing_files)
{
  gchar *missing = g_build_filename (model_dir, "no-such-model", NULL);

  expect_start_error (missing, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  /* no model-path and no bundled model where it is looked up */
  g_setenv ("HART_BUNDLED_MODEL_DIR", "/nonexistent", TRUE);
  expect_start_error (NULL, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  g_unsetenv ("HART_BUNDLED_MODEL_DIR");
  g_free (missing);

  /* a text encoder folder that does not exist */
  {
    GstElement *pipeline = gst_pipeline_new (NULL);
    GstElement *src = make_hartsrc (1);
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *msg;
    GError *error = NULL;

    g_object_set (src, "text-encoder-path", "/nonexistent/qwen", NULL);
    gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
    fail_unless (gst_element_link (src, sink));
    gst_element_set_state (pipeline, GST_STATE_PAUSED);
    msg = pop_error (bus);
    fail_unless (msg != NULL);
    gst_message_parse_error (msg, &error, NULL);
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_NOT_FOUND), "%s", error->message);
    g_clear_error (&error);
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

/* A copy of the tiny model whose llm/config.json is replaced by MAKE. */
typedef void (*ReplaceConfigFunc) (const gchar * path);

static gchar *
hostile_model (ReplaceConfigFunc make)
{
  gchar *dir = g_dir_make_tmp ("hart-hostile-XXXXXX", NULL);
  gchar *cmd = g_strdup_printf ("cp -r '%s/llm' '%s/tokenizer' '%s'",
      model_dir, model_dir, dir);
  gchar *config = g_build_filename (dir, "llm", "config.json", NULL);

  fail_unless_equals_int (system (cmd), 0);
  fail_unless_equals_int (g_remove (config), 0);
  make (config);
  g_free (config);
  g_free (cmd);
  return dir;
}

static void
make_fifo (const gchar * path)
{
  fail_unless_equals_int (mkfifo (path, 0600), 0);
}

static void
make_deep_json (const gchar * path)
{
  GString *deep = g_string_new ("{\"depth\": ");

  for (gint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  fail_unless (g_file_set_contents (path, deep->str, -1, NULL));
  g_string_free (deep, TRUE);
}

static void
make_dev_zero_link (const gchar * path)
{
  fail_unless_equals_int (symlink ("/dev/zero", path), 0);
}

static void
remove_tree (const gchar * dir)
{
  gchar *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  fail_unless_equals_int (system (cmd), 0);
  g_free (cmd);
}

/* A model folder built to hurt the application: a FIFO in place of
 * config.json used to block set_state() forever (the application's
 * thread), 100,000 nested '[' overflowed the stack inside json-glib, and
 * /dev/zero was read whole.  Each is one clean error now. */
GST_START_TEST (test_hostile_model_folder)
{
  static const struct
  {
    ReplaceConfigFunc make;
    gint code;
  } cases[] = {
    {make_fifo, GST_RESOURCE_ERROR_READ},
    {make_deep_json, GST_RESOURCE_ERROR_OPEN_READ},
    {make_dev_zero_link, GST_RESOURCE_ERROR_READ},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *dir = hostile_model (cases[i].make);

    expect_start_error (dir, GST_RESOURCE_ERROR, cases[i].code);
    remove_tree (dir);
    g_free (dir);
  }
}

GST_END_TEST;

/* top-p = 1 is in the property's range, and the engine takes it too (as
 * the official sampler: it keeps every token of nonzero probability). */
GST_START_TEST (test_top_p_one)
{
  GstBuffer *frame = first_frame ("top-p", 1.0, NULL);

  fail_unless_equals_int (gst_buffer_get_size (frame),
      TINY_SIZE * TINY_SIZE * 3);
  gst_buffer_unref (frame);
}

GST_END_TEST;

/* Without model-path hartsrc draws with the bundled model: 64x64 frames, the
 * text encoder and its tokenizer found beside it (HART_TOKENIZER_PATH, set
 * for the fixtures, must not be needed). */
GST_START_TEST (test_bundled_model_default)
{
  GstElement *src = make_hartsrc (1);
  GstHarness *h;
  GstBuffer *buf;
  GstCaps *caps;
  GstStructure *st;
  gint width = 0, height = 0;
  gchar *tokenizer_env = g_strdup (g_getenv ("HART_TOKENIZER_PATH"));

  g_unsetenv ("HART_TOKENIZER_PATH");
  g_object_set (src, "model-path", NULL, NULL);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  gst_harness_set_sink_caps_str (h, "video/x-raw");
  gst_harness_play (h);
  buf = pull_buffer (h);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  st = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_get_int (st, "width", &width));
  fail_unless (gst_structure_get_int (st, "height", &height));
  fail_unless_equals_int (width, 64);
  fail_unless_equals_int (height, 64);
  fail_unless (gst_buffer_get_size (buf) >= 64 * 64 * 3);
  gst_caps_unref (caps);
  gst_buffer_unref (buf);
  /* the tag comment names the bundled model, not its folder "hart" */
  {
    GstEvent *event;
    gboolean tagged = FALSE;

    while ((event = gst_harness_try_pull_event (h)) != NULL) {
      if (GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
        GstTagList *tags;
        gchar *comment = NULL;

        gst_event_parse_tag (event, &tags);
        fail_unless (gst_tag_list_get_string (tags, GST_TAG_COMMENT, &comment));
        fail_unless (g_str_has_prefix (comment, "HART model shapes-64px, "),
            "%s", comment);
        g_free (comment);
        tagged = TRUE;
      }
      gst_event_unref (event);
    }
    fail_unless (tagged, "no tag event");
  }
  gst_harness_teardown (h);
  g_setenv ("HART_TOKENIZER_PATH", tokenizer_env, TRUE);
  g_free (tokenizer_env);
}

GST_END_TEST;

/* Downstream asks for a size the model does not draw: one error that says
 * which size the model gives and suggests videoscale (it used to be a bare
 * "not-negotiated" from GstBaseSrc). */
GST_START_TEST (test_size_refused)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (1);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstCaps *caps = gst_caps_from_string ("video/x-raw, width=64, height=64");
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  fail_unless (gst_element_link_many (src, filter, sink, NULL));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = pop_error (bus);
  fail_unless (msg != NULL, "no error");
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (src));
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION), "%s", error->message);
  fail_unless (strstr (error->message, "128x128") != NULL, "%s",
      error->message);
  fail_unless (strstr (error->message, "\"hart-0.7b-1024px\"") != NULL,
      "%s", error->message);
  fail_unless (strstr (error->message, "videoscale") != NULL, "%s",
      error->message);
  fail_unless (debug != NULL && strstr (debug, "64") != NULL, "%s",
      GST_STR_NULL (debug));
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  fail_unless_equals_int (count_more_errors (bus, src), 0);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* An empty prompt is valid (as in the official code): every context
 * position is a pad; the frame is generated. */
GST_START_TEST (test_empty_prompt)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (1);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *error = NULL;

  g_object_set (src, "prompt", "", NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS within 60 s");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    fail ("error for an empty prompt: %s", error->message);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* PLAYING → NULL while frames are being generated returns promptly
 * (unlock cancels the generation in flight). */
GST_START_TEST (test_stop_during_generation)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (-1);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gint64 start, elapsed;

  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  /* wait until a generation is under way (a progress message) */
  for (;;) {
    msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no progress");
    fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT);
    if (gst_message_has_name (msg, "hart-progress")) {
      const GstStructure *s = gst_message_get_structure (msg);
      gint stage, n_stages;

      fail_unless (gst_structure_get_int (s, "stage", &stage));
      fail_unless (gst_structure_get_int (s, "n-stages", &n_stages));
      fail_unless (gst_structure_get_string (s, "description") != NULL);
      fail_unless (stage >= 0 && stage <= n_stages);
      gst_message_unref (msg);
      break;
    }
    gst_message_unref (msg);
  }

  start = g_get_monotonic_time ();
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  elapsed = g_get_monotonic_time () - start;
  GST_INFO ("PLAYING → NULL took %" G_GINT64_FORMAT " µs", elapsed);
  fail_unless (elapsed < 2 * G_USEC_PER_SEC, "stop took %" G_GINT64_FORMAT
      " µs", elapsed);
  /* a cancelled generation is a flush, not an error */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Two hartsrc of one model share one loaded model and text encoder. */
GST_START_TEST (test_shared_cache)
{
  CacheCountFunc cache_count;
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src1 = make_hartsrc (1), *src2 = make_hartsrc (1);
  GstElement *sink1 = gst_element_factory_make ("fakesink", NULL);
  GstElement *sink2 = gst_element_factory_make ("fakesink", NULL);
  guint users;

  gst_bin_add_many (GST_BIN (pipeline), src1, sink1, src2, sink2, NULL);
  fail_unless (gst_element_link (src1, sink1));
  fail_unless (gst_element_link (src2, sink2));
  cache_count = lookup_cache_count ();
  fail_unless_equals_int (cache_count ("model", NULL), 0);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (cache_count ("model", &users), 1);
  fail_unless_equals_int (users, 2);
  fail_unless_equals_int (cache_count ("text-encoder", &users), 1);
  fail_unless_equals_int (users, 2);
  fail_unless_equals_int (cache_count ("engine", &users), 1);
  fail_unless_equals_int (users, 2);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* the last user frees */
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  fail_unless_equals_int (cache_count ("text-encoder", NULL), 0);
  fail_unless_equals_int (cache_count ("engine", NULL), 0);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Many threads acquiring at once (two elements starting together): one
 * load, shared by all; a load that fails gives each caller its own error
 * and leaves nothing behind.  Loads run outside the cache's lock. */
#define N_ACQUIRERS 4

typedef struct
{
  AcquireFunc acquire_model;
  gpointer engine;
  const gchar *dir;
  gpointer model;
  GError *error;
} Acquirer;

static gpointer
acquire_in_thread (gpointer data)
{
  Acquirer *a = data;

  a->model = a->acquire_model (a->engine, a->dir, &a->error);
  return NULL;
}

static void
acquire_together (Acquirer * acquirers, const gchar * dir)
{
  AcquireEngineFunc acquire_engine =
      (AcquireEngineFunc) plugin_symbol ("gst_hart_cache_acquire_engine");
  AcquireFunc acquire_model =
      (AcquireFunc) plugin_symbol ("gst_hart_cache_acquire_model");
  GThread *threads[N_ACQUIRERS];
  gpointer engine = acquire_engine ("cpu", 0, 0, 0, NULL);

  fail_unless (engine != NULL);
  for (guint i = 0; i < N_ACQUIRERS; i++) {
    acquirers[i] = (Acquirer) {
    acquire_model, engine, dir, NULL, NULL};
    threads[i] = g_thread_new ("acquire", acquire_in_thread, &acquirers[i]);
  }
  for (guint i = 0; i < N_ACQUIRERS; i++)
    g_thread_join (threads[i]);
  acquirers[0].engine = engine;
}

GST_START_TEST (test_cache_concurrent_loads)
{
  CacheCountFunc cache_count;
  ReleaseFunc release;
  Acquirer acquirers[N_ACQUIRERS];
  GstElement *src = make_hartsrc (1);   /* loads the plugin */
  guint users;

  gst_object_unref (src);
  cache_count = lookup_cache_count ();
  release = (ReleaseFunc) plugin_symbol ("gst_hart_cache_release");

  acquire_together (acquirers, model_dir);
  fail_unless_equals_int (cache_count ("model", &users), 1);
  fail_unless_equals_int (users, N_ACQUIRERS);
  for (guint i = 0; i < N_ACQUIRERS; i++) {
    fail_unless (acquirers[i].model != NULL);
    fail_unless (acquirers[i].model == acquirers[0].model);
  }
  for (guint i = 0; i < N_ACQUIRERS; i++)
    release (acquirers[i].model);
  release (acquirers[0].engine);
  fail_unless_equals_int (cache_count ("model", NULL), 0);

  acquire_together (acquirers, "/nonexistent/hart-0.7b-1024px");
  for (guint i = 0; i < N_ACQUIRERS; i++) {
    fail_unless (acquirers[i].model == NULL);
    fail_unless (acquirers[i].error != NULL
        && strstr (acquirers[i].error->message, "/nonexistent") != NULL,
        "acquirer %u: %s", i,
        acquirers[i].error ? acquirers[i].error->message : "no error");
    g_clear_error (&acquirers[i].error);
  }
  release (acquirers[0].engine);
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  fail_unless_equals_int (cache_count ("engine", NULL), 0);
}

GST_END_TEST;

/* ---- seeking and timing ---- */

#define SEEK_CAPS "video/x-raw, format=RGB, framerate=10/1"
#define FRAME_NS (GST_SECOND / 10)

/* Buffers from H until the one of frame N (its OFFSET), which is returned;
 * the ones before it (made before a seek took effect) are dropped. */
static GstBuffer *
pull_frame (GstHarness * h, guint64 n)
{
  for (guint i = 0; i < 16; i++) {
    GstBuffer *buffer = pull_buffer (h);

    if (GST_BUFFER_OFFSET (buffer) == n)
      return buffer;
    gst_buffer_unref (buffer);
  }
  fail ("frame %" G_GUINT64_FORMAT " never came", n);
  return NULL;
}

/* A flushing seek, in time or in frames, to frame 3 of a seed-mode=increment
 * stream: the frames from there are the bytes, offsets and timestamps of an
 * unbroken run, and the segment starts at the seek position
 * (SEGMENT_START in time). */
static void
check_seek (GstFormat format, gint64 position, GstClockTime segment_start)
{
  GstHarness *unbroken = harness_hartsrc (6, SEEK_CAPS);
  GstHarness *h = harness_hartsrc (12, SEEK_CAPS);
  GstBuffer *expected[6], *frame;
  GstEvent *event;
  gboolean segment_seen = FALSE;

  gst_util_set_object_arg (G_OBJECT (unbroken->element), "seed-mode",
      "increment");
  gst_harness_play (unbroken);
  for (guint i = 0; i < 6; i++)
    expected[i] = pull_buffer (unbroken);
  gst_harness_teardown (unbroken);

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_play (h);
  gst_buffer_unref (pull_buffer (h));
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_seek (1.0, format, GST_SEEK_FLAG_FLUSH,
              GST_SEEK_TYPE_SET, position, GST_SEEK_TYPE_NONE, -1)));
  for (guint64 n = 3; n < 6; n++) {
    frame = pull_frame (h, n);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (frame), n * FRAME_NS);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (frame),
        GST_BUFFER_PTS (expected[n]));
    fail_unless (buffers_equal (frame, expected[n]),
        "frame %" G_GUINT64_FORMAT " after the seek differs", n);
    gst_buffer_unref (frame);
  }
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      const GstSegment *segment;

      gst_event_parse_segment (event, &segment);
      if (segment->start == segment_start)
        segment_seen = TRUE;
    }
    gst_event_unref (event);
  }
  fail_unless (segment_seen, "no segment starting at the seek position");
  for (guint i = 0; i < 6; i++)
    gst_buffer_unref (expected[i]);
  gst_harness_teardown (h);
}

/* Reverse playback, and a frame past what a timestamp holds, are refused
 * before anything is flushed: the seek fails, no flush reaches downstream,
 * and the stream goes on where it was (a refusal after the flush used to
 * leave it without a segment). */
GST_START_TEST (test_reverse_seek_refused)
{
  GstHarness *h = harness_hartsrc (-1, SEEK_CAPS);
  GstEvent *event;
  GstBuffer *b;
  guint64 offset;

  gst_harness_play (h);
  b = pull_buffer (h);
  offset = GST_BUFFER_OFFSET (b);
  gst_buffer_unref (b);
  fail_if (gst_harness_push_upstream_event (h,
          gst_event_new_seek (-1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
              GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_SET, 3 * FRAME_NS)));
  /* a frame whose time no timestamp holds (it used to wrap to frame 0) */
  fail_if (gst_harness_push_upstream_event (h,
          gst_event_new_seek (1.0, GST_FORMAT_DEFAULT, GST_SEEK_FLAG_FLUSH,
              GST_SEEK_TYPE_SET, G_GINT64_CONSTANT (1) << 62,
              GST_SEEK_TYPE_NONE, -1)));
  b = pull_buffer (h);
  fail_unless (GST_BUFFER_OFFSET (b) > offset);
  gst_buffer_unref (b);
  while ((event = gst_harness_try_pull_event (h)) != NULL) {
    fail_if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START
        || GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP,
        "a refused seek flushed downstream");
    gst_event_unref (event);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_seek_time)
{
  /* inside frame 3: that frame comes first, the segment starts where asked */
  check_seek (GST_FORMAT_TIME, 3 * FRAME_NS + FRAME_NS / 2,
      3 * FRAME_NS + FRAME_NS / 2);
}

GST_END_TEST;

GST_START_TEST (test_seek_frames)
{
  check_seek (GST_FORMAT_DEFAULT, 3, 3 * FRAME_NS);
}

GST_END_TEST;

/* A seek with a stop makes no frame past it, whatever batch-size: a seek
 * to frame 2 alone (DEFAULT [2, 3)) with batch-size=4 generates frame 2
 * only (progress: frame 2, frames 1), then EOS. */
GST_START_TEST (test_seek_stop_bounds_batch)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = make_hartsrc (-1);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstCaps *caps = gst_caps_from_string (SEEK_CAPS);
  GList *progress, *l;
  guint n_done = 0;

  gst_util_set_object_arg (G_OBJECT (src), "seed-mode", "increment");
  g_object_set (src, "batch-size", 4, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  fail_unless (gst_element_link_many (src, filter, sink, NULL));
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_ASYNC);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);
  /* what the preroll before the seek posted (frames 0 … 3) */
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  fail_unless (gst_element_seek (pipeline, 1.0, GST_FORMAT_DEFAULT,
          GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET, 2, GST_SEEK_TYPE_SET, 3));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  progress = progress_until_eos (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  for (l = progress; l != NULL; l = l->next) {
    const GstStructure *s;
    guint64 frame;
    GstClockTime pts;
    gint stage, n_stages;
    guint frames = 0;

    s = progress_checked (l->data, &frame, &pts, &stage, &n_stages);
    fail_unless (gst_structure_get_uint (s, "frames", &frames));
    fail_unless_equals_uint64 (frame, 2);
    fail_unless_equals_int (frames, 1);
    n_done += stage == n_stages;
  }
  fail_unless_equals_int (n_done, 1);

  g_list_free_full (progress, (GDestroyNotify) gst_message_unref);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ---- batch-size ---- */

#define BATCH_FRAMES 7

/* BATCH_FRAMES frames of a seed-mode=increment hartsrc in CAPS with
 * BATCH_SIZE and KEEP_SCALES, then EOS. */
static GstBuffer **
batch_run (guint batch_size, gint keep_scales, const gchar * caps)
{
  GstHarness *h = harness_hartsrc (BATCH_FRAMES, caps);
  GstBuffer **frames = g_new0 (GstBuffer *, BATCH_FRAMES);
  GstEvent *event;
  gboolean eos = FALSE;

  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  g_object_set (h->element, "keep-scales", keep_scales, "batch-size",
      batch_size, NULL);
  gst_harness_play (h);
  for (guint i = 0; i < BATCH_FRAMES; i++)
    frames[i] = pull_buffer (h);
  while (!eos && (event = gst_harness_pull_event (h)) != NULL) {
    eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
    gst_event_unref (event);
  }
  fail_unless (eos, "no EOS after %d frames", BATCH_FRAMES);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  gst_harness_teardown (h);
  return frames;
}

/* batch-size=3: seven frames come as 3 + 3 + 1 (num-buffers bounds the
 * last batch), in order, with the offsets, timestamps and meta of
 * batch-size=1 and its bytes, pictures or token frames (docs/video.md,
 * "Batches of frames"); the same with
 * keep-scales (the layout frame alone, then batches) and for token
 * frames.  Each frame is a new sample: a batch is not one frame
 * repeated. */
static void
check_batches (gint keep_scales, gboolean tokens)
{
  const gchar *caps = tokens ? "video/x-hart-tokens" :
      "video/x-raw, format=RGB, framerate=10/1";
  GstBuffer **one = batch_run (1, keep_scales, caps);
  GstBuffer **three = batch_run (3, keep_scales, caps);

  for (guint i = 0; i < BATCH_FRAMES; i++) {
    const GstStructure *m1 = hart_meta_checked (one[i], TRUE);
    const GstStructure *m3 = hart_meta_checked (three[i], TRUE);
    guint f1 = 0, f3 = 0;

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (three[i]), i);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (three[i]),
        GST_BUFFER_PTS (one[i]));
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (three[i]),
        GST_BUFFER_DURATION (one[i]));
    fail_unless (gst_structure_get_uint (m1, "frame", &f1));
    fail_unless (gst_structure_get_uint (m3, "frame", &f3));
    fail_unless_equals_int (f3, i);
    fail_unless_equals_int (f3, f1);
    fail_unless (buffers_equal (three[i], one[i]), "frame %u: not the bytes "
        "of batch-size=1 (%u levels apart)", i,
        max_byte_difference (three[i], one[i]));
    if (i > 0 && keep_scales == 0)
      fail_if (buffers_equal (three[i], three[i - 1]));
  }
  frames_free (one, BATCH_FRAMES);
  frames_free (three, BATCH_FRAMES);
}

GST_START_TEST (test_batch_size)
{
  check_batches (0, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_batch_size_keep_scales)
{
  check_batches (4, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_batch_size_tokens)
{
  check_batches (0, TRUE);
}

GST_END_TEST;

/* The SEEKING query tells the truth: seekable in time and frames unless
 * live. */
GST_START_TEST (test_seeking_query)
{
  GstHarness *h = harness_hartsrc (2, SEEK_CAPS);
  GstFormat formats[] = { GST_FORMAT_TIME, GST_FORMAT_DEFAULT };

  gst_harness_play (h);
  gst_buffer_unref (pull_buffer (h));
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstQuery *query = gst_query_new_seeking (formats[i]);
    gboolean seekable = FALSE;

    fail_unless (gst_element_query (h->element, query));
    gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
    fail_unless (seekable, "not seekable in %s",
        gst_format_get_name (formats[i]));
    gst_query_unref (query);
  }
  gst_harness_teardown (h);

  h = harness_hartsrc (2, SEEK_CAPS);
  g_object_set (h->element, "is-live", TRUE, NULL);
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  gst_buffer_unref (pull_buffer (h));
  {
    GstQuery *query = gst_query_new_seeking (GST_FORMAT_TIME);
    gboolean seekable = TRUE;

    fail_unless (gst_element_query (h->element, query));
    gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
    fail_if (seekable, "a live hartsrc claims to be seekable");
    gst_query_unref (query);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A new framerate mid-stream (downstream renegotiates): timestamps go on
 * from where the old rate left them — each frame starts where the one
 * before it ended, the frames after the change last the new period — also
 * for the frames a batch made ahead. */
static void
check_framerate_change (gint batch_size)
{
  GstHarness *h = harness_hartsrc (12, SEEK_CAPS);
  GstClockTime end = 0;
  gboolean changed = FALSE;

  g_object_set (h->element, "batch-size", batch_size, NULL);
  gst_harness_play (h);
  for (guint64 n = 0; n < 12; n++) {
    GstBuffer *b = pull_buffer (h);
    const GstClockTime pts = GST_BUFFER_PTS (b);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), n);
    fail_unless_equals_clocktime (pts, end);
    /* a 30/1 period is 33333333 or 33333334 ns (exact frame times) */
    fail_unless (GST_BUFFER_DURATION (b) == FRAME_NS
        || GST_BUFFER_DURATION (b) / 10 == GST_SECOND / 300,
        "frame %" G_GUINT64_FORMAT ": duration %" GST_TIME_FORMAT, n,
        GST_TIME_ARGS (GST_BUFFER_DURATION (b)));
    changed = changed || GST_BUFFER_DURATION (b) != FRAME_NS;
    end = pts + GST_BUFFER_DURATION (b);
    gst_buffer_unref (b);
    if (n == 2)
      gst_harness_set_sink_caps_str (h,
          "video/x-raw, format=RGB, framerate=30/1");
  }
  fail_unless (changed, "no frame at the new rate");
  gst_harness_teardown (h);
}

GST_START_TEST (test_framerate_change)
{
  check_framerate_change (1);
  check_framerate_change (3);
}

GST_END_TEST;

/* is-live and timestamp-offset change only in NULL or READY (their flags):
 * set while playing they are kept, read back as set, and take effect at
 * the next start — the stream goes on as it was (it used to stop for
 * good on is-live, and jump on timestamp-offset). */
GST_START_TEST (test_ready_only_settings_while_playing)
{
  GstHarness *h = harness_hartsrc (-1, SEEK_CAPS);
  GstBuffer *b;
  gboolean live;
  gint64 offset;

  gst_harness_play (h);
  gst_buffer_unref (pull_buffer (h));
  g_object_set (h->element, "is-live", TRUE, "timestamp-offset",
      (gint64) GST_SECOND, NULL);
  g_object_get (h->element, "is-live", &live, "timestamp-offset", &offset,
      NULL);
  fail_unless (live);
  fail_unless_equals_int64 (offset, GST_SECOND);
  fail_if (gst_base_src_is_live (GST_BASE_SRC (h->element)));
  /* frames go on, without the offset */
  for (int i = 0; i < 3; i++) {
    b = pull_buffer (h);
    fail_unless (GST_BUFFER_PTS (b) < GST_SECOND, "PTS %" GST_TIME_FORMAT,
        GST_TIME_ARGS (GST_BUFFER_PTS (b)));
    gst_buffer_unref (b);
  }
  /* the next start: live, and the offset from the first frame */
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_play (h);
  fail_unless (gst_base_src_is_live (GST_BASE_SRC (h->element)));
  b = pull_buffer (h);
  fail_unless (GST_BUFFER_PTS (b) >= GST_SECOND, "PTS %" GST_TIME_FORMAT,
      GST_TIME_ARGS (GST_BUFFER_PTS (b)));
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamp_offset)
{
  GstHarness *h = harness_hartsrc (2, SEEK_CAPS);
  GstBuffer *b;

  g_object_set (h->element, "timestamp-offset", (gint64) 5 * GST_SECOND, NULL);
  gst_harness_play (h);
  for (guint64 n = 0; n < 2; n++) {
    b = pull_buffer (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 5 * GST_SECOND
        + n * FRAME_NS);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), FRAME_NS);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Live at a rate no generation can keep (1000 frames a second): frames
 * whose slot passed are skipped, with a QoS message saying how many; every
 * frame is stamped with its own slot, so timestamps follow the clock and
 * the frame index; the latency query reports the measured generation time
 * (more than one frame period here). */
GST_START_TEST (test_live_skips_late_frames)
{
  GstHarness *h = harness_hartsrc (4,
      "video/x-raw, format=RGB, framerate=1000/1");
  GstBus *bus = gst_bus_new ();
  GstBuffer *frames[4];
  GstMessage *msg;
  GstQuery *query;
  GstClockTime min_latency = 0;
  gboolean live = FALSE;
  guint64 skipped = 0, dropped = 0;

  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  for (guint i = 0; i < 4; i++)
    frames[i] = pull_buffer (h);
  for (guint i = 1; i < 4; i++) {
    guint64 n = GST_BUFFER_OFFSET (frames[i]);
    guint64 n0 = GST_BUFFER_OFFSET (frames[0]);

    fail_unless (n > GST_BUFFER_OFFSET (frames[i - 1]) + 1,
        "frame %u: no frame skipped at 1000 frames a second", i);
    skipped += n - GST_BUFFER_OFFSET (frames[i - 1]) - 1;
    fail_unless_equals_uint64 (GST_BUFFER_PTS (frames[i]) -
        GST_BUFFER_PTS (frames[0]), (n - n0) * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (frames[i]), GST_MSECOND);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_QOS)) != NULL) {
    GstFormat format;
    guint64 processed, msg_dropped, running_time, stream_time, timestamp,
        duration;
    gboolean msg_live;
    gint64 jitter;

    gst_message_parse_qos_stats (msg, &format, &processed, &msg_dropped);
    fail_unless_equals_int (format, GST_FORMAT_BUFFERS);
    /* about the first skipped frame: its running time, stream time and
     * timestamp are one (a live PTS); late by the jitter */
    gst_message_parse_qos (msg, &msg_live, &running_time, &stream_time,
        &timestamp, &duration);
    gst_message_parse_qos_values (msg, &jitter, NULL, NULL);
    fail_unless (msg_live);
    fail_unless_equals_clocktime (running_time, timestamp);
    fail_unless_equals_clocktime (stream_time, timestamp);
    fail_unless (GST_CLOCK_TIME_IS_VALID (duration) && duration > 0);
    fail_unless (jitter > 0);
    dropped = msg_dropped;
    gst_message_unref (msg);
  }
  fail_unless (dropped >= skipped && skipped > 0,
      "QoS reports %" G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT
      " were skipped", dropped, skipped);

  query = gst_query_new_latency ();
  fail_unless (gst_element_query (h->element, query));
  gst_query_parse_latency (query, &live, &min_latency, NULL);
  fail_unless (live);
  fail_unless (min_latency > GST_MSECOND, "latency %" GST_TIME_FORMAT
      " is not the generation time", GST_TIME_ARGS (min_latency));
  gst_query_unref (query);

  for (guint i = 0; i < 4; i++)
    gst_buffer_unref (frames[i]);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- URI handler ---- */

/* hart:///PROMPT?property=value&…: the prompt from the path, properties from
 * the query, all or nothing; get_uri gives back prompt and seed. */
GST_START_TEST (test_uri_handler)
{
  GError *error = NULL;
  GstElement *src = gst_element_make_from_uri (GST_URI_SRC,
      "hart:///a%20red%20circle?seed=5&seed-mode=increment&keep-scales=3",
      NULL, &error);
  gchar *prompt, *uri;
  guint64 seed;
  gint keep;

  fail_unless (src != NULL, "%s", error ? error->message : "no element");
  g_object_get (src, "prompt", &prompt, "seed", &seed, "keep-scales", &keep,
      NULL);
  fail_unless_equals_string (prompt, "a red circle");
  fail_unless_equals_uint64 (seed, 5);
  fail_unless_equals_int (keep, 3);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  fail_unless_equals_string (uri, "hart:///a%20red%20circle?seed=5");
  g_free (uri);
  g_free (prompt);

  /* refused whole: an unknown property, a bad value, another scheme */
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "hart:///other?seed=9&bogus=1", &error));
  fail_unless (g_error_matches (error, GST_URI_ERROR,
          GST_URI_ERROR_BAD_REFERENCE));
  g_clear_error (&error);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "hart:///other?keep-scales=-1", &error));
  g_clear_error (&error);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "file:///other", &error));
  g_clear_error (&error);
  g_object_get (src, "prompt", &prompt, "seed", &seed, NULL);
  fail_unless_equals_string (prompt, "a red circle");
  fail_unless_equals_uint64 (seed, 5);
  g_free (prompt);

  /* hart://PROMPT: the prompt where a host goes (it used to be dropped) */
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "hart://a%20star?seed=4", &error));
  g_object_get (src, "prompt", &prompt, "seed", &seed, NULL);
  fail_unless_equals_string (prompt, "a star");
  fail_unless_equals_uint64 (seed, 4);
  g_free (prompt);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "hart://a%20cat/on%20a%20mat", &error));
  g_object_get (src, "prompt", &prompt, NULL);
  fail_unless_equals_string (prompt, "a cat/on a mat");
  g_free (prompt);

  /* the empty prompt goes and comes back */
  g_object_set (src, "prompt", "", NULL);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  g_object_set (src, "prompt", "something else", NULL);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src), uri, &error));
  g_object_get (src, "prompt", &prompt, NULL);
  fail_unless_equals_string (prompt, "");
  g_free (prompt);
  g_free (uri);
  gst_object_unref (src);
}

GST_END_TEST;

/* Live with batch-size=3 at 1000 frames a second: the frames of a batch
 * are all pushed (consecutive offsets), late rather than skipped; between
 * batches the source skips to the current slot as without batches. */
GST_START_TEST (test_live_batch_size)
{
  GstHarness *h = harness_hartsrc (6,
      "video/x-raw, format=RGB, framerate=1000/1");
  GstBuffer *frames[6];

  g_object_set (h->element, "is-live", TRUE, "batch-size", 3, NULL);
  gst_util_set_object_arg (G_OBJECT (h->element), "seed-mode", "increment");
  gst_harness_use_systemclock (h);
  gst_harness_play (h);
  for (guint i = 0; i < 6; i++)
    frames[i] = pull_buffer (h);
  for (guint b = 0; b < 6; b += 3) {
    const guint64 n0 = GST_BUFFER_OFFSET (frames[b]);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (frames[b + 1]), n0 + 1);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (frames[b + 2]), n0 + 2);
  }
  fail_unless (GST_BUFFER_OFFSET (frames[3]) > GST_BUFFER_OFFSET (frames[2])
      + 1, "no frame skipped between batches at 1000 frames a second");
  for (guint i = 0; i < 6; i++)
    gst_buffer_unref (frames[i]);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- presets ---- */

/* GstPreset: the shipped presets (data/presets, GST_PRESET_PATH in the
 * test environment) load, a preset holds only the generation settings
 * (not the element's name or num-buffers), and one saved by the user (in
 * the test's XDG_DATA_HOME) comes back on another element. */
/* The user's preset file of hartsrc in the test's XDG_DATA_HOME, removed:
 * GstPreset copies the system presets into it, and a copy left by an
 * earlier run would hide a change of data/presets. */
static void
remove_user_presets (void)
{
  gchar *file = g_build_filename (g_get_user_data_dir (), "gstreamer-1.0",
      "presets", "GstHartSrc.prs", NULL);
  gchar *backup = g_strconcat (file, ".bak", NULL);

  g_unlink (file);
  g_unlink (backup);
  g_free (backup);
  g_free (file);
}

GST_START_TEST (test_presets)
{
  GstElement *src, *other;
  gchar **names, **properties;
  gchar *prompt = NULL, *comment = NULL, *name = NULL;
  gint keep, transition;
  guint64 seed;
  guint batch;
  gdouble cfg;

  remove_user_presets ();
  src = make_hartsrc (1);
  other = make_hartsrc (1);
  names = gst_preset_get_preset_names (GST_PRESET (src));
  properties = gst_preset_get_property_names (GST_PRESET (src));

  fail_unless (names != NULL);
  fail_unless (g_strv_contains ((const gchar * const *) names, "video"));
  fail_unless (g_strv_contains ((const gchar * const *) names, "throughput"));
  fail_unless (g_strv_contains ((const gchar * const *) properties,
          "keep-scales"));
  fail_if (g_strv_contains ((const gchar * const *) properties, "prompt"));
  fail_if (g_strv_contains ((const gchar * const *) properties, "name"));
  fail_if (g_strv_contains ((const gchar * const *) properties, "num-buffers"));

  fail_unless (gst_preset_load_preset (GST_PRESET (src), "video"));
  g_object_get (src, "keep-scales", &keep, "transition-frames", &transition,
      "name", &name, NULL);
  fail_unless_equals_int (keep, 6);
  fail_unless_equals_int (transition, 12);
  fail_unless_equals_string (name, GST_OBJECT_NAME (src));
  fail_unless (gst_preset_get_meta (GST_PRESET (src), "video", "comment",
          &comment));
  fail_unless (comment != NULL && strlen (comment) > 0);

  g_object_set (src, "prompt", "a blue square", "seed", (guint64) 77,
      "batch-size", 2, "cfg-scale", 6.5, NULL);
  fail_unless (gst_preset_save_preset (GST_PRESET (src), "test-mine"));
  fail_unless (gst_preset_load_preset (GST_PRESET (other), "test-mine"));
  g_object_get (other, "prompt", &prompt, "seed", &seed, "batch-size",
      &batch, "keep-scales", &keep, "cfg-scale", &cfg, NULL);
  /* the prompt is what is made, not a setting: not in presets */
  fail_unless_equals_string (prompt,
      "a large red circle in the center on a blue background");
  fail_unless_equals_uint64 (seed, 77);
  fail_unless_equals_int (batch, 2);
  fail_unless_equals_int (keep, 6);
  fail_unless_equals_float (cfg, 6.5);
  fail_unless (gst_preset_delete_preset (GST_PRESET (src), "test-mine"));
  fail_if (gst_preset_load_preset (GST_PRESET (other), "test-mine"));

  g_free (prompt);
  g_free (comment);
  g_free (name);
  g_strfreev (names);
  g_strfreev (properties);
  gst_object_unref (src);
  gst_object_unref (other);
  remove_user_presets ();
}

GST_END_TEST;

static Suite *
hartsrc_suite (void)
{
  Suite *s = suite_create ("hartsrc");
  TCase *tc = tcase_create ("general");
  TCase *tc_load = tcase_create ("loading");

  hart_check_setup_fixtures ();
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, hart_check_keep_loaded,
      hart_check_release_loaded);
  tcase_add_test (tc, test_negotiate_formats);
  tcase_add_test (tc, test_negotiate_tokens);
  tcase_add_test (tc, test_refuse_unsupported_caps);
  tcase_add_test (tc, test_num_buffers_then_eos);
  tcase_add_test (tc, test_timestamps);
  tcase_add_test (tc, test_deterministic_by_seed);
  tcase_add_test (tc, test_precision);
  tcase_add_test (tc, test_seed_mode);
  tcase_add_test (tc, test_keep_scales);
  tcase_add_test (tc, test_prompt_change);
  tcase_add_test (tc, test_transition_frames);
  tcase_add_test (tc, test_keep_scales_prompt_change);
  tcase_add_test (tc, test_seek_time);
  tcase_add_test (tc, test_seek_frames);
  tcase_add_test (tc, test_seek_stop_bounds_batch);
  tcase_add_test (tc, test_seeking_query);
  tcase_add_test (tc, test_batch_size);
  tcase_add_test (tc, test_batch_size_keep_scales);
  tcase_add_test (tc, test_batch_size_tokens);
  tcase_add_test (tc, test_live_batch_size);
  tcase_add_test (tc, test_presets);
  tcase_add_test (tc, test_timestamp_offset);
  tcase_add_test (tc, test_framerate_change);
  tcase_add_test (tc, test_reverse_seek_refused);
  tcase_add_test (tc, test_ready_only_settings_while_playing);
  tcase_add_test (tc, test_live_skips_late_frames);
  tcase_add_test (tc, test_meta_and_tags);
  tcase_add_test (tc, test_meta_on_tokens);
  tcase_add_test (tc, test_meta_survives_copies);
  tcase_add_test (tc, test_progress_frame_and_pts);
  tcase_add_test (tc, test_stop_during_generation);
  tcase_add_test (tc, test_empty_prompt);
  tcase_add_test (tc, test_top_p_one);

  /* without the keeper: these count and load themselves */
  suite_add_tcase (s, tc_load);
  tcase_add_test (tc_load, test_properties_round_trip);
  tcase_add_test (tc_load, test_errors_for_missing_files);
  tcase_add_test (tc_load, test_hostile_model_folder);
  tcase_add_test (tc_load, test_bundled_model_default);
  tcase_add_test (tc_load, test_size_refused);
  tcase_add_test (tc_load, test_shared_cache);
  tcase_add_test (tc_load, test_uri_handler);
  tcase_add_test (tc_load, test_cache_concurrent_loads);
  return s;
}

GST_CHECK_MAIN (hartsrc);
