/* gst-hart — helpers shared by the element tests
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tests run on the tiny fixtures (HART_FIXTURES): a 128×128 HART model
 * and a 2-layer Qwen2 whose tokenizer lives in tests/fixtures/tokenizer
 * (handed to hartsrc through HART_TOKENIZER_PATH).
 */
#ifndef HART_CHECK_H
#define HART_CHECK_H

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gmodule.h>
#include "gst/gsthartcache.h"
/* the application-facing header: what a C application reads the meta with */
#include "gst/gst-hart-meta.h"
#include <string.h>

#define TINY_SIZE 128

static gchar *model_dir;

/* Fixture paths, and the tokenizer for hartsrc; call before any element is
 * made. */
static void
hart_check_setup_fixtures (void)
{
  const gchar *fixtures = g_getenv ("HART_FIXTURES");
  gchar *tokenizer;

  if (fixtures == NULL)
    fixtures = "tests/fixtures";
  model_dir = g_build_filename (fixtures, "tiny", "hart-0.7b-1024px", NULL);
  tokenizer = g_build_filename (fixtures, "tokenizer", NULL);
  g_setenv ("HART_TOKENIZER_PATH", tokenizer, TRUE);
  g_free (tokenizer);
}

/* A hartsrc on the tiny model with NUM_BUFFERS frames (-1: endless). */
static GstElement *
make_hartsrc (gint num_buffers)
{
  GstElement *src = gst_element_factory_make ("hartsrc", NULL);

  fail_unless (src != NULL, "hartsrc not found (GST_PLUGIN_PATH?)");
  g_object_set (src, "model-path", model_dir, "num-buffers", num_buffers,
      NULL);
  return src;
}

/* A function of the loaded plugin's cache: the very cache the elements use
 * (gst/gsthartcache.h), not a second copy linked into the test.  The
 * plugin exports no such symbol; it attaches a table of them to its
 * GstPlugin object. */
static gpointer
plugin_symbol (const gchar * name)
{
  GstPlugin *plugin = gst_plugin_load_by_name ("hart");
  const GstHartCacheHooks *hooks;
  gpointer symbol = NULL;

  fail_unless (plugin != NULL);
  hooks = g_object_get_data (G_OBJECT (plugin), GST_HART_CACHE_HOOKS_KEY);
  fail_unless (hooks != NULL, "no %s on the plugin", GST_HART_CACHE_HOOKS_KEY);
  if (g_str_equal (name, "gst_hart_cache_acquire_engine"))
    symbol = (gpointer) hooks->acquire_engine;
  else if (g_str_equal (name, "gst_hart_cache_acquire_model"))
    symbol = (gpointer) hooks->acquire_model;
  else if (g_str_equal (name, "gst_hart_cache_acquire_text_encoder"))
    symbol = (gpointer) hooks->acquire_text_encoder;
  else if (g_str_equal (name, "gst_hart_cache_release"))
    symbol = (gpointer) hooks->release;
  else if (g_str_equal (name, "gst_hart_cache_count"))
    symbol = (gpointer) hooks->count;
  fail_unless (symbol != NULL, "%s", name);
  /* GStreamer keeps the plugin loaded: dropping our reference is safe */
  gst_object_unref (plugin);
  return symbol;
}

typedef guint (*CacheCountFunc) (const gchar * kind, guint * n_users);
typedef gpointer (*AcquireEngineFunc) (const gchar * device, gint id,
    gint n_threads, gint precision, GError ** error);
typedef gpointer (*AcquireFunc) (gpointer engine, const gchar * dir,
    GError ** error);
typedef gpointer (*AcquireEncoderFunc) (gpointer engine, const gchar * dir,
    const gchar * tokenizer_dir, GError ** error);
typedef void (*ReleaseFunc) (gpointer object);

G_GNUC_UNUSED static CacheCountFunc
lookup_cache_count (void)
{
  return (CacheCountFunc) plugin_symbol ("gst_hart_cache_count");
}

