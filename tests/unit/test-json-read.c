/* gst-hart — tests of the bounded JSON reader and of regular-file opening
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case is an input that crashed, hung or misled before
 * hart/json-read.c and hart/file-read.c existed (issue #14): a stack
 * overflow in json-glib on deep nesting, integers wrapped to -1, keys cut
 * at \u0000, a duplicate name silently dropped, an open() of a FIFO that
 * never returns, /dev/zero read whole before its size was checked.
 */
#include "hart/config.h"
#include "hart/checkpoint.h"
#include "hart/error.h"
#include "hart/file-read.h"
#include "hart/json-read.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static char *tmp_dir;

static JsonParser *
parse (const HartJsonLimits * limits, const char *text, GError ** error)
{
  JsonNode *root;

  return hart_json_parse ("t.json", limits, text, strlen (text), &root, error);
}

static void
expect_refused (const HartJsonLimits * limits, const char *text, int code,
    const char *message_part)
{
  GError *error = NULL;

  g_assert_null (parse (limits, text, &error));
  g_assert_error (error, HART_ERROR, code);
  if (strstr (error->message, message_part) == NULL)
    g_error ("\"%s\" lacks \"%s\"", error->message, message_part);
  g_error_free (error);
}

static char *
nested (guint depth)
{
  GString *s = g_string_new ("{\"a\": ");

  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, '[');
  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* 100,000 nested arrays: a stack overflow inside json-glib before. */
static void
test_depth (void)
{
  const HartJsonLimits *limits = &hart_json_limits_config;
  char *ok = nested (limits->max_depth);
  char *over = nested (limits->max_depth + 1);
  char *deep = nested (100000);
  GError *error = NULL;
  JsonParser *parser = parse (limits, ok, &error);

  g_assert_no_error (error);
  g_object_unref (parser);
  expect_refused (limits, over, HART_ERROR_LIMIT,
      "t.json: nests arrays and objects deeper than 32 levels (line 1)");
  expect_refused (&hart_json_limits_safetensors_header, deep,
      HART_ERROR_LIMIT, "t.json: header nests arrays and objects deeper "
      "than 8 levels");
  g_free (ok);
  g_free (over);
  g_free (deep);
}

static void
test_value_count (void)
{
  const HartJsonLimits *limits = &hart_json_limits_config;
  GString *s = g_string_new ("{\"a\": [0");

  /* the object, the name, the array and its values */
  for (guint64 i = 1; i < limits->max_values - 3; i++)
    g_string_append (s, ",0");
  g_string_append (s, "]}");
  {
    GError *error = NULL;
    JsonParser *parser = parse (limits, s->str, &error);
    g_assert_no_error (error);
    g_object_unref (parser);
  }
  g_string_truncate (s, s->len - 2);
  g_string_append (s, ",0]}");
  expect_refused (limits, s->str, HART_ERROR_LIMIT,
      "holds more than 65536 values and member names");
  g_string_free (s, TRUE);
}

/* A safetensors header within the format's 100 MB of small values once
 * cost ~40 bytes of text and ~150 bytes of parser nodes each: ~4 GB for
 * 99 MB.  The value count stops it during the pre-scan, before json-glib
 * allocates anything. */
static void
test_header_of_small_values (void)
{
  const HartJsonLimits *limits = &hart_json_limits_safetensors_header;
  GString *s = g_string_new ("{\"__metadata__\": {}, \"a\": [0");

  while (s->len < 2 * limits->max_values + 100)
    g_string_append (s, ",0");
  g_string_append (s, "]}");
  expect_refused (limits, s->str, HART_ERROR_LIMIT, "t.json: header holds "
      "more than 1000000 values and member names (line 1; the limit for a "
      "safetensors header)");
  g_string_free (s, TRUE);
}

