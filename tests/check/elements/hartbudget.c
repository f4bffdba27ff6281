/* gst-hart — the memory-budget property of hartsrc and hartrefine
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A budget the tiny model cannot fit makes start () fail with a
 * RESOURCE/NO_SPACE_LEFT error whose debug text gives the estimate and the
 * budget, before anything is loaded (the plugin's cache stays empty), and
 * the pipeline goes back to NULL without crashing.  The thresholds come
 * from libhart's own estimate (linked into this test), so the test checks
 * the element's decision, not a hard-coded size.
 */
#include "hart-check.h"
#include "tests/hart-test-bf16.h"
#include "hart/hart.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* The tiny model's estimate in MiB, rounded up, in the elements' default
 * precision (fp32). */
static guint64
tiny_model_mib (void)
{
  HartMemoryEstimate est;
  GError *error = NULL;

  fail_unless (hart_model_estimate_memory (model_dir, TRUE, 1,
          HART_PRECISION_FP32, &est, &error), "%s",
      error ? error->message : "");
  return (est.total_bytes + (1 << 20) - 1) >> 20;
}

/* Sets ELEMENT (with its own bus) to PAUSED, expects the start to fail with
 * a NO_SPACE_LEFT error whose debug text holds every string of EXPECTED,
 * then brings it back to NULL. */
static void
expect_over_budget (GstElement * element, const gchar * const *expected)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  gst_element_set_bus (element, bus);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = pop_error (bus);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", error->message);
  fail_unless (strstr (error->message, "memory budget") != NULL, "%s",
      error->message);
  for (guint i = 0; expected[i]; i++)
    fail_unless (debug && strstr (debug, expected[i]) != NULL,
        "debug \"%s\" lacks \"%s\"", debug, expected[i]);
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);

  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
}

GST_START_TEST (test_properties)
{
  GstElement *src = gst_element_factory_make ("hartsrc", NULL);
  GstElement *refine = gst_element_factory_make ("hartrefine", NULL);
  guint64 budget = 1;

  g_object_get (src, "memory-budget", &budget, NULL);
  fail_unless_equals_uint64 (budget, 0);
  g_object_get (refine, "memory-budget", &budget, NULL);
  fail_unless_equals_uint64 (budget, 0);
  g_object_set (src, "memory-budget", (guint64) 4096, NULL);
  g_object_get (src, "memory-budget", &budget, NULL);
  fail_unless_equals_uint64 (budget, 4096);
  g_object_set (refine, "memory-budget", (guint64) 12, NULL);
  g_object_get (refine, "memory-budget", &budget, NULL);
  fail_unless_equals_uint64 (budget, 12);
  gst_object_unref (src);
  gst_object_unref (refine);
}

GST_END_TEST;

GST_START_TEST (test_hartsrc_budget_1)
{
  CacheCountFunc cache_count;
  GstElement *src = make_hartsrc (1);
  gchar *what = g_strdup_printf ("model %s needs about", model_dir);
  const gchar *expected[] = { what, "at 128x128",
    "the memory budget (memory-budget) is 1 MiB", NULL
  };

  cache_count = lookup_cache_count ();
  g_object_set (src, "memory-budget", (guint64) 1, NULL);
  expect_over_budget (src, expected);
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  fail_unless_equals_int (cache_count ("engine", NULL), 0);
  gst_object_unref (src);
  g_free (what);
}

GST_END_TEST;

GST_START_TEST (test_hartrefine_budget_1)
{
  CacheCountFunc cache_count;
  GstElement *refine = gst_element_factory_make ("hartrefine", NULL);
  const gchar *expected[] = { "needs about",
    "the memory budget (memory-budget) is 1 MiB", NULL
  };

  cache_count = lookup_cache_count ();
  g_object_set (refine, "model-path", model_dir, "memory-budget",
      (guint64) 1, NULL);
  expect_over_budget (refine, expected);
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  gst_object_unref (refine);
}

GST_END_TEST;

