/* gst-hart — tests of the VAE decoder (hart/decoder.c)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Goldens: tests/fixtures/goldens/decoder-{tiny,tiny2}.safetensors, made by
 * tests/reference/make_module_goldens.py (float64 PyTorch, docs/algorithm.md §9) on the
 * tiny fixtures.  tiny: 8 × 16 × 16 latent, 4 levels → 128 × 128;
 * tiny2: batch 2, non-square 4 × 12 × 10 latent, 3 levels → 48 × 40.
 * The structure (widths, which blocks have shortcuts) comes from each
 * fixture's config, never from this file.
 */
#include <string.h>
#include <math.h>
#include <glib/gstdio.h>

#include "hart/checkpoint.h"
#include "hart/config.h"
#include "hart/decoder.h"
#include "hart/error.h"
#include "hart/safetensors-write.h"
#include "kernels/backend.h"

static const char *fixtures;

/* fp32 against a float64 reference through ~25 conv / norm / attention
 * layers: fp32 rounding of ~1e-7 per layer accumulates to a few 1e-6 on the
 * [-1, 1] outputs (2.5e-6 measured with OpenBLAS 0.3.21); 5e-5 absolute
 * leaves room for other summation orders (BLAS kernels, threads), while an
 * indexing, layout or scale bug gives errors of order 0.1 – 1. */
#define DECODER_TOLERANCE 5e-5

/* The backend under test: "cpu", or HART_TEST_BACKEND (e.g. "cuda"). */
static const char *
test_backend (void)
{
  const char *name = g_getenv ("HART_TEST_BACKEND");
  return name != NULL ? name : "cpu";
}

/* Device copy of host data[n]. */
static float *
to_device (HartBackend * be, const float *data, gsize n)
{
  GError *error = NULL;
  float *dev = be->ops->alloc (be, n * sizeof (float), &error);
  g_assert_no_error (error);
  be->ops->upload (be, dev, data, n * sizeof (float));
  return dev;
}

typedef struct
{
  HartBackend *be;
  HartAutoencoderConfig cfg;
  HartCheckpoint *ckpt;
} Fixture;

static char *
tokenizer_dir (const char *config)
{
  return g_build_filename (fixtures, config, "hart-0.7b-1024px", "tokenizer",
      NULL);
}

static void
fixture_open (Fixture * f, const char *config)
{
  GError *error = NULL;
  char *dir = tokenizer_dir (config);
  char *cfg_path = g_build_filename (dir, "config.json", NULL);
  char *weights = g_build_filename (dir, "model.safetensors", NULL);

  f->be = hart_backend_new (test_backend (), 0, 0, &error);
  g_assert_no_error (error);
  g_assert_true (hart_autoencoder_config_load (cfg_path, &f->cfg, &error));
  g_assert_no_error (error);
  f->ckpt = hart_checkpoint_open (weights, &error);
  g_assert_no_error (error);
  g_free (dir);
  g_free (cfg_path);
  g_free (weights);
}

static void
fixture_close (Fixture * f)
{
  hart_checkpoint_free (f->ckpt);
  hart_backend_free (f->be);
}

/* Reads a whole golden tensor; shape into shape[0..ndim). */
static float *
read_golden (HartCheckpoint * golden, const char *name, int *ndim,
    int64_t * shape)
{
  GError *error = NULL;
  const HartTensorInfo *info = hart_checkpoint_lookup (golden, name);
  float *data;

  g_assert_nonnull (info);
  *ndim = info->ndim;
  memcpy (shape, info->shape, sizeof (int64_t) * info->ndim);
  data = g_new (float, info->n_elements);
  g_assert_true (hart_checkpoint_read_f32 (golden, name, info->ndim,
          info->shape, data, &error));
  g_assert_no_error (error);
  return data;
}

