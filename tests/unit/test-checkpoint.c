/* gst-hart — checkpoint reading on tiny valid files
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fixtures in tests/fixtures/formats/ are written by
 * tests/reference/make_broken.py from closed-form values, recomputed here
 * independently.  Every value below is exactly representable in its stored
 * dtype, so F32 results are compared for equality; the F16/BF16 bit
 * patterns are checked on the raw bytes too, so a converter bug cannot hide
 * behind a matching writer bug.
 */
#include "hart/checkpoint.h"
#include "hart/error.h"
#include "hart/safetensors-write.h"

#include <glib/gstdio.h>
#include <string.h>

static char *formats_dir;

static char *
fixture (const char *name)
{
  return g_build_filename (formats_dir, name, NULL);
}

static HartCheckpoint *
open_fixture (const char *name)
{
  char *path = fixture (name);
  GError *error = NULL;
  HartCheckpoint *ckpt = hart_checkpoint_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ckpt);
  g_free (path);
  return ckpt;
}

/* Reads tensor `name` as F32 (its stored shape) into a new array. */
static float *
read_all (HartCheckpoint * ckpt, const char *name, guint64 * n)
{
  const HartTensorInfo *info = hart_checkpoint_lookup (ckpt, name);
  GError *error = NULL;
  float *values;

  g_assert_nonnull (info);
  values = g_new0 (float, MAX (info->n_elements, 1));
  g_assert_true (hart_checkpoint_read_f32 (ckpt, name, info->ndim,
          info->shape, values, &error));
  g_assert_no_error (error);
  *n = info->n_elements;
  return values;
}

static void
assert_values (HartCheckpoint * ckpt, const char *name, const float *expected,
    guint64 n_expected)
{
  guint64 n;
  float *values = read_all (ckpt, name, &n);

  g_assert_cmpuint (n, ==, n_expected);
  for (guint64 i = 0; i < n; i++) {
    if (values[i] != expected[i])
      g_test_fail_printf ("%s[%" G_GUINT64_FORMAT "] = %g, expected %g", name,
          i, values[i], expected[i]);
  }
  g_free (values);
}

static void
assert_info (HartCheckpoint * ckpt, const char *name, HartDType dtype,
    int ndim, const int64_t * shape)
{
  const HartTensorInfo *info = hart_checkpoint_lookup (ckpt, name);
  guint64 n = 1;

  g_assert_nonnull (info);
  g_assert_cmpstr (info->name, ==, name);
  g_assert_cmpint (info->dtype, ==, dtype);
  g_assert_cmpint (info->ndim, ==, ndim);
  for (int d = 0; d < ndim; d++) {
    g_assert_cmpint (info->shape[d], ==, shape[d]);
    n *= shape[d];
  }
  g_assert_cmpuint (info->n_elements, ==, n);
  g_assert_cmpuint (info->n_bytes, ==, n * hart_dtype_size (dtype));
}

/* The closed forms of make_broken.py. */
static const float f32_values[6] = { -1.25f, -0.75f, -0.25f, 0.25f, 0.75f,
  1.25f
};
static const float f16_values[4] = { -0.375f, -0.125f, 0.125f, 0.375f };
static const float bf16_values[4] = { -1.5f, -0.75f, 0.0f, 0.75f };
static const float i64_values[3] = { -3.0f, 7.0f, 1099511627776.0f };
static const float bool_values[4] = { 1, 0, 1, 1 };

static void
check_dtypes_content (HartCheckpoint * ckpt)
{
  static const int64_t shape_23[] = { 2, 3 }, shape_4[] = { 4 },
      shape_22[] = { 2, 2 }, shape_3[] = { 3 };
  const float scalar = 42.0f;

  assert_info (ckpt, "f32", HART_DTYPE_F32, 2, shape_23);
  assert_info (ckpt, "f16", HART_DTYPE_F16, 1, shape_4);
  assert_info (ckpt, "bf16", HART_DTYPE_BF16, 2, shape_22);
  assert_info (ckpt, "i64", HART_DTYPE_I64, 1, shape_3);
  assert_info (ckpt, "bool", HART_DTYPE_BOOL, 1, shape_4);
  assert_info (ckpt, "scalar", HART_DTYPE_F32, 0, NULL);

  assert_values (ckpt, "f32", f32_values, 6);
  assert_values (ckpt, "f16", f16_values, 4);
  assert_values (ckpt, "bf16", bf16_values, 4);
  assert_values (ckpt, "i64", i64_values, 3);
  assert_values (ckpt, "bool", bool_values, 4);
  assert_values (ckpt, "scalar", &scalar, 1);
}