/* A text encoder folder in a new temporary folder: the tiny one's files
 * (linked), its config.json claiming an MLP of 4096 instead of 48.  The
 * tiny encoder's own estimate (about 80 KB: its embedding table is read
 * from the mapped file) is below the MiB of memory-budget, so a budget in
 * MiB could not reliably sit between the model's estimate and the model's
 * with it; this one's is over 3 MiB.  Its weights are never read: the
 * budget refuses first. */
static gchar *
make_wide_text_encoder (void)
{
  const gchar *root = g_getenv ("HART_FIXTURES");
  gchar *from = g_build_filename (root ? root : "tests/fixtures", "tiny",
      "Qwen2-VL-1.5B-Instruct", NULL);
  gchar *dir = g_dir_make_tmp ("hart-budget-XXXXXX", NULL);
  GDir *listing = g_dir_open (from, 0, NULL);
  const gchar *name;

  fail_unless (dir != NULL && listing != NULL);
  while ((name = g_dir_read_name (listing)) != NULL) {
    gchar *src = g_build_filename (from, name, NULL);
    gchar *dst = g_build_filename (dir, name, NULL);

    if (g_str_equal (name, "config.json")) {
      gchar *text = NULL, **parts;

      fail_unless (g_file_get_contents (src, &text, NULL, NULL));
      parts = g_strsplit (text, "\"intermediate_size\": 48,", 2);
      fail_unless (parts[1] != NULL, "no intermediate_size 48 in %s", src);
      g_free (text);
      text = g_strjoin ("\"intermediate_size\": 4096,", parts[0], parts[1],
          NULL);
      fail_unless (g_file_set_contents (dst, text, -1, NULL));
      g_strfreev (parts);
      g_free (text);
    } else {
      gchar *abs = g_canonicalize_filename (src, NULL);
      fail_unless (symlink (abs, dst) == 0, "symlink %s: %s", dst,
          g_strerror (errno));
      g_free (abs);
    }
    g_free (src);
    g_free (dst);
  }
  g_dir_close (listing);
  g_free (from);
  return dir;
}

static void
remove_flat_dir (const gchar * dir)
{
  GDir *listing = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (listing && (name = g_dir_read_name (listing)) != NULL) {
    gchar *path = g_build_filename (dir, name, NULL);
    g_unlink (path);
    g_free (path);
  }
  if (listing)
    g_dir_close (listing);
  g_rmdir (dir);
}

/* The model fits, the model with its text encoder does not: refused once
 * the text encoder's folder is known, after the model loaded; the model is
 * released again. */
GST_START_TEST (test_hartsrc_budget_text_encoder)
{
  CacheCountFunc cache_count;
  GstElement *src = make_hartsrc (1);
  const gchar *expected[] = { "with the text encoder", "text encoder ",
    NULL
  };
  guint64 model_mib = tiny_model_mib ();
  gchar *qwen = make_wide_text_encoder ();
  guint64 encoder_bytes = 0;

  fail_unless (hart_memory_text_encoder_bytes (qwen, 1, 12, HART_DTYPE_F32,
          TRUE, &encoder_bytes, NULL));
  fail_unless (encoder_bytes > (1 << 20), "%" G_GUINT64_FORMAT, encoder_bytes);
  cache_count = lookup_cache_count ();
  g_object_set (src, "memory-budget", model_mib, "text-encoder-path", qwen,
      NULL);
  expect_over_budget (src, expected);
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  gst_object_unref (src);
  remove_flat_dir (qwen);
  g_free (qwen);
}

GST_END_TEST;

/* The budget is weighed in the engine's precision: with batch-size 8 (1 + 8
 * images counted) a budget between the bf16 and the fp32 estimate starts a
 * bf16 hartsrc or hartrefine and refuses an fp32 one.  Where this build or
 * CPU has no bf16 the check is skipped (logged), except on a CPU that must
 * have it. */