/* The text encoder's tokenizer takes most of a second to load: the test
 * holds engine, model and text encoder in the plugin's cache (as hartsrc
 * would, same keys) so that every element it makes shares them. */
static gpointer kept_engine, kept_model, kept_encoder;

G_GNUC_UNUSED static void
hart_check_keep_loaded (void)
{
  GstElement *src = make_hartsrc (1);   /* loads the plugin */
  AcquireEngineFunc acquire_engine =
      (AcquireEngineFunc) plugin_symbol ("gst_hart_cache_acquire_engine");
  AcquireFunc acquire_model =
      (AcquireFunc) plugin_symbol ("gst_hart_cache_acquire_model");
  AcquireEncoderFunc acquire_encoder = (AcquireEncoderFunc)
      plugin_symbol ("gst_hart_cache_acquire_text_encoder");
  /* tiny/Qwen2-VL-1.5B-Instruct, beside the model; a local, not a global
   * that a test without the keeper would leave unused (the compiler drops
   * the store and LeakSanitizer reports the string) */
  gchar *tiny_dir = g_path_get_dirname (model_dir);
  gchar *text_encoder_dir = g_build_filename (tiny_dir,
      "Qwen2-VL-1.5B-Instruct", NULL);
  GError *error = NULL;

  gst_object_unref (src);
  kept_engine = acquire_engine ("auto", 0, 0, 0, &error);
  fail_unless (kept_engine != NULL);
  kept_model = acquire_model (kept_engine, model_dir, &error);
  fail_unless (kept_model != NULL);
  /* NULL: the tokenizer folder the elements find for this encoder, so that
   * their acquisitions share this entry instead of loading their own */
  kept_encoder = acquire_encoder (kept_engine, text_encoder_dir, NULL,
      &error);
  fail_unless (kept_encoder != NULL);
  g_free (text_encoder_dir);
  g_free (tiny_dir);
}

G_GNUC_UNUSED static void
hart_check_release_loaded (void)
{
  ReleaseFunc release = (ReleaseFunc) plugin_symbol ("gst_hart_cache_release");

  release (kept_encoder);
  release (kept_model);
  release (kept_engine);
}

/* A harness around a hartsrc of NUM_BUFFERS frames whose sink takes CAPS. */
static GstHarness *
harness_hartsrc (gint num_buffers, const gchar * caps)
{
  GstElement *src = make_hartsrc (num_buffers);
  GstHarness *h = gst_harness_new_with_element (src, NULL, "src");

  gst_object_unref (src);
  if (caps)
    gst_harness_set_sink_caps_str (h, caps);
  return h;
}

/* Waits (up to the harness timeout) for the next buffer; fails on none. */
static GstBuffer *
pull_buffer (GstHarness * h)
{
  GstBuffer *buffer = gst_harness_pull (h);

  fail_unless (buffer != NULL, "no buffer from %s",
      GST_ELEMENT_NAME (h->element));
  return buffer;
}

static gboolean
buffers_equal (GstBuffer * a, GstBuffer * b)
{
  GstMapInfo ma, mb;
  gboolean equal;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  equal = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return equal;
}

/* Σ |a − b| over the bytes of two buffers of one size; *MAX (may be
 * NULL): the largest |a − b|. */
G_GNUC_UNUSED static guint64
byte_differences (GstBuffer * a, GstBuffer * b, guint * max)
{
  GstMapInfo ma, mb;
  guint64 d = 0;
  guint m = 0;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  fail_unless_equals_uint64 (ma.size, mb.size);
  for (gsize i = 0; i < ma.size; i++) {
    const guint x = (guint) ABS ((gint) ma.data[i] - (gint) mb.data[i]);

    d += x;
    m = MAX (m, x);
  }
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  if (max)
    *max = m;
  return d;
}