/* Raw bytes, against bit patterns worked out by hand. */
static void
check_dtypes_raw (HartCheckpoint * ckpt)
{
  static const guint16 f16_bits[4] = { 0xb600, 0xb000, 0x3000, 0x3600 };
  static const guint16 bf16_bits[4] = { 0xbfc0, 0xbf40, 0x0000, 0x3f40 };
  static const gint64 i64[3] = { -3, 7, G_GINT64_CONSTANT (1) << 40 };
  static const guint8 flags[4] = { 1, 0, 1, 1 };
  GError *error = NULL;
  guint16 half[4];
  gint64 longs[3];
  guint8 bytes[4];

  g_assert_true (hart_checkpoint_read_raw (ckpt,
          hart_checkpoint_lookup (ckpt, "f16"), half, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 4; i++)
    g_assert_cmphex (GUINT16_FROM_LE (half[i]), ==, f16_bits[i]);
  g_assert_true (hart_checkpoint_read_raw (ckpt,
          hart_checkpoint_lookup (ckpt, "bf16"), half, &error));
  for (int i = 0; i < 4; i++)
    g_assert_cmphex (GUINT16_FROM_LE (half[i]), ==, bf16_bits[i]);
  g_assert_true (hart_checkpoint_read_raw (ckpt,
          hart_checkpoint_lookup (ckpt, "i64"), longs, &error));
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (GINT64_FROM_LE (longs[i]), ==, i64[i]);
  g_assert_true (hart_checkpoint_read_raw (ckpt,
          hart_checkpoint_lookup (ckpt, "bool"), bytes, &error));
  g_assert_cmpmem (bytes, 4, flags, 4);
  g_assert_no_error (error);
}

static void
test_safetensors_dtypes (void)
{
  static const char *const sorted[] = { "bf16", "bool", "empty", "f16", "f32",
    "i64", "scalar"
  };
  static const int64_t empty_shape[] = { 0, 3 };
  HartCheckpoint *ckpt = open_fixture ("dtypes.safetensors");
  char *path = fixture ("dtypes.safetensors");

  g_assert_cmpint (hart_checkpoint_get_format (ckpt), ==,
      HART_CHECKPOINT_SAFETENSORS);
  g_assert_cmpstr (hart_checkpoint_get_path (ckpt), ==, path);
  /* "__metadata__" is not a tensor; the order is by name. */
  g_assert_cmpuint (hart_checkpoint_n_tensors (ckpt), ==,
      G_N_ELEMENTS (sorted));
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++) {
    const HartTensorInfo *info = hart_checkpoint_tensor (ckpt, i);

    g_assert_cmpstr (info->name, ==, sorted[i]);
    g_assert_cmpstr (info->file, ==, path);
    g_assert_true (hart_checkpoint_lookup (ckpt, sorted[i]) == info);
  }
  check_dtypes_content (ckpt);
  check_dtypes_raw (ckpt);

  /* A zero-element tensor reads as nothing, successfully. */
  assert_info (ckpt, "empty", HART_DTYPE_F32, 2, empty_shape);
  g_assert_true (hart_checkpoint_read_f32 (ckpt, "empty", 2, empty_shape,
          NULL, NULL));

  g_free (path);
  hart_checkpoint_free (ckpt);
}

