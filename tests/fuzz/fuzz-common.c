/* gst-hart — shared helpers of the libFuzzer targets
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"

#include "hart/checkpoint.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

static char *scratch_dir;
static GPtrArray *scratch_files;        /* paths to remove at exit */
static gboolean verbose;

static GLogWriterOutput
quiet_writer (GLogLevelFlags level, const GLogField * fields, gsize n_fields,
    gpointer user_data)
{
  /* criticals and errors are fatal: print why, then abort () here, which
   * libFuzzer catches (GLib's own fatal path raises SIGTRAP, which it does
   * not, so no crash input would be saved) */
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    g_log_writer_standard_streams (level, fields, n_fields, user_data);
    abort ();
  }
  if (verbose)
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static void
remove_scratch (void)
{
  if (scratch_dir == NULL)
    return;
  for (guint i = 0; i < scratch_files->len; i++)
    g_unlink (g_ptr_array_index (scratch_files, i));
  g_rmdir (scratch_dir);
  g_ptr_array_free (scratch_files, TRUE);
  g_clear_pointer (&scratch_dir, g_free);
}

void
hart_fuzz_init (void)
{
  GError *error = NULL;

  if (scratch_dir != NULL)
    return;
  verbose = g_getenv ("HART_FUZZ_VERBOSE") != NULL;
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (quiet_writer, NULL, NULL);
  scratch_dir = g_dir_make_tmp ("hart-fuzz-XXXXXX", &error);
  if (scratch_dir == NULL) {
    fprintf (stderr, "hart-fuzz: no scratch folder: %s\n", error->message);
    abort ();
  }
  scratch_files = g_ptr_array_new_with_free_func (g_free);
  atexit (remove_scratch);
}

const char *
hart_fuzz_scratch_dir (void)
{
  return scratch_dir;
}

char *
hart_fuzz_scratch_path (const char *name)
{
  char *path = g_build_filename (scratch_dir, name, NULL);
  gboolean known = FALSE;

  for (guint i = 0; i < scratch_files->len && !known; i++)
    known = g_str_equal (g_ptr_array_index (scratch_files, i), path);
  if (!known)
    g_ptr_array_add (scratch_files, g_strdup (path));
  return path;
}

void
hart_fuzz_write_file (const char *path, const uint8_t * data, size_t size)
{
  FILE *f = fopen (path, "wb");

  if (f == NULL || (size > 0 && fwrite (data, 1, size, f) != size)
      || fclose (f) != 0) {
    perror (path);
    abort ();
  }
}

char *
hart_fuzz_fixture_path (const char *rel)
{
  const char *root = g_getenv ("HART_FIXTURES");

  return g_build_filename (root != NULL ? root : HART_FUZZ_FIXTURES, rel, NULL);
}

void
hart_fuzz_copy_fixture (const char *rel, const char *path)
{
  char *src = hart_fuzz_fixture_path (rel);
  char *contents = NULL;
  gsize length = 0;
  GError *error = NULL;

  if (!g_file_get_contents (src, &contents, &length, &error)) {
    fprintf (stderr, "hart-fuzz: %s\n", error->message);
    abort ();
  }
  hart_fuzz_write_file (path, (const uint8_t *) contents, length);
  g_free (contents);
  g_free (src);
}

guint
hart_fuzz_read_checkpoint (const char *path)
{
  GError *error = NULL;
  HartCheckpoint *ckpt = hart_checkpoint_open (path, &error);
  guint n_read = 0;

  if (ckpt == NULL) {
    g_clear_error (&error);
    return 0;
  }
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *info = hart_checkpoint_tensor (ckpt, i);
    /* one extra byte: a zero-size tensor still gets a real buffer */
    guint8 *buf = g_malloc (info->n_bytes + 1);

    if (hart_checkpoint_read_raw (ckpt, info, buf, &error))
      n_read++;
    g_clear_error (&error);
    g_free (buf);

    if (info->n_elements <= (1u << 20)) {
      float *f32 = g_new (float, info->n_elements + 1);
      if (!hart_checkpoint_read_f32 (ckpt, info->name, info->ndim,
              info->shape, f32, &error))
        g_clear_error (&error);
      g_free (f32);
    }
    /* a lookup by name must find the same info */
    if (hart_checkpoint_lookup (ckpt, info->name) != info)
      abort ();
  }
  hart_checkpoint_free (ckpt);
  return n_read;
}