GST_START_TEST (test_budget_precision)
{
  HartEngine *engine = hart_engine_new_with_precision ("cpu", 0, 0,
      HART_PRECISION_BF16, NULL);
  HartMemoryEstimate e32, e16;
  GstElement *src, *refine;
  GstBuffer *buffer;
  gchar *budget_text;
  const gchar *expected[] = { "needs about", NULL, NULL };
  guint64 mib;

  if (engine == NULL) {
    /* a build that must have bf16 fails here (tests/hart-test-bf16.h) */
    fail_if (hart_test_bf16 () == HART_TEST_BF16_YES,
        "bf16 refused by a build with oneDNN");
    GST_WARNING ("no bf16 in this build (no oneDNN): check skipped");
    return;
  }
  hart_engine_unref (engine);
  fail_unless (hart_model_estimate_memory (model_dir, TRUE, 9,
          HART_PRECISION_FP32, &e32, NULL));
  fail_unless (hart_model_estimate_memory (model_dir, TRUE, 9,
          HART_PRECISION_BF16, &e16, NULL));
  mib = (e16.total_bytes + (1 << 20) - 1) >> 20;
  fail_unless ((mib << 20) < e32.total_bytes, "no MiB between %"
      G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT " bytes", e16.total_bytes,
      e32.total_bytes);

  buffer = first_frame ("memory-budget", mib, "batch-size", 8, "precision",
      (gint) HART_PRECISION_BF16, NULL);
  fail_unless_equals_uint64 (gst_buffer_get_size (buffer),
      TINY_SIZE * TINY_SIZE * 3);
  gst_buffer_unref (buffer);

  src = make_hartsrc (1);
  budget_text = g_strdup_printf ("the memory budget (memory-budget) is %"
      G_GUINT64_FORMAT " MiB", mib);
  expected[1] = budget_text;
  g_object_set (src, "memory-budget", mib, "batch-size", 8, "precision",
      (gint) HART_PRECISION_FP32, NULL);
  expect_over_budget (src, expected);
  gst_object_unref (src);

  /* hartrefine weighs the same 1 + 8 images */
  refine = gst_element_factory_make ("hartrefine", NULL);
  g_object_set (refine, "model-path", model_dir, "memory-budget", mib,
      "batch-size", 8, "precision", (gint) HART_PRECISION_BF16, NULL);
  fail_if (gst_element_set_state (refine, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_set_state (refine, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (refine, "precision", (gint) HART_PRECISION_FP32, NULL);
  expect_over_budget (refine, expected);
  gst_object_unref (refine);
  g_free (budget_text);
}

GST_END_TEST;

/* A whole pipeline: the error reaches the application's bus, the pipeline
 * refuses PLAYING and goes back to NULL. */
GST_START_TEST (test_pipeline_budget_1)
{
  gchar *desc = g_strdup_printf ("hartsrc model-path=\"%s\" num-buffers=1 "
      "memory-budget=1 ! hartrefine model-path=\"%s\" ! fakesink", model_dir,
      model_dir);
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = pop_error (bus);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", error->message);
  g_clear_error (&error);
  gst_message_unref (msg);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

/* A budget that fits changes nothing: the same frame as without one. */
GST_START_TEST (test_budget_fits)
{
  GstBuffer *with_budget = first_frame ("memory-budget", (guint64) 1024,
      NULL);
  GstBuffer *without = first_frame (NULL);

  fail_unless_equals_uint64 (gst_buffer_get_size (with_budget),
      TINY_SIZE * TINY_SIZE * 3);
  fail_unless (buffers_equal (with_budget, without));
  gst_buffer_unref (with_budget);
  gst_buffer_unref (without);
}

GST_END_TEST;

static Suite *
hartbudget_suite (void)
{
  Suite *s = suite_create ("hartbudget");
  TCase *tc = tcase_create ("general");

  hart_check_setup_fixtures ();
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_hartsrc_budget_1);
  tcase_add_test (tc, test_hartrefine_budget_1);
  tcase_add_test (tc, test_hartsrc_budget_text_encoder);
  tcase_add_test (tc, test_budget_precision);
  tcase_add_test (tc, test_pipeline_budget_1);
  tcase_add_test (tc, test_budget_fits);
  return s;
}

GST_CHECK_MAIN (hartbudget);