static void
test_read_errors (void)
{
  static const int64_t transposed[] = { 3, 2 }, flat[] = { 6 };
  HartCheckpoint *ckpt = open_fixture ("dtypes.safetensors");
  HartCheckpoint *other = open_fixture ("handmade.bin");
  GError *error = NULL;
  float out[6];

  g_assert_null (hart_checkpoint_lookup (ckpt, "missing.weight"));

  g_assert_false (hart_checkpoint_read_f32 (ckpt, "missing.weight", 1, flat,
          out, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "\"missing.weight\""));
  g_assert_nonnull (strstr (error->message, "dtypes.safetensors"));
  g_clear_error (&error);

  /* Same element count, other shape: still refused. */
  g_assert_false (hart_checkpoint_read_f32 (ckpt, "f32", 2, transposed, out,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "dtypes.safetensors"));
  g_assert_nonnull (strstr (error->message,
          "tensor \"f32\" has shape [2, 3], expected [3, 2]"));
  g_clear_error (&error);

  g_assert_false (hart_checkpoint_read_f32 (ckpt, "f32", 1, flat, out, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_clear_error (&error);

  /* An info from another checkpoint is not read through this one. */
  g_assert_false (hart_checkpoint_read_raw (ckpt,
          hart_checkpoint_lookup (other, "f32"), out, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hart_checkpoint_free (other);
  hart_checkpoint_free (ckpt);
}

static void
test_open_errors (void)
{
  GError *error = NULL;
  char *missing = fixture ("no-such-file.safetensors");

  g_assert_null (hart_checkpoint_open (missing, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_null (hart_checkpoint_open (formats_dir, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_free (missing);
}

static void
test_sharded (void)
{
  static const int64_t a_shape[] = { 2, 2 }, bias_shape[] = { 3 },
      weight_shape[] = { 1, 3 };
  static const float a_values[] = { 1, 2, 3, 4 }, bias_values[] = { 5, 6, 7 },
      weight_values[] = { 0.5f, -1.0f, 2.0f };
  HartCheckpoint *ckpt = open_fixture ("sharded/model.safetensors.index.json");

  g_assert_cmpint (hart_checkpoint_get_format (ckpt), ==,
      HART_CHECKPOINT_SAFETENSORS_SHARDED);
  g_assert_cmpuint (hart_checkpoint_n_tensors (ckpt), ==, 3);
  g_assert_cmpstr (hart_checkpoint_tensor (ckpt, 0)->name, ==, "a.weight");
  g_assert_cmpstr (hart_checkpoint_tensor (ckpt, 1)->name, ==, "b.bias");
  g_assert_cmpstr (hart_checkpoint_tensor (ckpt, 2)->name, ==, "b.weight");

  assert_info (ckpt, "a.weight", HART_DTYPE_F32, 2, a_shape);
  assert_info (ckpt, "b.bias", HART_DTYPE_F32, 1, bias_shape);
  assert_info (ckpt, "b.weight", HART_DTYPE_BF16, 2, weight_shape);
  /* Each tensor says which shard holds it. */
  g_assert_true (g_str_has_suffix (hart_checkpoint_lookup (ckpt,
              "a.weight")->file, "model-00001-of-00002.safetensors"));
  g_assert_true (g_str_has_suffix (hart_checkpoint_lookup (ckpt,
              "b.weight")->file, "model-00002-of-00002.safetensors"));

  assert_values (ckpt, "a.weight", a_values, 4);
  assert_values (ckpt, "b.bias", bias_values, 3);
  assert_values (ckpt, "b.weight", weight_values, 3);
  hart_checkpoint_free (ckpt);
}

/* kB of the file pages this process has mapped in (RssFile), -1 where
 * /proc does not say */
static gint64
rss_file_kb (void)
{
  char *status = NULL, *line;
  gint64 kb = -1;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "\nRssFile:");
  if (line != NULL)
    kb = g_ascii_strtoll (line + strlen ("\nRssFile:"), NULL, 10);
  g_free (status);
  return kb;
}

/* A mapped tensor's pages leave the process once it is read (both the
 * plain copy and the conversion): loading a model must not keep the
 * checkpoint resident beside the copy made of it.  Used in place, they
 * leave when given back. */
static void
test_read_releases_pages (void)
{
  const gsize n = 16 * 1024 * 1024;     /* 64 MiB of F32, 32 MiB of BF16 */
  const int64_t shape[] = { (int64_t) n };
  char *dir = g_dir_make_tmp ("hart-ckpt-XXXXXX", NULL);
  char *path = g_build_filename (dir, "big.safetensors", NULL);
  float *values = g_new (float, n), *out = g_new (float, n);
  uint16_t *halves = g_new (uint16_t, n);
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  GError *error = NULL;
  HartCheckpoint *ckpt;
  gint64 before, after;

  for (gsize i = 0; i < n; i++) {
    values[i] = (float) (i % 1000);
    halves[i] = 0x3f80;         /* 1.0 */
  }
  hart_safetensors_writer_add (w, "f32", HART_DTYPE_F32, 1, shape, values);
  hart_safetensors_writer_add (w, "bf16", HART_DTYPE_BF16, 1, shape, halves);
  g_assert_true (hart_safetensors_writer_save (w, path, &error));
  g_assert_no_error (error);
  hart_safetensors_writer_free (w);
  ckpt = hart_checkpoint_open (path, &error);
  g_assert_no_error (error);

  if (rss_file_kb () < 0) {
    g_test_skip ("no RssFile in /proc/self/status");
  } else {
    /* the copy: 64 MiB read, less than 4 MiB left mapped in */
    memset (out, 0, n * sizeof (float));
    before = rss_file_kb ();
    g_assert_true (hart_checkpoint_read_raw (ckpt,
            hart_checkpoint_lookup (ckpt, "f32"), out, &error));
    after = rss_file_kb ();
    g_test_message ("read_raw: RssFile %" G_GINT64_FORMAT " → %"
        G_GINT64_FORMAT " kB", before, after);
    g_assert_cmpint (after - before, <, 4096);
    g_assert_cmpfloat (out[n - 1], ==, values[n - 1]);
    /* the conversion: 32 MiB of bf16 read */
    before = rss_file_kb ();
    g_assert_true (hart_checkpoint_read_f32 (ckpt, "bf16", 1, shape, out,
            &error));
    after = rss_file_kb ();
    g_test_message ("read_f32: RssFile %" G_GINT64_FORMAT " → %"
        G_GINT64_FORMAT " kB", before, after);
    g_assert_cmpint (after - before, <, 4096);
    g_assert_cmpfloat (out[n - 1], ==, 1.0f);
    /* rows, as the text encoder reads its embedding: 16 MiB of them */
    before = rss_file_kb ();
    for (int i = 0; i < 256; i++)
      g_assert_true (hart_checkpoint_read_rows (ckpt,
              hart_checkpoint_lookup (ckpt, "f32"), (int64_t) i * 65536 + 7,
              16384, out, &error));
    after = rss_file_kb ();
    g_test_message ("read_rows: RssFile %" G_GINT64_FORMAT " → %"
        G_GINT64_FORMAT " kB", before, after);
    g_assert_cmpint (after - before, <, 4096);
    g_assert_cmpfloat (out[16383], ==, values[255 * 65536 + 7 + 16383]);
    /* read again: the pages come back from the file */
    g_assert_true (hart_checkpoint_read_f32 (ckpt, "f32", 1, shape, out,
            &error));
    g_assert_cmpfloat (out[n - 1], ==, values[n - 1]);
  }
  g_assert_no_error (error);

  if (rss_file_kb () >= 0) {
    /* in place, as the text encoder uses its matrices: the pages stay
     * mapped in while the bytes are used, and go once given back */
    const HartTensorInfo *t = hart_checkpoint_lookup (ckpt, "f32");
    const float *in_place = hart_checkpoint_mapped_bytes (ckpt, t, &error);
    gint64 used;

    g_assert_no_error (error);
    g_assert_nonnull (in_place);
    before = rss_file_kb ();
    g_assert_cmpmem (in_place, n * sizeof (float), values, n * sizeof (float));
    used = rss_file_kb ();
    hart_checkpoint_release_pages (ckpt, t);
    after = rss_file_kb ();
    g_test_message ("mapped_bytes: RssFile %" G_GINT64_FORMAT " → %"
        G_GINT64_FORMAT " → %" G_GINT64_FORMAT " kB", before, used, after);
    g_assert_cmpint (used - before, >, 60 * 1024);
    g_assert_cmpint (after - before, <, 4096);
    /* used again after: the same bytes, from the page cache */
    g_assert_cmpfloat (in_place[n - 1], ==, values[n - 1]);
    hart_checkpoint_release_pages (ckpt, t);
  }

  hart_checkpoint_free (ckpt);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (values);
  g_free (halves);
  g_free (out);
}

/* Rows of a tensor along its first dimension, bounds checked; archives
 * refuse. */
static void
test_read_rows (void)
{
  static const int64_t shape[] = { 5, 3 };
  char *dir = g_dir_make_tmp ("hart-ckpt-XXXXXX", NULL);
  char *path = g_build_filename (dir, "rows.safetensors", NULL);
  float values[15], got[15];
  uint16_t halves[15], got_halves[15];
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  GError *error = NULL;
  HartCheckpoint *ckpt, *zip;
  const HartTensorInfo *f, *h;

  for (int i = 0; i < 15; i++) {
    values[i] = (float) i;
    halves[i] = (uint16_t) (0x3f80 + i);
  }
  hart_safetensors_writer_add (w, "f", HART_DTYPE_F32, 2, shape, values);
  hart_safetensors_writer_add (w, "h", HART_DTYPE_BF16, 2, shape, halves);
  g_assert_true (hart_safetensors_writer_save (w, path, &error));
  hart_safetensors_writer_free (w);
  ckpt = hart_checkpoint_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (hart_checkpoint_is_mapped (ckpt));
  f = hart_checkpoint_lookup (ckpt, "f");
  h = hart_checkpoint_lookup (ckpt, "h");

  g_assert_true (hart_checkpoint_read_rows (ckpt, f, 1, 3, got, &error));
  g_assert_cmpmem (got, 9 * sizeof (float), values + 3, 9 * sizeof (float));
  g_assert_true (hart_checkpoint_read_rows (ckpt, h, 4, 1, got_halves, &error));
  g_assert_cmpmem (got_halves, 3 * 2, halves + 12, 3 * 2);
  g_assert_true (hart_checkpoint_read_rows (ckpt, f, 0, 5, got, &error));
  g_assert_cmpmem (got, sizeof values, values, sizeof values);
  g_assert_true (hart_checkpoint_read_rows (ckpt, f, 5, 0, got, &error));
  g_assert_no_error (error);

  /* outside the tensor */
  g_assert_false (hart_checkpoint_read_rows (ckpt, f, 4, 2, got, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "rows 4 … 5 asked, it has 5"));
  g_clear_error (&error);
  g_assert_false (hart_checkpoint_read_rows (ckpt, f, -1, 1, got, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hart_checkpoint_read_rows (ckpt, f, 0, G_MAXINT64, got,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* an archive reads whole tensors only */
  zip = open_fixture ("handmade.bin");
  g_assert_false (hart_checkpoint_is_mapped (zip));
  g_assert_false (hart_checkpoint_read_rows (zip,
          hart_checkpoint_lookup (zip, "f32"), 0, 1, got, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  hart_checkpoint_free (zip);
  hart_checkpoint_free (ckpt);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

/* A real torch.save() file: same tensors as dtypes.safetensors, plus a
 * view at a storage offset and a submodule. */
static void
test_torch_zip (void)
{
  static const char *const sorted[] = { "bf16", "big", "bool", "f16", "f32",
    "i64", "row", "scalar", "sub.bias", "sub.weight"
  };
  static const char *const shared[] = { "f32", "f16", "bf16", "i64", "bool",
    "scalar"
  };
  static const float row[] = { 4, 5, 6, 7 }, sub_weight[] = { 1, 2, 3, 4 },
      sub_bias[] = { 0.5f, -0.5f };
  HartCheckpoint *ckpt = open_fixture ("torch_state.bin");
  HartCheckpoint *reference = open_fixture ("dtypes.safetensors");

  g_assert_cmpint (hart_checkpoint_get_format (ckpt), ==,
      HART_CHECKPOINT_TORCH_ZIP);
  {
    /* an archive's tensors are read, never used in place */
    GError *error = NULL;
    g_assert_null (hart_checkpoint_mapped_bytes (ckpt,
            hart_checkpoint_lookup (ckpt, "f32"), &error));
    g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
    g_clear_error (&error);
    /* and giving their pages back does nothing */
    hart_checkpoint_release_pages (ckpt, hart_checkpoint_lookup (ckpt, "f32"));
  }
  g_assert_cmpuint (hart_checkpoint_n_tensors (ckpt), ==,
      G_N_ELEMENTS (sorted));
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    g_assert_cmpstr (hart_checkpoint_tensor (ckpt, i)->name, ==, sorted[i]);

  check_dtypes_content (ckpt);
  check_dtypes_raw (ckpt);

  /* Same dtype, shape and values as the safetensors file. */
  for (guint i = 0; i < G_N_ELEMENTS (shared); i++) {
    const HartTensorInfo *a = hart_checkpoint_lookup (ckpt, shared[i]);
    const HartTensorInfo *b = hart_checkpoint_lookup (reference, shared[i]);
    guint64 na, nb;
    float *va, *vb;

    g_assert_cmpint (a->dtype, ==, b->dtype);
    g_assert_cmpint (a->ndim, ==, b->ndim);
    g_assert_cmpmem (a->shape, a->ndim * sizeof (int64_t), b->shape,
        b->ndim * sizeof (int64_t));
    va = read_all (ckpt, shared[i], &na);
    vb = read_all (reference, shared[i], &nb);
    g_assert_cmpmem (va, na * sizeof (float), vb, nb * sizeof (float));
    g_free (va);
    g_free (vb);
  }

  /* "row" = big[1]: the storage of "big" read from element 4. */
  assert_values (ckpt, "row", row, 4);
  assert_values (ckpt, "sub.weight", sub_weight, 4);
  assert_values (ckpt, "sub.bias", sub_bias, 2);

  hart_checkpoint_free (reference);
  hart_checkpoint_free (ckpt);
}

/* The hand-assembled zip the broken .bin files are derived from must be
 * accepted, so that each of those fails for its own reason. */
static void
test_handmade_zip (void)
{
  static const float row[] = { 4, 5, 6, 7 };
  HartCheckpoint *ckpt = open_fixture ("handmade.bin");

  g_assert_cmpuint (hart_checkpoint_n_tensors (ckpt), ==, 3);
  assert_values (ckpt, "f32", f32_values, 6);
  assert_values (ckpt, "i64", i64_values, 3);
  assert_values (ckpt, "row", row, 4);
  hart_checkpoint_free (ckpt);
}

static void
touch (const char *dir, const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
  g_free (path);
}

static void
remove_file (const char *dir, const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_free (path);
}

static void
assert_found (const char *dir, const char *name)
{
  GError *error = NULL;
  char *found = hart_checkpoint_find_in_dir (dir, &error);
  char *expected = g_build_filename (dir, name, NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, expected);
  g_free (found);
  g_free (expected);
}

static void
test_find_in_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("hart-ckpt-XXXXXX", &error);
  char *gone;

  g_assert_no_error (error);

  /* Empty folder: the error names the folder and the names tried. */
  g_assert_null (hart_checkpoint_find_in_dir (dir, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_nonnull (strstr (error->message, "model.safetensors"));
  g_assert_nonnull (strstr (error->message, "pytorch_model.bin"));
  g_clear_error (&error);

  touch (dir, "pytorch_model.bin");
  assert_found (dir, "pytorch_model.bin");
  /* A sharded .bin index takes precedence over pytorch_model.bin and is
   * refused. */
  touch (dir, "pytorch_model.bin.index.json");
  g_assert_null (hart_checkpoint_find_in_dir (dir, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "pytorch_model.bin.index.json"));
  g_clear_error (&error);
  touch (dir, "model.safetensors");
  assert_found (dir, "model.safetensors");
  touch (dir, "model.safetensors.index.json");
  assert_found (dir, "model.safetensors.index.json");

  remove_file (dir, "model.safetensors.index.json");
  remove_file (dir, "model.safetensors");
  remove_file (dir, "pytorch_model.bin.index.json");
  remove_file (dir, "pytorch_model.bin");
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  gone = g_build_filename (dir, "gone", NULL);
  g_assert_null (hart_checkpoint_find_in_dir (gone, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, gone));
  g_clear_error (&error);
  g_free (gone);
  g_free (dir);
}

static void
test_shape_to_string (void)
{
  static const int64_t shape[] = { 4096, 32 }, one[] = { 7 };
  char buf[64], tiny[6];

  g_assert_cmpstr (hart_shape_to_string (2, shape, buf, sizeof buf), ==,
      "[4096, 32]");
  g_assert_cmpstr (hart_shape_to_string (1, one, buf, sizeof buf), ==, "[7]");
  g_assert_cmpstr (hart_shape_to_string (0, NULL, buf, sizeof buf), ==, "[]");
  /* Truncated, still terminated. */
  g_assert_cmpstr (hart_shape_to_string (2, shape, tiny, sizeof tiny), ==,
      "[4096");
}

int
main (int argc, char **argv)
{
  const char *fixtures;
  int result;

  g_test_init (&argc, &argv, NULL);
  fixtures = g_getenv ("HART_FIXTURES");
  if (fixtures == NULL) {
    g_printerr ("HART_FIXTURES is not set\n");
    return 77;
  }
  formats_dir = g_build_filename (fixtures, "formats", NULL);

  g_test_add_func ("/checkpoint/safetensors/dtypes", test_safetensors_dtypes);
  g_test_add_func ("/checkpoint/read-errors", test_read_errors);
  g_test_add_func ("/checkpoint/open-errors", test_open_errors);
  g_test_add_func ("/checkpoint/safetensors/sharded", test_sharded);
  g_test_add_func ("/checkpoint/read-rows", test_read_rows);
  g_test_add_func ("/checkpoint/read-releases-pages", test_read_releases_pages);
  g_test_add_func ("/checkpoint/torch-zip/torch-save", test_torch_zip);
  g_test_add_func ("/checkpoint/torch-zip/handmade", test_handmade_zip);
  g_test_add_func ("/checkpoint/find-in-dir", test_find_in_dir);
  g_test_add_func ("/checkpoint/shape-to-string", test_shape_to_string);

  result = g_test_run ();
  g_free (formats_dir);
  return result;
}