G_GNUC_UNUSED static guint64
buffers_distance (GstBuffer * a, GstBuffer * b)
{
  return byte_differences (a, b, NULL);
}

/* The largest |a − b| over the bytes of two frames of one size. */
G_GNUC_UNUSED static guint
max_byte_difference (GstBuffer * a, GstBuffer * b)
{
  guint max;

  byte_differences (a, b, &max);
  return max;
}

/* The first frame of a fresh hartsrc (raw RGB) with PROPS set by a
 * g_object_set-style list ending in NULL. */
G_GNUC_UNUSED static GstBuffer *
first_frame (const gchar * first_prop, ...)
{
  GstHarness *h = harness_hartsrc (1, "video/x-raw, format=RGB");
  GstBuffer *buffer;
  va_list args;

  va_start (args, first_prop);
  if (first_prop)
    g_object_set_valist (G_OBJECT (h->element), first_prop, args);
  va_end (args);
  gst_harness_play (h);
  buffer = pull_buffer (h);
  gst_harness_teardown (h);
  return buffer;
}

/* The next error message of BUS, waiting up to 10 s (NULL: none). */
G_GNUC_UNUSED static GstMessage *
pop_error (GstBus * bus)
{
  return gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
}

/* The ERROR messages from ELEMENT still to come on BUS after the one a
 * test popped: those already there, and any within half a second (the
 * base classes post theirs right after the element's own).  One failure
 * must give one error (docs/errors.md, E64). */
G_GNUC_UNUSED static guint
count_more_errors (GstBus * bus, GstElement * element)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_timed_pop_filtered (bus, GST_SECOND / 2,
              GST_MESSAGE_ERROR)) != NULL) {
    if (GST_MESSAGE_SRC (msg) == GST_OBJECT (element)) {
      GError *error = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (msg, &error, &debug);
      g_printerr ("another error from %s: %s (%s)\n",
          GST_ELEMENT_NAME (element), error->message, GST_STR_NULL (debug));
      g_clear_error (&error);
      g_free (debug);
      n++;
    }
    gst_message_unref (msg);
  }
  return n;
}

/* BUFFER's GstHartMeta, checked as an application in any language sees
 * it: a custom meta registered under "GstHartMeta" (API type
 * "GstHartMeta-api"), one on the buffer, whose structure has seed (guint64),
 * frame (guint), cfg-scale (gdouble), model, fingerprint and precision
 * (strings, the fingerprint 64 hex digits) and nothing else but the prompt
 * (a string), present exactly when WITH_PROMPT, and tokens-precision.
 * Fails otherwise. */
G_GNUC_UNUSED static const GstStructure *
hart_meta_checked (GstBuffer * buffer, gboolean with_prompt)
{
  const GstMetaInfo *info = gst_meta_get_info ("GstHartMeta");
  GstCustomMeta *meta;
  const GstStructure *s;
  const gchar *fingerprint;
  gpointer state = NULL;
  guint n_metas = 0;

  fail_unless (info != NULL, "no meta registered as GstHartMeta");
  fail_unless (gst_meta_info_is_custom (info), "GstHartMeta: not custom");
  fail_unless_equals_string (g_type_name (info->api), "GstHartMeta-api");
  while (gst_buffer_iterate_meta_filtered (buffer, &state, info->api))
    n_metas++;
  fail_unless_equals_int (n_metas, 1);

  meta = gst_buffer_get_custom_meta (buffer, "GstHartMeta");
  fail_unless (meta != NULL, "no GstHartMeta on the buffer");
  s = gst_custom_meta_get_structure (meta);
  fail_unless (gst_structure_has_name (s, "GstHartMeta"));
  /* the tokens' precision only when hartrefine ran in another one */
  fail_unless_equals_int (gst_structure_n_fields (s), (with_prompt ? 7 : 6)
      + gst_structure_has_field (s, "tokens-precision"));
  fail_unless (gst_structure_has_field_typed (s, "precision", G_TYPE_STRING));
  if (with_prompt)
    fail_unless (gst_structure_has_field_typed (s, "prompt", G_TYPE_STRING));
  else
    fail_if (gst_structure_has_field (s, "prompt"), "%s",
        gst_structure_to_string (s));
  fail_unless (gst_structure_has_field_typed (s, "seed", G_TYPE_UINT64));
  fail_unless (gst_structure_has_field_typed (s, "frame", G_TYPE_UINT));
  fail_unless (gst_structure_has_field_typed (s, "cfg-scale", G_TYPE_DOUBLE));
  fail_unless (gst_structure_has_field_typed (s, "model", G_TYPE_STRING));
  fail_unless (gst_structure_has_field_typed (s, "fingerprint",
          G_TYPE_STRING));
  fingerprint = gst_structure_get_string (s, "fingerprint");
  fail_unless_equals_int (strlen (fingerprint), 64);
  fail_unless_equals_int (strspn (fingerprint, "0123456789abcdef"), 64);
  return s;
}