static void
check_golden (const char *config)
{
  GError *error = NULL;
  Fixture f;
  HartDecoder *dec;
  char *golden_path;
  HartCheckpoint *golden;
  float *latent, *want, *got, *latent_dev, *image_dev;
  int64_t lshape[8], ishape[8];
  int lnd, ind;
  gsize n_image;
  double max_err = 0.0;

  fixture_open (&f, config);
  dec = hart_decoder_load (f.be, f.ckpt, &f.cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (dec);
  g_assert_cmpint (hart_decoder_get_latent_channels (dec), ==,
      f.cfg.z_channels);

  golden_path = g_strdup_printf ("%s/goldens/decoder-%s.safetensors",
      fixtures, config);
  golden = hart_checkpoint_open (golden_path, &error);
  g_assert_no_error (error);
  latent = read_golden (golden, "latent", &lnd, lshape);
  want = read_golden (golden, "image", &ind, ishape);
  g_assert_cmpint (lnd, ==, 4);
  g_assert_cmpint (ind, ==, 4);
  g_assert_cmpint (lshape[1], ==, f.cfg.z_channels);
  g_assert_cmpint (ishape[2], ==, lshape[2] * f.cfg.downsample);
  g_assert_cmpint (ishape[3], ==, lshape[3] * f.cfg.downsample);

  n_image = (gsize) ishape[0] * ishape[1] * ishape[2] * ishape[3];
  got = g_new (float, n_image);
  latent_dev = to_device (f.be, latent,
      (gsize) lshape[0] * lshape[1] * lshape[2] * lshape[3]);
  image_dev = f.be->ops->alloc (f.be, n_image * sizeof (float), &error);
  g_assert_no_error (error);
  g_assert_true (hart_decoder_forward (dec, latent_dev, (int) lshape[0],
          (int) lshape[2], (int) lshape[3], image_dev, NULL, &error));
  g_assert_no_error (error);
  f.be->ops->download (f.be, got, image_dev, n_image * sizeof (float));

  /* In a caller's workspace (how a generation decodes, in its idle KV
   * cache), full of NaN beforehand: the same bytes.  One float short of the
   * size it needs, it allocates its own as before. */
  {
    gsize ws_n = hart_decoder_workspace_floats (dec, (int) lshape[2],
        (int) lshape[3]);
    float *ws = f.be->ops->alloc (f.be, ws_n * sizeof (float), &error);
    float *again = g_new (float, n_image);

    g_assert_no_error (error);
    for (int short_by = 0; short_by <= 1; short_by++) {
      f.be->ops->fill (f.be, ws, NAN, ws_n);
      g_assert_true (hart_decoder_forward_in (dec, latent_dev,
              (int) lshape[0], (int) lshape[2], (int) lshape[3], image_dev,
              ws, ws_n - short_by, NULL, &error));
      g_assert_no_error (error);
      f.be->ops->download (f.be, again, image_dev, n_image * sizeof (float));
      g_assert_cmpmem (again, n_image * sizeof (float), got,
          n_image * sizeof (float));
    }
    f.be->ops->free (f.be, ws);
    g_free (again);
  }
  f.be->ops->free (f.be, latent_dev);
  f.be->ops->free (f.be, image_dev);

  for (gsize i = 0; i < n_image; i++) {
    g_assert_true (got[i] >= -1.0f && got[i] <= 1.0f);
    max_err = MAX (max_err, fabs ((double) got[i] - want[i]));
  }
  g_test_message ("decoder %s: %" G_GSIZE_FORMAT
      " values, max abs error %.3g", config, n_image, max_err);
  g_assert_cmpfloat (max_err, <=, DECODER_TOLERANCE);

  g_free (latent);
  g_free (want);
  g_free (got);
  hart_checkpoint_free (golden);
  g_free (golden_path);
  hart_decoder_free (dec);
  fixture_close (&f);
}

static void
test_golden_tiny (void)
{
  check_golden ("tiny");
}

static void
test_golden_tiny2 (void)
{
  check_golden ("tiny2");
}

/* A copy of the decoder tensors of `src` into a temporary file, without
 * tensor `drop` and with tensor `reshape` (if any) stored as a column
 * [n, 1]. */
static char *
write_modified (HartCheckpoint * src, const char *tmpdir, const char *drop,
    const char *reshape)
{
  GError *error = NULL;
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  char *path = g_build_filename (tmpdir, "modified.safetensors", NULL);

  for (guint i = 0; i < hart_checkpoint_n_tensors (src); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (src, i);
    void *data;
    if (!g_str_has_prefix (t->name, "vae.decoder.")
        && !g_str_has_prefix (t->name, "vae.post_quant_conv."))
      continue;
    if (drop != NULL && strcmp (t->name, drop) == 0)
      continue;
    data = g_malloc (MAX (t->n_bytes, 1));
    g_assert_true (hart_checkpoint_read_raw (src, t, data, &error));
    g_assert_no_error (error);
    if (reshape != NULL && strcmp (t->name, reshape) == 0) {
      const int64_t column[2] = { (int64_t) t->n_elements, 1 };
      hart_safetensors_writer_add (w, t->name, t->dtype, 2, column, data);
    } else {
      hart_safetensors_writer_add (w, t->name, t->dtype, t->ndim, t->shape,
          data);
    }
    g_free (data);
  }
  g_assert_true (hart_safetensors_writer_save (w, path, &error));
  g_assert_no_error (error);
  hart_safetensors_writer_free (w);
  return path;
}

static void
check_load_fails (const char *drop, const char *reshape, int code)
{
  GError *error = NULL;
  Fixture f;
  char *tmpdir = g_dir_make_tmp ("hart-decoder-XXXXXX", &error);
  char *path;
  HartCheckpoint *ckpt;
  HartDecoder *dec;
  const char *name = drop ? drop : reshape;

  g_assert_no_error (error);
  fixture_open (&f, "tiny");
  path = write_modified (f.ckpt, tmpdir, drop, reshape);
  ckpt = hart_checkpoint_open (path, &error);
  g_assert_no_error (error);

  dec = hart_decoder_load (f.be, ckpt, &f.cfg, &error);
  g_assert_null (dec);
  g_assert_error (error, HART_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, "modified.safetensors"));
  g_clear_error (&error);

  hart_checkpoint_free (ckpt);
  g_unlink (path);
  g_rmdir (tmpdir);
  g_free (path);
  g_free (tmpdir);
  fixture_close (&f);
}