static void
test_numbers (void)
{
  const HartJsonLimits *limits = &hart_json_limits_config;
  GError *error = NULL;
  JsonNode *root;
  JsonParser *parser;

  expect_refused (limits, "{\"depth\": 99999999999999999999}",
      HART_ERROR_FORMAT, "t.json: line 1: integer 99999999999999999999 does "
      "not fit in 64 bits");
  expect_refused (limits, "{\"a\": [1,\n -9223372036854775809]}",
      HART_ERROR_FORMAT, "line 2: integer -9223372036854775809");
  expect_refused (limits, "{\"a\": 1e999}", HART_ERROR_FORMAT,
      "number 1e999 is out of range");
  expect_refused (limits, "{\"a\": -1E+400}", HART_ERROR_FORMAT,
      "number -1E+400 is out of range");

  /* the extremes of 64 bits and ordinary floats pass unchanged */
  {
    const char *text = "{\"max\": 9223372036854775807, "
        "\"min\": -9223372036854775808, \"eps\": 1e-06}";
    parser = hart_json_parse ("t.json", limits, text, strlen (text), &root,
        &error);
    g_assert_no_error (error);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (root),
            "max"), ==, G_MAXINT64);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (root),
            "min"), ==, G_MININT64);
    g_object_unref (parser);
  }
}

static void
test_nul (void)
{
  const HartJsonLimits *limits = &hart_json_limits_tokenizer;
  GError *error = NULL;
  JsonParser *parser;
  JsonNode *root;
  static const char raw_nul[] = "{\"a\": \"x\0y\"}";

  expect_refused (limits, "{\"ab\\u0000c\": 1}", HART_ERROR_FORMAT,
      "a string holds the escape \\u0000 (NUL)");
  expect_refused (limits, "{\"a\": [\"x\", \"\\u0000\"]}", HART_ERROR_FORMAT,
      "\\u0000");
  g_assert_null (hart_json_parse ("t.json", limits, raw_nul,
          sizeof raw_nul - 1, &root, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "a NUL byte at byte 8"));
  g_clear_error (&error);

  /* an escaped backslash before "u0000" is no NUL */
  parser = parse (limits, "{\"a\": \"x\\\\u0000\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object
          (json_parser_get_root (parser)), "a"), ==, "x\\u0000");
  g_object_unref (parser);
}

/* json-glib also takes comments, single quotes and hex numbers; a '"'
 * inside those hid 100,000 '[' from the depth scan (found by fuzzing). */
static void
test_not_strict_json (void)
{
  const HartJsonLimits *limits = &hart_json_limits_config;
  GString *deep = g_string_new ("{\"a\": /* \" */ ");

  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  expect_refused (limits, deep->str, HART_ERROR_FORMAT,
      "line 1: byte 0x2f (/) is not JSON here");
  g_string_assign (deep, "{\"a\": ['\"', ");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  expect_refused (limits, deep->str, HART_ERROR_FORMAT, "byte 0x27 (')");
  g_string_free (deep, TRUE);
  expect_refused (limits, "{\"a\": 0xFFFFFFFFFFFFFFFFFFFF}",
      HART_ERROR_FORMAT, "\"xFFFFFFFFFFFFFFFFFFFF\" is not JSON");
  expect_refused (limits, "{\"a\": nope}", HART_ERROR_FORMAT,
      "\"nope\" is not JSON (only true, false and null are words)");
  expect_refused (limits, "{\"a\": 1} // x", HART_ERROR_FORMAT, "(/)");
  expect_refused (limits, "# x\n{}", HART_ERROR_FORMAT, "(#)");
}

static void
test_duplicates (void)
{
  const HartJsonLimits *limits = &hart_json_limits_config;

  expect_refused (limits, "{\"a\": 1, \"b\": 2, \"a\": 3}", HART_ERROR_FORMAT,
      "names \"a\" twice in one object");
  /* at any depth, and also in the second of two objects */
  expect_refused (limits, "{\"x\": {\"k\": 1}, \"y\": {\"k\": 1, \"k\": 2}}",
      HART_ERROR_FORMAT, "names \"k\" twice");
  expect_refused (limits, "{\"a\": [{\"q\": 1, \"q\": 1}]}",
      HART_ERROR_FORMAT, "names \"q\" twice");
  /* the same name in two different objects is fine */
  {
    GError *error = NULL;
    JsonParser *parser =
        parse (limits, "{\"x\": {\"k\": 1}, \"y\": {\"k\": 2}}",
        &error);
    g_assert_no_error (error);
    g_object_unref (parser);
  }
}