/* The "hart-progress" element messages on BUS until EOS (an error fails),
 * in the order posted. */
G_GNUC_UNUSED static GList *
progress_until_eos (GstBus * bus)
{
  GList *progress = NULL;
  GstMessage *msg;

  while ((msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
              GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      gst_message_unref (msg);
      return g_list_reverse (progress);
    }
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR,
        "error: %s", gst_structure_to_string (gst_message_get_structure
            (msg)));
    if (gst_message_has_name (msg, "hart-progress"))
      progress = g_list_prepend (progress, msg);
    else
      gst_message_unref (msg);
  }
  fail ("no EOS");
  return NULL;
}

/* MSG's structure, checked: a "hart-progress" with frame (guint64), pts
 * (guint64, a GstClockTime), frames (guint, 1 … 16), stage and n-stages
 * (int, 0 ≤ stage ≤ n-stages) and description (string). */
G_GNUC_UNUSED static const GstStructure *
progress_checked (GstMessage * msg, guint64 * frame, GstClockTime * pts,
    gint * stage, gint * n_stages)
{
  const GstStructure *s = gst_message_get_structure (msg);
  guint frames = 0;

  fail_unless (gst_structure_has_name (s, "hart-progress"));
  fail_unless (gst_structure_has_field_typed (s, "frame", G_TYPE_UINT64),
      "%s", gst_structure_to_string (s));
  fail_unless (gst_structure_has_field_typed (s, "pts", G_TYPE_UINT64),
      "%s", gst_structure_to_string (s));
  fail_unless (gst_structure_get_uint64 (s, "frame", frame));
  fail_unless (gst_structure_get_uint64 (s, "pts", pts));
  fail_unless (gst_structure_get_uint (s, "frames", &frames),
      "%s", gst_structure_to_string (s));
  fail_unless (frames >= 1 && frames <= 16, "frames %u", frames);
  fail_unless (gst_structure_get_int (s, "stage", stage));
  fail_unless (gst_structure_get_int (s, "n-stages", n_stages));
  fail_unless (gst_structure_has_field_typed (s, "description",
          G_TYPE_STRING));
  fail_unless (*stage >= 0 && *stage <= *n_stages);
  return s;
}

/* MSG (taken) is the error a precision the device lacks gives: LIBRARY /
 * SETTINGS, naming PRECISION, "not available" in the debug text. */
G_GNUC_UNUSED static void
hart_check_precision_refused (GstMessage * msg, const gchar * precision)
{
  GError *error = NULL;
  gchar *debug = NULL;

  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_LIBRARY_ERROR,
          GST_LIBRARY_ERROR_SETTINGS), "%s", error->message);
  fail_unless (strstr (error->message, precision) != NULL, "%s",
      error->message);
  fail_unless (debug != NULL && strstr (debug, "not available") != NULL,
      "%s", debug);
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
}

#endif /* HART_CHECK_H */