static void
test_missing_tensor (void)
{
  Fixture f;
  char *nin = NULL, *attn;

  /* tensors only a config-derived structure knows about: the 1×1 shortcut
   * of the first level whose width differs from the level below it, and
   * the last attention block of the lowest resolution */
  fixture_open (&f, "tiny");
  for (int l = f.cfg.n_levels - 2; l >= 0 && nin == NULL; l--)
    if (f.cfg.ch_mult[l] != f.cfg.ch_mult[l + 1])
      nin = g_strdup_printf ("vae.decoder.up.%d.block.0.nin_shortcut.weight",
          l);
  attn = g_strdup_printf ("vae.decoder.up.%d.attn.2.proj_out.bias",
      f.cfg.n_levels - 1);
  fixture_close (&f);
  g_assert_nonnull (nin);

  check_load_fails (nin, NULL, HART_ERROR_NOT_FOUND);
  check_load_fails (attn, NULL, HART_ERROR_NOT_FOUND);
  check_load_fails ("vae.post_quant_conv.weight", NULL, HART_ERROR_NOT_FOUND);
  check_load_fails ("vae.decoder.norm_out.bias", NULL, HART_ERROR_NOT_FOUND);
  g_free (nin);
  g_free (attn);
}

static void
test_wrong_shape (void)
{
  check_load_fails (NULL, "vae.decoder.mid.attn_1.qkv.weight",
      HART_ERROR_SHAPE);
  check_load_fails (NULL, "vae.decoder.conv_out.bias", HART_ERROR_SHAPE);
}

static void
test_config_mismatch (void)
{
  GError *error = NULL;
  Fixture f;
  HartAutoencoderConfig cfg;
  HartDecoder *dec;

  fixture_open (&f, "tiny");
  /* a wider decoder than the file holds: the first tensor whose shape
   * differs is named */
  cfg = f.cfg;
  cfg.ch = 64;
  dec = hart_decoder_load (f.be, f.ckpt, &cfg, &error);
  g_assert_null (dec);
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_clear_error (&error);

  /* one level more than the file: up.4 is missing */
  cfg = f.cfg;
  cfg.ch_mult[cfg.n_levels] = cfg.ch_mult[cfg.n_levels - 1];
  cfg.n_levels++;
  dec = hart_decoder_load (f.be, f.ckpt, &cfg, &error);
  g_assert_null (dec);
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* GroupNorm(32) needs channels divisible by 32 */
  cfg = f.cfg;
  cfg.ch = 48;
  dec = hart_decoder_load (f.be, f.ckpt, &cfg, &error);
  g_assert_null (dec);
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  fixture_close (&f);
}

static void
test_cancel_and_arguments (void)
{
  GError *error = NULL;
  Fixture f;
  HartDecoder *dec;
  GCancellable *cancel = g_cancellable_new ();
  const int h = 4, w = 4;
  gsize n_latent, n_image;
  float *zeros, *latent, *image;

  fixture_open (&f, "tiny");
  dec = hart_decoder_load (f.be, f.ckpt, &f.cfg, &error);
  g_assert_no_error (error);
  n_latent = (gsize) f.cfg.z_channels * h * w;
  n_image = (gsize) 3 *h * w * f.cfg.downsample * f.cfg.downsample;
  zeros = g_new0 (float, n_latent);
  latent = to_device (f.be, zeros, n_latent);
  image = f.be->ops->alloc (f.be, n_image * sizeof (float), &error);
  g_assert_no_error (error);

  g_cancellable_cancel (cancel);
  g_assert_false (hart_decoder_forward (dec, latent, 1, h, w, image, cancel,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_false (hart_decoder_forward (dec, latent, 0, h, w, image, NULL,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hart_decoder_forward (dec, latent, 1, -3, w, image, NULL,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* a zero latent still decodes (and the same decoder is reusable) */
  g_assert_true (hart_decoder_forward (dec, latent, 1, h, w, image, NULL,
          &error));
  g_assert_no_error (error);

  g_free (zeros);
  f.be->ops->free (f.be, latent);
  f.be->ops->free (f.be, image);
  g_object_unref (cancel);
  hart_decoder_free (dec);
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixtures = g_getenv ("HART_FIXTURES");
  if (fixtures == NULL) {
    g_printerr ("HART_FIXTURES is not set\n");
    return 77;
  }
  g_test_add_func ("/decoder/golden-tiny", test_golden_tiny);
  g_test_add_func ("/decoder/golden-tiny2", test_golden_tiny2);
  g_test_add_func ("/decoder/missing-tensor", test_missing_tensor);
  g_test_add_func ("/decoder/wrong-shape", test_wrong_shape);
  g_test_add_func ("/decoder/config-mismatch", test_config_mismatch);
  g_test_add_func ("/decoder/cancel-and-arguments", test_cancel_and_arguments);
  return g_test_run ();
}