/* A FIFO without a writer: open() without O_NONBLOCK never returns.  If
 * this test hangs, that is the defect (meson's timeout ends it). */
static void
test_fifo (void)
{
  char *fifo = g_build_filename (tmp_dir, "config.json", NULL);
  GError *error = NULL;
  HartTransformerConfig cfg;
  HartCheckpoint *ckpt;
  char *text = NULL;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_false (hart_transformer_config_load (fifo, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_IO);
  g_assert_nonnull (strstr (error->message,
          "is a named pipe (FIFO), expected a regular file"));
  g_clear_error (&error);

  ckpt = hart_checkpoint_open (fifo, &error);
  g_assert_null (ckpt);
  g_assert_error (error, HART_ERROR, HART_ERROR_IO);
  g_clear_error (&error);

  g_assert_false (hart_file_read_bounded (fifo, "a test file", 100, &text,
          NULL, &error));
  g_assert_null (text);
  g_assert_error (error, HART_ERROR, HART_ERROR_IO);
  g_clear_error (&error);
  g_remove (fifo);
  g_free (fifo);
}

/* /dev/zero as config.json used to be read whole before the size check. */
static void
test_devices (void)
{
  GError *error = NULL;
  HartTransformerConfig cfg;

  g_assert_false (hart_transformer_config_load ("/dev/zero", &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_IO);
  g_assert_nonnull (strstr (error->message,
          "/dev/zero: is a character device, expected a regular file"));
  g_clear_error (&error);

  g_assert_null (hart_checkpoint_open ("/dev/null", &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_IO);
  g_clear_error (&error);

  g_assert_false (hart_transformer_config_load ("/nonexistent/config.json",
          &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no such file"));
  g_clear_error (&error);
}

/* A file larger than the kind's limit is refused from fstat, before any
 * byte is read or allocated (a sparse file: nothing is on disk). */
static void
test_size_before_read (void)
{
  char *path = g_build_filename (tmp_dir, "huge.json", NULL);
  GError *error = NULL;
  HartTransformerConfig cfg;
  FILE *f = fopen (path, "w");

  g_assert_nonnull (f);
  g_assert_cmpint (ftruncate (fileno (f), (off_t) 1 << 40), ==, 0);
  fclose (f);
  g_assert_false (hart_transformer_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_assert_nonnull (strstr (error->message,
          "1099511627776 bytes is too large for a config.json (limit "
          "1048576 bytes)"));
  g_clear_error (&error);
  g_remove (path);
  g_free (path);
}

/* Without read permission the message says so, not "no such file" (only
 * testable when not root: root reads every file). */
static void
test_unreadable (void)
{
  char *path = g_build_filename (tmp_dir, "secret.json", NULL);
  GError *error = NULL;
  HartTransformerConfig cfg;

  if (geteuid () == 0) {
    g_test_skip ("root reads every file");
    g_free (path);
    return;
  }
  g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
  g_assert_cmpint (g_chmod (path, 0), ==, 0);
  g_assert_false (hart_transformer_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "Permission denied"));
  g_clear_error (&error);
  g_remove (path);
  g_free (path);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("hart-test-json-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_func ("/json-read/depth", test_depth);
  g_test_add_func ("/json-read/value-count", test_value_count);
  g_test_add_func ("/json-read/header-of-small-values",
      test_header_of_small_values);
  g_test_add_func ("/json-read/numbers", test_numbers);
  g_test_add_func ("/json-read/nul", test_nul);
  g_test_add_func ("/json-read/not-strict-json", test_not_strict_json);
  g_test_add_func ("/json-read/duplicates", test_duplicates);
  g_test_add_func ("/file-read/fifo", test_fifo);
  g_test_add_func ("/file-read/devices", test_devices);
  g_test_add_func ("/file-read/size-before-read", test_size_before_read);
  g_test_add_func ("/file-read/unreadable", test_unreadable);
  status = g_test_run ();
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
