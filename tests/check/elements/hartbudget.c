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
#include "hart/hart.h"

/* The tiny model's estimate in MiB, rounded up. */
static guint64
tiny_model_mib (void)
{
  HartMemoryEstimate est;
  GError *error = NULL;

  fail_unless (hart_model_estimate_memory (model_dir, TRUE, 1, &est,
          &error), "%s", error ? error->message : "");
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

  cache_count = lookup_cache_count ();
  g_object_set (src, "memory-budget", model_mib, NULL);
  expect_over_budget (src, expected);
  fail_unless_equals_int (cache_count ("model", NULL), 0);
  gst_object_unref (src);
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
  tcase_add_test (tc, test_pipeline_budget_1);
  tcase_add_test (tc, test_budget_fits);
  return s;
}

GST_CHECK_MAIN (hartbudget);
